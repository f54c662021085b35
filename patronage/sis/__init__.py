"""Student-information-system imports, profiles, jobs and reports (seed 002)."""
