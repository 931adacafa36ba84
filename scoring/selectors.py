"""Reads that decide visibility for the rating workflow; every rating view reads through these."""

from __future__ import annotations

from django.db.models import QuerySet

from branches.models import STAFF_ROLES, User
from branches.selectors import scope_q
from campaigns.selectors import campaigns_visible_to
from scoring.models import Objection, Rating, RatingFact, RatingRound, RatingStatus, RoundStage, SchemeVersion
from scoring.permissions import can_first_review


def rounds_visible_to(user: User) -> QuerySet[RatingRound]:
    """Rounds of the campaigns the user can see."""
    return RatingRound.objects.filter(campaign__in=campaigns_visible_to(user)).select_related(
        "campaign", "scheme"
    )


def schemes_visible_to(user: User) -> QuerySet[SchemeVersion]:
    return SchemeVersion.objects.filter(campaign__in=campaigns_visible_to(user)).select_related("campaign")


def ratings_visible_to(user: User) -> QuerySet[Rating]:
    """Ratings of organisations in the user's subtree."""
    return Rating.objects.filter(scope_q(user, field="org__path"), round__in=rounds_visible_to(user))


def rating_for_page(user: User, pk: int) -> Rating:
    """One visible rating with what its page shows (raises DoesNotExist outside scope)."""
    return (
        ratings_visible_to(user)
        .select_related(
            "org__parent",
            "round__campaign",
            "round__scheme",
            "declared_by",
            "first_reviewed_by",
            "rechecked_by",
        )
        .get(pk=pk)
    )


def facts_visible_to(user: User) -> QuerySet[RatingFact]:
    return RatingFact.objects.filter(
        scope_q(user, field="org__path"), campaign__in=campaigns_visible_to(user)
    )


def objections_visible_to(user: User) -> QuerySet[Objection]:
    return Objection.objects.filter(scope_q(user, field="rating__org__path"))


def first_review_pending(user: User) -> list[Rating]:
    """Declarations waiting for this user's 初审: declared, in a round still taking them, and
    below a unit where the user is staff (never their own unit)."""
    declared = (
        ratings_visible_to(user)
        .filter(
            scope_q(user, field="org__path", roles=STAFF_ROLES),
            status=RatingStatus.DECLARED,
            round__stage__in=(RoundStage.DECLARING, RoundStage.FIRST_REVIEW),
        )
        .select_related("org__parent", "round__campaign", "round__scheme", "declared_by")
        .order_by("-round__campaign__year", "round__applies_to", "org__path")
    )
    return [r for r in declared if can_first_review(user, r.org)]
