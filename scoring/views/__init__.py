"""Views of the rating workflow (达标创星), one module per area, each with its own ``urlpatterns``."""
