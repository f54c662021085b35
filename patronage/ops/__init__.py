"""Running Patronage in production: request ids and structured logs, health and readiness
probes, backups and restores."""
