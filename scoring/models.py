"""Ratings, dashboards and exports (later issues)."""
