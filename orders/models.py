"""Models of the orders app (filled from a later issue on)."""
