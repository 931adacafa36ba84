"""HTTP for the campaign workflow, one module per sub-domain, each with its own urlpatterns."""
