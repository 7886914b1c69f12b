"""Models of the farms app (filled from a later issue on)."""
