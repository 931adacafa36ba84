"""Views: findings. Each module declares its own urlpatterns; campaigns/urls.py joins them."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
