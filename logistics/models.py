"""Models of the logistics app (filled from a later issue on)."""
