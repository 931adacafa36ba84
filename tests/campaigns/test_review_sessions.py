"""年终述责 · 述职评议: ballots per rater or tallies, good rate and grade, review findings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Ballot, EntryMode, FindingSource, Rectification, ReviewSession, SessionStatus
from campaigns.services import reports as svc
from campaigns.services.entries import InvalidTransition, PermissionRefused
from tests.campaigns.factories import make_campaign
from tests.factories import UserFactory


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw)


@pytest.fixture
def raters(db):  # type: ignore[no-untyped-def]
    return [UserFactory(username=f"rater{i}") for i in range(4)]


def _session(campaign, tree, actor, raters=(), **kw):  # type: ignore[no-untyped-def]
    return svc.session_create(
        campaign=campaign,
        scope=tree.a,
        title="述职评议会",
        held_on=date(2026, 12, 20),
        actor=actor,
        raters=raters,
        **kw,
    )


@pytest.fixture
def session(campaign, tree, agency_staff, raters, branch_member):  # type: ignore[no-untyped-def]
    return _session(campaign, tree, agency_staff, [*raters, branch_member])


@pytest.fixture
def reporter(session, tree, agency_staff):  # type: ignore[no-untyped-def]
    (row,) = svc.session_add_reporters(
        session=session, reporters=[(tree.a1, None, "张书记")], actor=agency_staff
    )
    return row


@pytest.fixture
def tally_session(campaign, tree, agency_staff):  # type: ignore[no-untyped-def]
    return _session(campaign, tree, agency_staff, entry_mode=EntryMode.TALLY)


@pytest.fixture
def tally_reporter(tally_session, tree, agency_staff):  # type: ignore[no-untyped-def]
    (row,) = svc.session_add_reporters(
        session=tally_session, reporters=[(tree.a1, None, "")], actor=agency_staff
    )
    return row


def test_session_defaults_to_the_four_level_scale_and_first_two_as_good(session) -> None:  # type: ignore[no-untyped-def]
    assert session.scale == ["好", "较好", "一般", "差"]
    assert session.good_labels == ["好", "较好"]


def test_session_create_refused_outside_the_staff_subtree(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        svc.session_create(
            campaign=campaign, scope=tree.b, title="x", held_on=date(2026, 12, 1), actor=agency_staff
        )


def test_session_create_refuses_good_labels_outside_the_scale(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.ReportError):
        _session(campaign, tree, agency_staff, scale=["优秀", "合格"], good_labels=["好"])
    assert not ReviewSession.objects.exists()


def test_reporters_must_be_inside_the_session_scope(session, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.ReportError):
        svc.session_add_reporters(session=session, reporters=[(tree.b1, None, "")], actor=agency_staff)


def test_a_rater_casts_one_ballot_per_reporter_and_may_change_it(reporter, raters) -> None:  # type: ignore[no-untyped-def]
    svc.ballot_cast(reporter=reporter, rater=raters[0], label="好")
    svc.ballot_cast(reporter=reporter, rater=raters[0], label="一般")
    assert list(Ballot.objects.values_list("rater", "label")) == [(raters[0].pk, "一般")]


def test_a_non_rater_cannot_vote(reporter, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        svc.ballot_cast(reporter=reporter, rater=agency_staff, label="好")


def test_a_label_outside_the_scale_is_refused(reporter, raters) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.ReportError):
        svc.ballot_cast(reporter=reporter, rater=raters[0], label="优秀")


def test_ballots_are_refused_after_the_session_closes(session, reporter, raters, agency_staff) -> None:  # type: ignore[no-untyped-def]
    svc.ballot_cast(reporter=reporter, rater=raters[0], label="好")
    svc.session_close(session=session, actor=agency_staff)
    reporter.refresh_from_db()
    with pytest.raises(InvalidTransition):
        svc.ballot_cast(reporter=reporter, rater=raters[0], label="差")
    assert Ballot.objects.get().label == "好"


def test_tallies_are_refused_in_a_per_rater_session(reporter, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition):
        svc.tally_set(reporter=reporter, counts={"好": 3}, actor=agency_staff)


def test_ballots_are_refused_in_a_tally_session(tally_session, tally_reporter, agency_staff) -> None:  # type: ignore[no-untyped-def]
    tally_session.raters.add(agency_staff)
    with pytest.raises(InvalidTransition):
        svc.ballot_cast(reporter=tally_reporter, rater=agency_staff, label="好")


def test_results_from_ballots_count_per_label_with_good_rate_and_grade(
    reporter, raters, branch_member
) -> None:  # type: ignore[no-untyped-def]
    for user, label in zip([*raters, branch_member], ["好", "好", "较好", "一般", "差"], strict=True):
        svc.ballot_cast(reporter=reporter, rater=user, label=label)
    (row,) = svc.session_results(reporter.session)
    assert row.counts == {"好": 2, "较好": 1, "一般": 1, "差": 1}
    assert (row.total, row.good_rate, row.grade) == (5, Decimal("0.6000"), "一般")


def test_results_from_tallies_replace_earlier_counts(tally_reporter, agency_staff) -> None:  # type: ignore[no-untyped-def]
    svc.tally_set(reporter=tally_reporter, counts={"好": 9, "差": 9}, actor=agency_staff)
    svc.tally_set(reporter=tally_reporter, counts={"好": 2, "较好": 1}, actor=agency_staff)
    (row,) = svc.session_results(tally_reporter.session)
    assert row.counts == {"好": 2, "较好": 1, "一般": 0, "差": 0}
    assert (row.good_rate, row.grade) == (Decimal("1.0000"), "好")


def test_good_rate_is_rounded_to_four_places(tally_reporter, agency_staff) -> None:  # type: ignore[no-untyped-def]
    svc.tally_set(reporter=tally_reporter, counts={"好": 2, "差": 1}, actor=agency_staff)
    (row,) = svc.session_results(tally_reporter.session)
    assert row.good_rate == Decimal("0.6667")


def test_negative_tally_counts_are_refused(tally_reporter, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.ReportError):
        svc.tally_set(reporter=tally_reporter, counts={"好": -1}, actor=agency_staff)


@pytest.mark.parametrize(
    ("good", "bad", "grade"),
    [(9, 1, "好"), (89, 11, "较好"), (7, 3, "较好"), (69, 31, "一般"), (5, 5, "一般"), (49, 51, "差")],
)
def test_grade_thresholds_are_inclusive_at_their_edges(
    tally_reporter, agency_staff, good, bad, grade
) -> None:  # type: ignore[no-untyped-def]
    svc.tally_set(reporter=tally_reporter, counts={"好": good, "差": bad}, actor=agency_staff)
    (row,) = svc.session_results(tally_reporter.session)
    assert row.grade == grade


def test_a_reporter_without_votes_has_no_rate_or_grade(reporter) -> None:  # type: ignore[no-untyped-def]
    (row,) = svc.session_results(reporter.session)
    assert (row.total, row.good_rate, row.grade) == (0, None, "—")


def test_configured_thresholds_decide_the_grade(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    s = _session(
        campaign,
        tree,
        agency_staff,
        entry_mode=EntryMode.TALLY,
        scale=["满意", "基本满意", "不满意"],
        good_labels=["满意"],
        thresholds=[["0.8", "满意"], ["0", "不满意"]],
    )
    (r,) = svc.session_add_reporters(session=s, reporters=[(tree.a2, None, "")], actor=agency_staff)
    svc.tally_set(reporter=r, counts={"满意": 8, "基本满意": 2}, actor=agency_staff)
    assert svc.session_results(s)[0].grade == "满意"


def test_a_review_finding_opens_a_rectification_for_the_reporters_org(reporter, agency_staff, tree) -> None:  # type: ignore[no-untyped-def]
    finding = svc.review_finding_create(reporter=reporter, description="述职内容空泛", actor=agency_staff)
    assert finding.source == FindingSource.DUTY_REPORT
    assert Rectification.objects.get(finding=finding).org == tree.a1


def test_a_review_finding_is_refused_to_a_rater_without_staff_role(reporter, branch_member) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        svc.review_finding_create(reporter=reporter, description="x", actor=branch_member)


# --- pages -----------------------------------------------------------------------------------


def test_create_page_makes_a_session_with_raters(campaign, tree, agency_staff, branch_member, login) -> None:  # type: ignore[no-untyped-def]
    client = login(agency_staff)
    data = {
        "title": "机关党委述职评议",
        "held_on": "2026-12-20",
        "scope": tree.a.code,
        "entry_mode": EntryMode.PER_RATER,
        "scale": "好，较好，一般，差",
        "good_labels": "好,较好",
        "thresholds": "0.9 好\n0.7 较好\n0.5 一般\n0 差",
        "raters": branch_member.username,
    }
    response = client.post(f"{reverse('campaigns:session_create')}?campaign={campaign.pk}", data)
    session = ReviewSession.objects.get()
    assert response.url == reverse("campaigns:session_detail", args=[session.pk])
    assert list(session.raters.all()) == [branch_member]
    assert session.thresholds[0] == ["0.9", "好"]


def test_a_rater_sees_ballot_forms_and_staff_who_do_not_rate_do_not(  # type: ignore[no-untyped-def]
    reporter, branch_member, agency_staff, client
) -> None:
    url = reverse("campaigns:session_detail", args=[reporter.session_id])
    client.force_login(branch_member)
    assert 'data-testid="ballot-form"' in client.get(url).content.decode()
    client.force_login(agency_staff)
    assert 'data-testid="ballot-form"' not in client.get(url).content.decode()


def test_voting_through_the_page_records_only_my_ballot(reporter, branch_member, login) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_member)
    client.post(reverse("campaigns:session_ballot", args=[reporter.pk]), {"label": "较好"})
    assert list(Ballot.objects.values_list("rater", "label")) == [(branch_member.pk, "较好")]


def test_tally_and_close_through_the_page(tally_reporter, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    client = login(agency_staff)
    client.post(
        reverse("campaigns:session_tally", args=[tally_reporter.pk]), {"count_0": "8", "count_3": "2"}
    )
    client.post(reverse("campaigns:session_close", args=[tally_reporter.session_id]))
    page = client.get(reverse("campaigns:session_detail", args=[tally_reporter.session_id]))
    assert page.context["rows"][0]["result"].good_rate == Decimal("0.8000")
    assert "80.00%" in page.content.decode()
    assert ReviewSession.objects.get().status == SessionStatus.CLOSED


def test_a_review_finding_through_the_page_reaches_rectification(reporter, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    client = login(agency_staff)
    client.post(
        reverse("campaigns:session_finding", args=[reporter.pk]),
        {"description": "整改不到位", "severity": "major"},
    )
    assert Rectification.objects.get().finding.source == FindingSource.DUTY_REPORT


def _detail_queries(client, session) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("campaigns:session_detail", args=[session.pk])).status_code == 200
    return len(ctx.captured_queries)


def test_session_detail_query_count_does_not_grow_with_reporters(  # type: ignore[no-untyped-def]
    session, reporter, raters, branch_member, agency_staff, tree, login
) -> None:
    from branches.models import OrgKind
    from tests.factories import make_org

    svc.ballot_cast(reporter=reporter, rater=branch_member, label="好")
    client = login(branch_member)
    few = _detail_queries(client, session)
    orgs = [make_org(OrgKind.BRANCH, tree.a, code=f"AS{i}", name=f"支部{i}") for i in range(5)]
    rows = svc.session_add_reporters(
        session=session, reporters=[(o, None, "") for o in orgs], actor=agency_staff
    )
    for row in rows:
        for user in raters:
            svc.ballot_cast(reporter=row, rater=user, label="较好")
    many = _detail_queries(client, session)
    assert few == many
    assert many <= 20


def test_an_organisation_reports_only_once_per_session(session, reporter, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.ReportError):
        svc.session_add_reporters(session=session, reporters=[(tree.a1, None, "")], actor=agency_staff)
    assert session.reporters.count() == 1
