"""Legal-process register, personal-data export, retention and anonymisation (seeds 000, 002)."""
