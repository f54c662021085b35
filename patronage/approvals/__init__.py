"""Role requests, approvals, privacy forms, sandbox training, separations and yearly
confidentiality acknowledgements (seeds 000, 001, 003)."""
