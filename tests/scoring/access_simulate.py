"""Access cases for 评星模拟测算: only 工委 staff simulate; unit staff and branches are refused."""

from __future__ import annotations

from tests.access_matrix import ANON_REDIRECT, Case, Spec

SHOW = {
    "scheme_source": "preset",
    "preset": "scheme_b_city_pingxing",
    "data_source": "round",
    "action": "show",
}

MATRIX: dict[str, Spec] = {
    "scoring:simulate": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("anonymous", "post", 302, SHOW),
            # Unit staff pass the STAFF policy, but designing quotas is the 工委's.
            Case("agency_staff"),
            Case("agency_staff", "post", 403, SHOW),
            Case("branch_secretary"),
            Case("leader"),
            Case("no_role_user"),
            Case("committee_admin", "put", 405),
        ),
    ),
    "scoring:simulate_errors": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("agency_staff"),
            Case("branch_secretary"),
            # Error lists live only in the uploader's session.
            Case("committee_staff", "get", 404),
            Case("committee_admin", "post", 405),
        ),
        args=lambda w: {"key": "not-in-this-session"},
    ),
}
