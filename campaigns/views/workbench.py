"""工作台: what needs the user's attention today, across the campaign's phases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from branches import selectors as org_selectors
from branches.access import AUTHENTICATED, AuthedHttpRequest, access
from branches.inbox import messages_for
from branches.models import RoleGrant
from campaigns import permissions, selectors
from campaigns.models import OPEN_RECTIFICATION, Campaign, CampaignEvent, EntryStatus
from campaigns.models.checklists import DONE_STATUSES, DUE_SOON_DAYS, OPEN_STATUSES
from campaigns.permissions import is_committee_staff
from scoring.selectors import first_review_pending, rounds_visible_to


def _checklist_card(request: AuthedHttpRequest, campaign: Campaign) -> dict[str, Any] | None:
    """The user's own checklist in one aggregate query (secretaries and assigned officers)."""
    today = timezone.localdate()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    open_q = Q(status__in=OPEN_STATUSES)
    counts = (
        selectors.my_entries(request.user, campaign)
        .order_by()
        .aggregate(
            total=Count("id"),
            done=Count("id", filter=Q(status__in=DONE_STATUSES)),
            overdue=Count("id", filter=open_q & Q(due_date__lt=today)),
            due_soon=Count("id", filter=open_q & Q(due_date__gte=today, due_date__lte=soon)),
            returned=Count("id", filter=Q(status=EntryStatus.RETURNED)),
        )
    )
    if not counts["total"]:
        return None
    counts["percent"] = int(counts["done"] * 100 / counts["total"])
    return counts


def _staff_card(request: AuthedHttpRequest, campaign: Campaign) -> dict[str, Any] | None:
    if not permissions.can_review_anything(request.user):
        return None
    today = timezone.localdate()
    ties = 0
    if is_committee_staff(request.user):
        ties = (
            rounds_visible_to(request.user)
            .filter(campaign=campaign, ratings__needs_decision=True)
            .distinct()
            .count()
        )
    return {
        "to_review": selectors.review_queue_for(request.user, campaign).count(),
        "ratings_to_review": sum(
            1 for r in first_review_pending(request.user) if r.round.campaign_id == campaign.pk
        ),
        "rating_ties": ties,
        "unsigned": selectors.unsigned_checklists(request.user, campaign).count(),
        "overdue_rectifications": selectors.rectifications_visible_to(request.user)
        .filter(campaign=campaign, status__in=OPEN_RECTIFICATION, deadline__lt=today)
        .count(),
    }


@require_GET
@access(AUTHENTICATED)
def home(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    campaign = selectors.current_campaign_for(user)
    context: dict[str, Any] = {
        "grants": RoleGrant.objects.filter(user=user).select_related("org").order_by("org__path", "role"),
        "tops": list(org_selectors.top_organisations_for(user)[:20]),
        "campaign": campaign,
        "latest_messages": list(messages_for(user)[:5]),
    }
    if campaign is not None:
        today = timezone.localdate()
        own_orgs = [g.org_id for g in org_selectors.grants_of(user) if g.role in permissions.FILL_ROLES]
        context.update(
            {
                "phase": next((n for n, s, e in campaign.phases() if s and e and s <= today <= e), ""),
                "checklist": _checklist_card(request, campaign),
                "staff": _staff_card(request, campaign),
                "letters": list(selectors.letters_to_sign(user, campaign)),
                "my_rectifications": selectors.rectifications_visible_to(user)
                .filter(campaign=campaign, org_id__in=own_orgs, status__in=OPEN_RECTIFICATION)
                .count(),
                "upcoming": list(
                    CampaignEvent.objects.filter(campaign=campaign, starts_on__gte=today).order_by(
                        "starts_on"
                    )[:3]
                ),
            }
        )
    return render(request, "branches/home.html", context)
