"""Things every layer shares: the error hierarchy, settings, hashing."""
