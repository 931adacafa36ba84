"""Forms of the campaign workflow, one module per sub-domain."""
