"""The benchmark's URLconf: the whole product plus a hello-world reference view (P11).

Only `config.settings.bench` points ROOT_URLCONF here; the product's URLconf
(config.urls, checked by tests/test_url_policies.py) never contains the bench URL.
The hello view carries the same access policy as the checklist page, so both pay
for the same middleware stack, session load and login check; the difference between
them is the page's own work.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from branches.access import AUTHENTICATED, access


@access(AUTHENTICATED)
def bench_hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/hello/", bench_hello, name="bench_hello"),
    path("", include("config.urls")),
]

handler403 = "django.views.defaults.permission_denied"
handler404 = "django.views.defaults.page_not_found"
