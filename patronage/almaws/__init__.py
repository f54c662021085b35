"""The Alma-compatible Users REST API at /almaws/v1 (a translation layer over accounts,
access and circulation: no business rule lives here)."""
