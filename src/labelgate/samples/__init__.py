"""Generated sample data with known truth (no downloads)."""
