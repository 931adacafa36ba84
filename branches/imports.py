"""Organisation import from Excel (domain.md §12). Placeholder until implemented."""
