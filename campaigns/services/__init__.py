"""Every write of the campaign workflow, split by sub-domain (entries, evidence, publishing, ...)."""
