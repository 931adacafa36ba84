"""The access matrix: for every URL name, its policy and the cases that must be refused.

A refusal case is (persona, method, expected status). `anonymous` is the logged-out
client. URL arguments are resolved against the shared `tree` fixture by `args`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    persona: str
    method: str = "get"
    status: int = 403
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    policy: str
    refusals: tuple[Case, ...]
    # Builds reverse() kwargs from the world dict (tree, personas, objects).
    args: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}
    writes: bool = False  # True when the URL only accepts POST and changes state


ANON_REDIRECT = Case("anonymous", "get", 302)

MATRIX: dict[str, Spec] = {
    "home": Spec("authenticated", (ANON_REDIRECT,)),
    "healthz": Spec("public", (Case("anonymous", "post", 405),)),
    "login": Spec("public", (Case("anonymous", "put", 405),)),
    "logout": Spec("public", (Case("anonymous", "get", 405),)),
    "password_change": Spec("authenticated", (ANON_REDIRECT,)),
    "password_change_done": Spec("authenticated", (ANON_REDIRECT,)),
    "branches:org_tree": Spec("authenticated", (ANON_REDIRECT,)),
    "branches:org_list": Spec("authenticated", (ANON_REDIRECT,)),
    "branches:org_detail": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("branch_secretary", "get", 404),
            Case("outsider_secretary", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=lambda w: {"pk": w["tree"].a2.pk},
    ),
    "branches:org_children": Spec(
        "authenticated",
        (ANON_REDIRECT, Case("branch_secretary", "get", 404), Case("leader", "get", 404)),
        args=lambda w: {"pk": w["tree"].a.pk},
    ),
    "branches:org_import": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("agency_staff"),
            Case("branch_secretary"),
            Case("committee_staff", "post", 403),
        ),
    ),
    "branches:org_import_template": Spec("committee_admin", (ANON_REDIRECT, Case("committee_staff"))),
    "branches:org_import_detail": Spec(
        "committee_admin", (ANON_REDIRECT, Case("agency_staff")), args=lambda w: {"pk": w["org_import"].pk}
    ),
    "branches:org_import_errors": Spec(
        "committee_admin", (ANON_REDIRECT, Case("committee_staff")), args=lambda w: {"pk": w["org_import"].pk}
    ),
    "branches:people_list": Spec(
        "committee_admin", (ANON_REDIRECT, Case("committee_staff"), Case("agency_staff"))
    ),
    "branches:person_create": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("agency_staff", "post", 403, {"username": "intruder", "full_name": "某某"}),
        ),
    ),
    "branches:person_detail": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("agency_staff"),
            Case("branch_secretary", "post", 403, {"full_name": "改名", "phone": "", "email": ""}),
        ),
        args=lambda w: {"pk": w["outsider_secretary"].pk},
    ),
    "branches:person_grant": Spec(
        "committee_admin",
        (
            Case("anonymous", "post", 302),
            Case("agency_staff", "post", 403, {"org_code": "GW", "role": "committee_admin"}),
            Case("committee_admin", "get", 405),
        ),
        args=lambda w: {"pk": w["branch_secretary"].pk},
        writes=True,
    ),
    "branches:person_set_active": Spec(
        "committee_admin",
        (Case("committee_staff", "post", 403, {"active": "0"}), Case("committee_admin", "get", 405)),
        args=lambda w: {"pk": w["outsider_secretary"].pk},
        writes=True,
    ),
    "branches:person_reset_password": Spec(
        "committee_admin",
        (Case("agency_staff", "post", 403), Case("committee_admin", "get", 405)),
        args=lambda w: {"pk": w["outsider_secretary"].pk},
        writes=True,
    ),
    "branches:grant_revoke": Spec(
        "committee_admin",
        (
            Case("committee_staff", "post", 403),
            Case("outsider_secretary", "post", 403),
            Case("committee_admin", "get", 405),
        ),
        args=lambda w: {"pk": w["outsider_grant"].pk},
        writes=True,
    ),
    "branches:audit_log": Spec("committee_admin", (ANON_REDIRECT, Case("committee_staff"), Case("leader"))),
}


# Each app's tests may add URL cases in tests/<app>/access_*.py modules: a MATRIX dict of the
# same shape and, optionally, build_world(world) adding the objects their URL arguments need.
WORLD_BUILDERS: list[Callable[[dict[str, Any]], None]] = []


def _collect_app_cases() -> None:
    import importlib
    import pkgutil

    import tests.campaigns
    import tests.scoring

    found = [
        (package.__name__, info.name)
        for package in (tests.campaigns, tests.scoring)
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("access_")
    ]
    for package_name, name in sorted(found):
        module = importlib.import_module(f"{package_name}.{name}")
        clash = set(module.MATRIX) & set(MATRIX)
        assert not clash, f"URL names declared twice in the access matrix: {sorted(clash)}"
        MATRIX.update(module.MATRIX)
        if hasattr(module, "build_world"):
            WORLD_BUILDERS.append(module.build_world)


_collect_app_cases()
