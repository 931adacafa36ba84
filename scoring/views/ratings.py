"""Views: one organisation's rating (placeholder until the ratings pages land)."""

from django.http import HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from branches.access import AUTHENTICATED, AuthedHttpRequest, access


@require_GET
@access(AUTHENTICATED)
def rating_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(status=404)


urlpatterns: list[URLPattern] = [path("r/<int:pk>/", rating_detail, name="rating")]
