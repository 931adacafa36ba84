"""R3/R5: the role × page × object matrix. Refusals answer as declared and change nothing."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from branches.models import (
    AuditAction,
    AuditEvent,
    Delivery,
    ImportStatus,
    Member,
    Message,
    NotificationPreference,
    OrgImport,
    OrgUnit,
    OrgWebhook,
    Outbox,
    RoleGrant,
    User,
)
from campaigns.models import (
    Campaign,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    DispatchRun,
    EntryEvent,
    EntryEvidence,
    Evidence,
    EvidenceRevision,
    ExtensionRequest,
    Finding,
    Inspection,
    InspectionResult,
    InspectionTarget,
    Interview,
    Notice,
    Obligation,
    ObligationRecord,
    ProgressSnapshot,
    PublishRun,
    Rectification,
    Reminder,
    ReminderPolicy,
    ReminderRule,
    Section,
)
from scoring.models import (
    CompileRun,
    Objection,
    Rating,
    RatingFact,
    RatingRound,
    SchemeVersion,
    StarChange,
    TieDecision,
)
from tests.access_matrix import MATRIX, WORLD_BUILDERS
from tests.conftest import PERSONAS

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(request, tree, committee_admin) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    w: dict[str, Any] = {"tree": tree, "committee_admin": committee_admin}
    for name in PERSONAS:
        w[name] = request.getfixturevalue(name)
    w["org_import"] = OrgImport.objects.create(
        uploaded_by=committee_admin,
        file_name="组织.xlsx",
        sha256="0" * 64,
        status=ImportStatus.FAILED,
        errors=[{"sheet": "组织", "row": 3, "column": "组织类型", "message": "组织类型无效"}],
    )
    w["outsider_grant"] = RoleGrant.objects.get(user=w["outsider_secretary"])
    for build in WORLD_BUILDERS:
        build(w)
    return w


def _state_digest() -> str:
    """A digest of every domain row a refused request could have touched."""
    parts = [
        list(
            OrgUnit.objects.order_by("pk").values_list("pk", "code", "name", "parent_id", "path", "is_active")
        ),
        list(RoleGrant.objects.order_by("pk").values_list("pk", "user_id", "org_id", "role")),
        list(User.objects.order_by("pk").values_list("pk", "username", "full_name", "is_active", "password")),
        list(Member.objects.order_by("pk").values_list("pk", "org_id", "name", "category")),
        list(OrgImport.objects.order_by("pk").values_list("pk", "status")),
        list(Campaign.objects.order_by("pk").values_list("pk", "status", "name", "year")),
        list(Section.objects.order_by("pk").values_list("pk", "name")),
        list(ChecklistItem.objects.order_by("pk").values_list("pk", "code", "title", "points", "owner_id")),
        list(Checklist.objects.order_by("pk").values_list("pk", "letter_signed_at")),
        list(
            ChecklistEntry.objects.order_by("pk").values_list(
                "pk",
                "status",
                "version",
                "self_score",
                "first_review_score",
                "review_score",
                "responsible_id",
            )
        ),
        EntryEvent.objects.count(),
        list(Evidence.objects.order_by("pk").values_list("pk", "org_id", "current_id")),
        list(EvidenceRevision.objects.order_by("pk").values_list("pk", "sha256")),
        list(EntryEvidence.objects.order_by("pk").values_list("pk", "entry_id", "evidence_id")),
        PublishRun.objects.count(),
        list(Inspection.objects.order_by("pk").values_list("pk", "status", "seed", "title")),
        list(InspectionTarget.objects.order_by("pk").values_list("pk", "status", "summary")),
        InspectionResult.objects.count(),
        list(Finding.objects.order_by("pk").values_list("pk", "org_id", "description", "severity")),
        list(
            Rectification.objects.order_by("pk").values_list(
                "pk", "status", "version", "measures", "deadline"
            )
        ),
        list(ExtensionRequest.objects.order_by("pk").values_list("pk", "status")),
        list(Notice.objects.order_by("pk").values_list("pk", "status", "title")),
        list(Interview.objects.order_by("pk").values_list("pk", "outcome")),
        ProgressSnapshot.objects.count(),
        list(Message.objects.order_by("pk").values_list("pk", "read_at")),
        list(NotificationPreference.objects.order_by("pk").values_list("pk", "email_enabled", "digest")),
        list(OrgWebhook.objects.order_by("pk").values_list("pk", "url", "secret", "is_active")),
        Outbox.objects.count(),
        Delivery.objects.count(),
        list(
            ReminderPolicy.objects.order_by("pk").values_list("pk", "dispatch_time", "quiet_start", "digest")
        ),
        list(
            ReminderRule.objects.order_by("pk").values_list(
                "pk", "source", "offset_days", "audience", "via_email", "is_active"
            )
        ),
        list(
            Obligation.objects.order_by("pk").values_list("pk", "name", "frequency", "due_day", "is_active")
        ),
        list(ObligationRecord.objects.order_by("pk").values_list("pk", "period_key", "held_on")),
        DispatchRun.objects.count(),
        Reminder.objects.count(),
        list(SchemeVersion.objects.order_by("pk").values_list("pk", "number", "data")),
        list(RatingRound.objects.order_by("pk").values_list("pk", "stage", "version", "scheme_id")),
        list(
            Rating.objects.order_by("pk").values_list(
                "pk", "version", "status", "computed_level", "adjusted_level", "current_level"
            )
        ),
        list(CompileRun.objects.order_by("pk").values_list("pk", "status")),
        list(RatingFact.objects.order_by("pk").values_list("pk", "kind", "key", "value")),
        list(TieDecision.objects.order_by("pk").values_list("pk", "is_void", "decided_level")),
        list(Objection.objects.order_by("pk").values_list("pk", "status")),
        StarChange.objects.count(),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _client_for(persona: str, world: dict[str, Any], **kwargs: Any) -> Client:
    client = Client(**kwargs)
    if persona != "anonymous":
        client.force_login(world[persona])
    return client


CASES = [(name, case) for name, spec in MATRIX.items() for case in spec.refusals]


@pytest.mark.parametrize(("url_name", "case"), CASES, ids=[f"{n}-{c.persona}-{c.method}" for n, c in CASES])
def test_refused_request_answers_as_declared_and_changes_nothing(world, url_name, case) -> None:  # type: ignore[no-untyped-def]
    url = reverse(url_name, kwargs=MATRIX[url_name].args(world))
    before = _state_digest()
    response = getattr(_client_for(case.persona, world), case.method)(url, case.data)
    assert response.status_code == case.status
    if case.status == 302:
        assert reverse("login") in response["Location"]
    assert _state_digest() == before


@pytest.mark.parametrize("url_name", [n for n, s in MATRIX.items() if s.writes])
def test_state_changing_urls_refuse_get(world, url_name) -> None:  # type: ignore[no-untyped-def]
    url = reverse(url_name, kwargs=MATRIX[url_name].args(world))
    before = _state_digest()
    assert _client_for("committee_admin", world).get(url).status_code == 405
    assert _state_digest() == before


@pytest.mark.parametrize("url_name", [n for n, s in MATRIX.items() if s.writes] + ["branches:person_create"])
def test_state_changing_urls_require_csrf_token(world, url_name) -> None:  # type: ignore[no-untyped-def]
    url = reverse(url_name, kwargs=MATRIX[url_name].args(world))
    before = _state_digest()
    client = _client_for("committee_admin", world, enforce_csrf_checks=True)
    response = client.post(url, {"active": "0", "username": "csrfvictim", "full_name": "某某"})
    assert response.status_code == 403
    assert _state_digest() == before


@pytest.mark.parametrize("url_name", [n for n, s in MATRIX.items() if not s.writes and n != "logout"])
def test_get_never_changes_domain_state(world, url_name) -> None:  # type: ignore[no-untyped-def]
    url = reverse(url_name, kwargs=MATRIX[url_name].args(world))
    before = _state_digest()
    _client_for("committee_admin", world).get(url)
    assert _state_digest() == before


# --- object visibility: persona × organisation --------------------------------------------

VISIBLE = {
    "committee_admin": {"GW", "A", "AG", "AG1", "A1", "A2", "B", "B1", "D1"},
    "committee_staff": {"GW", "A", "AG", "AG1", "A1", "A2", "B", "B1", "D1"},
    "agency_staff": {"A", "AG", "AG1", "A1", "A2"},
    "branch_secretary": {"A1"},
    "branch_member": {"A1"},
    "outsider_secretary": {"B1"},
    "leader": {"B", "B1"},
    "no_role_user": set(),
}
ALL_CODES = sorted(VISIBLE["committee_admin"])


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("code", ALL_CODES)
def test_org_detail_is_404_outside_the_persona_subtree(world, persona, code) -> None:  # type: ignore[no-untyped-def]
    org = OrgUnit.objects.get(code=code)
    response = _client_for(persona, world).get(reverse("branches:org_detail", kwargs={"pk": org.pk}))
    assert response.status_code == (200 if code in VISIBLE[persona] else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_org_list_shows_exactly_the_persona_subtree(world, persona) -> None:  # type: ignore[no-untyped-def]
    response = _client_for(persona, world).get(reverse("branches:org_list"))
    shown = {row["org"].code for row in response.context["rows"]}
    assert shown == VISIBLE[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_tree_search_never_reveals_foreign_organisations(world, persona) -> None:  # type: ignore[no-untyped-def]
    response = _client_for(persona, world).get(reverse("branches:org_tree"), {"q": "党支部"})
    shown = {node["org"].code for node in response.context["results"]}
    assert shown <= VISIBLE[persona]


def test_org_list_under_a_foreign_organisation_is_404(world) -> None:  # type: ignore[no-untyped-def]
    client = _client_for("branch_secretary", world)
    response = client.get(reverse("branches:org_list"), {"under": world["tree"].b.pk})
    assert response.status_code == 404


def test_out_of_scope_404_is_recorded_as_a_denial(world) -> None:  # type: ignore[no-untyped-def]
    client = _client_for("outsider_secretary", world)
    client.get(reverse("branches:org_detail", kwargs={"pk": world["tree"].a1.pk}))
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("id")
    assert event.actor == world["outsider_secretary"]
    assert event.detail["reason"] == "out_of_scope"


def test_role_policy_refusal_is_recorded_as_a_denial(world) -> None:  # type: ignore[no-untyped-def]
    _client_for("committee_staff", world).get(reverse("branches:people_list"))
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("id")
    assert event.actor == world["committee_staff"]
    assert event.detail["policy"] == "committee_admin"


def test_deactivated_user_loses_access_on_next_request(world) -> None:  # type: ignore[no-untyped-def]
    client = _client_for("branch_secretary", world)
    User.objects.filter(pk=world["branch_secretary"].pk).update(is_active=False)
    response = client.get(reverse("branches:org_detail", kwargs={"pk": world["tree"].a1.pk}))
    assert response.status_code == 302
