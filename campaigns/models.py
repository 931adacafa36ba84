"""The annual campaign workflow (later issues)."""
