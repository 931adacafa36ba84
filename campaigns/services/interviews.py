"""Interviews (约谈): who, when, why, linked findings, outcome and follow-up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction

from branches.models import OrgUnit, RoleGrant, User
from campaigns import permissions
from campaigns.models import Campaign, Finding, Interview
from campaigns.services.entries import EntryError, PermissionRefused

FIELDS = (
    "interviewee_name",
    "interviewer_names",
    "held_at",
    "location",
    "reason",
    "outcome",
    "follow_up",
    "follow_up_due",
)


def _check(actor: User, org: OrgUnit) -> None:
    if not permissions.can_inspect(actor, org):
        raise PermissionRefused("您无权约谈该党组织。")


def _interviewee(org: OrgUnit, interviewee: User | None) -> User | None:
    """An optional account, which must hold a role at the interviewed organisation."""
    if interviewee is None:
        return None
    if not RoleGrant.objects.filter(org=org, user=interviewee).exists():
        raise EntryError("被约谈人账号不属于该党组织。")
    return interviewee


def _findings(campaign: Campaign, org: OrgUnit, finding_ids: Iterable[int]) -> list[Finding]:
    # Only this organisation's findings in this campaign can be linked; other ids are ignored.
    return list(Finding.objects.filter(campaign=campaign, org=org, pk__in=list(finding_ids)))


@transaction.atomic
def interview_create(
    *,
    campaign: Campaign,
    org: OrgUnit,
    actor: User,
    interviewee_name: str,
    interviewer_names: str,
    held_at: datetime,
    reason: str,
    interviewee: User | None = None,
    location: str = "",
    outcome: str = "",
    follow_up: str = "",
    follow_up_due: date | None = None,
    finding_ids: Iterable[int] = (),
) -> Interview:
    _check(actor, org)
    interview = Interview.objects.create(
        campaign=campaign,
        org=org,
        interviewee=_interviewee(org, interviewee),
        interviewee_name=interviewee_name,
        interviewer_names=interviewer_names,
        held_at=held_at,
        location=location,
        reason=reason,
        outcome=outcome,
        follow_up=follow_up,
        follow_up_due=follow_up_due,
        created_by=actor,
    )
    interview.findings.set(_findings(campaign, org, finding_ids))
    return interview


@transaction.atomic
def interview_update(
    *,
    interview: Interview,
    actor: User,
    finding_ids: Iterable[int] = (),
    interviewee: User | None = None,
    **fields: Any,
) -> Interview:
    _check(actor, interview.org)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown interview fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(interview, name, value)
    interview.interviewee = _interviewee(interview.org, interviewee)
    interview.save()
    interview.findings.set(_findings(interview.campaign, interview.org, finding_ids))
    return interview
