"""Helpers shared by the transforms (not registered, not part of the public API)."""
