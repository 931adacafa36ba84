"""R2 and R5 over the whole URL inventory.

Every URL's view must carry an access policy from branches.access, and every URL name
must appear in tests/access_matrix.py with at least one case that refuses somebody
(or, for public URLs, refuses an unsafe method). Adding a URL without both fails here.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from branches.access import REGISTRY
from tests.access_matrix import MATRIX


def _walk(patterns, namespace: str = "", prefix: str = ""):  # type: ignore[no-untyped-def]
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or ""
            full_ns = f"{namespace}:{ns}".strip(":") if ns else namespace
            yield from _walk(p.url_patterns, full_ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}".strip(":") if p.name else ""
            yield namespace, name, prefix + str(p.pattern), p.callback


def _app_urls():  # type: ignore[no-untyped-def]
    # The Django admin is one policy (superusers only), checked by its own test below.
    return [
        (name, route, cb)
        for ns, name, route, cb in _walk(get_resolver().url_patterns)
        if ns.split(":")[0] != "admin"
    ]


def test_every_url_has_a_name() -> None:
    unnamed = [route for name, route, _ in _app_urls() if not name]
    assert unnamed == []


def test_every_url_declares_a_registered_access_policy() -> None:
    missing = [name for name, _, cb in _app_urls() if getattr(cb, "access_policy", None) is None]
    assert missing == [], f"URLs without an access policy: {missing}"
    unknown = [name for name, _, cb in _app_urls() if cb.access_policy.name not in REGISTRY]
    assert unknown == []


def test_every_url_has_a_refusal_case_in_the_matrix() -> None:
    names = {name for name, _, _ in _app_urls()}
    assert names - set(MATRIX) == set(), (
        f"URLs missing from tests/access_matrix.py: {sorted(names - set(MATRIX))}"
    )
    assert set(MATRIX) - names == set(), f"stale matrix entries: {sorted(set(MATRIX) - names)}"
    without_refusal = [n for n, spec in MATRIX.items() if not spec.refusals]
    assert without_refusal == []


def test_matrix_policies_match_the_views() -> None:
    for name, _, cb in _app_urls():
        assert MATRIX[name].policy == cb.access_policy.name, name


def test_admin_site_is_limited_to_superusers() -> None:
    assert admin.site.has_permission.__name__ == "_superuser_only"


@pytest.mark.django_db
def test_admin_refuses_a_committee_admin_who_is_not_superuser(committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_admin_admits_a_superuser(client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    su = django_user_model.objects.create_superuser("root", password="x-long-password-1")
    client.force_login(su)
    assert client.get("/admin/").status_code == 200
