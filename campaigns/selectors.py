"""Reads that decide visibility for the campaign workflow; every campaign view reads through these."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from branches.models import STAFF_ROLES, OrgKind, Role, User
from branches.selectors import grants_of, scope_q
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    DutyReport,
    EntryStatus,
    Evidence,
    Finding,
    Inspection,
    Interview,
    Notice,
    NoticeStatus,
    ProgressSnapshot,
    Rectification,
    ReviewSession,
    ReviewStage,
)
from campaigns.permissions import ASSIGNED_ROLES, FILL_ROLES, is_committee_staff


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Campaigns of the 工委 the user belongs to.

    Drafts are shown to staff only: 工委 staff prepare the list, and 机关党委/党总支 staff may
    add their 本级增加 items before publication (domain.md §5).
    """
    qs = Campaign.objects.select_related("committee")
    if not (is_committee_staff(user) or any(g.role in STAFF_ROLES for g in grants_of(user))):
        qs = qs.exclude(status=CampaignStatus.DRAFT)
    if user.is_superuser:
        return qs
    roots = {g.org_path.split("/")[1] for g in grants_of(user)}
    return qs.filter(committee_id__in=[int(r) for r in roots if r.isdigit()])


def current_campaign_for(user: User) -> Campaign | None:
    """The newest published (or archived) campaign the user can see."""
    return campaigns_visible_to(user).exclude(status=CampaignStatus.DRAFT).order_by("-year").first()


def checklists_visible_to(user: User) -> QuerySet[Checklist]:
    return Checklist.objects.filter(scope_q(user, field="org__path")).select_related("org", "campaign")


def entries_visible_to(user: User) -> QuerySet[ChecklistEntry]:
    return ChecklistEntry.objects.filter(scope_q(user, field="org__path"))


def entry_for_page(user: User, pk: int) -> ChecklistEntry:
    """One visible entry with everything its page shows (raises DoesNotExist outside scope)."""
    return (
        entries_visible_to(user)
        .select_related(
            "item",
            "item__section",
            "org",
            "org__parent",
            "campaign",
            "checklist",
            "responsible",
            "updated_by",
        )
        .get(pk=pk)
    )


def evidence_visible_to(user: User) -> QuerySet[Evidence]:
    return Evidence.objects.filter(scope_q(user, field="org__path"))


def items_for_org(campaign: Campaign, org_path: str, org_kind: str) -> list[ChecklistItem]:
    """Items that apply to an organisation: the 工委's list plus 本级增加 items of its ancestors."""
    ancestor_ids = [int(p) for p in org_path.strip("/").split("/") if p]
    items = (
        ChecklistItem.objects.filter(campaign=campaign, is_active=True)
        .filter(Q(owner__isnull=True) | Q(owner_id__in=ancestor_ids))
        .select_related("section", "owner")
    )
    return [i for i in items if i.applies_to_kind(org_kind)]


# Columns the checklist rows need (campaigns/_entry_rows.html via views.checklist.decorate).
ENTRY_ROW_FIELDS = (
    "id",
    "checklist_id",
    "campaign_id",
    "org_id",
    "item_id",
    "period",
    "due_date",
    "responsible_id",
    "status",
    "review_stage",
    "not_applicable_requested",
    "self_score",
    "first_review_score",
    "review_score",
    "item__id",
    "item__code",
    "item__title",
    "item__points",
    "item__sort_order",
    "item__owner_id",
    "item__section_id",
    "item__section__id",
    "item__section__name",
    "item__section__sort_order",
    "org__id",
    "org__name",
    "responsible__id",
    "responsible__username",
    "responsible__full_name",
)


def my_entries(user: User, campaign: Campaign) -> QuerySet[ChecklistEntry]:
    """我的任务清单: every entry of organisations where the user is 书记/副书记, plus entries assigned to them."""
    fill_orgs = [g.org_id for g in grants_of(user) if g.role in FILL_ROLES]
    assigned_orgs = [g.org_id for g in grants_of(user) if g.role in ASSIGNED_ROLES]
    return (
        ChecklistEntry.objects.filter(campaign=campaign)
        .filter(Q(org_id__in=fill_orgs) | Q(org_id__in=assigned_orgs, responsible=user))
        .select_related("item", "item__section", "org", "responsible")
        # Only what the list shows: long texts (requirements, notes) stay in the database.
        .only(*ENTRY_ROW_FIELDS)
        .order_by("item__section__sort_order", "item__section_id", "due_date", "item__sort_order", "period")
    )


def review_queue_for(user: User, campaign: Campaign) -> QuerySet[ChecklistEntry]:
    """Submitted entries waiting for this user's review stage, within the user's subtrees."""
    qs = ChecklistEntry.objects.filter(campaign=campaign, status=EntryStatus.SUBMITTED)
    if is_committee_staff(user):
        return qs.filter(scope_q(user, field="org__path"))
    # Unit staff: the parent stage of organisations strictly below their unit.
    q = Q(pk__in=[])
    for g in grants_of(user):
        if g.role in STAFF_ROLES:
            upper = g.org_path[:-1] + "0"
            q |= Q(org__path__gt=g.org_path, org__path__lt=upper)
    return qs.filter(q, review_stage=ReviewStage.PARENT)


def unsigned_checklists(user: User, campaign: Campaign) -> QuerySet[Checklist]:
    """Checklists in the user's scope whose secretary has not signed the 目标责任书."""
    return (
        checklists_visible_to(user)
        .filter(campaign=campaign, letter_signed_at__isnull=True)
        .exclude(org__kind=OrgKind.COMMITTEE)
        .order_by("org__path")
    )


__all__ = ["Role"]


def people_of_org(org_id: int) -> QuerySet[User]:
    """Who may be 责任人 of an organisation's entries: its officers and rostered members with accounts."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(grants__org_id=org_id) | Q(member__org_id=org_id, member__is_active=True))
        .distinct()
        .order_by("full_name", "username")
    )


def campaign_for_page(user: User, campaign_id: str | None) -> Campaign | None:
    """The campaign chosen by `?campaign=` if visible, else the user's current one; None if not visible."""
    if campaign_id and campaign_id.isdigit():
        return campaigns_visible_to(user).filter(pk=int(campaign_id)).first()
    return current_campaign_for(user)


def checklist_for_page(user: User, pk: int) -> Checklist:
    """One visible checklist with its organisation and campaign (raises DoesNotExist outside scope)."""
    return checklists_visible_to(user).select_related("org__parent", "letter_signed_by").get(pk=pk)


def checklist_entries(checklist: Checklist) -> QuerySet[ChecklistEntry]:
    return (
        ChecklistEntry.objects.filter(checklist=checklist)
        .select_related("item", "item__section", "org", "responsible")
        # Only what the list shows: long texts (requirements, notes) stay in the database.
        .only(*ENTRY_ROW_FIELDS)
        .order_by("item__section__sort_order", "item__section_id", "due_date", "item__sort_order", "period")
    )


def letters_signed_counts(user: User, campaign: Campaign) -> dict[str, int]:
    from django.db.models import Count

    return (
        checklists_visible_to(user)
        .filter(campaign=campaign)
        .exclude(org__kind=OrgKind.COMMITTEE)
        .aggregate(total=Count("pk"), signed=Count("pk", filter=Q(letter_signed_at__isnull=False)))
    )


def letters_to_sign(user: User, campaign: Campaign) -> QuerySet[Checklist]:
    """Unsigned checklists of organisations where the user is the secretary (the banner on 我的任务清单)."""
    orgs = [g.org_id for g in grants_of(user) if g.role == Role.SECRETARY]
    return Checklist.objects.filter(
        campaign=campaign, org_id__in=orgs, letter_signed_at__isnull=True
    ).select_related("org")


# --- 年中督责 ---------------------------------------------------------------------------------


def inspections_visible_to(user: User) -> QuerySet[Inspection]:
    """Rounds whose scope lies in the user's subtrees, plus rounds the user is on the team of."""
    return (
        Inspection.objects.filter(Q(scope_q(user, field="scope__path")) | Q(team=user))
        .distinct()
        .select_related("campaign", "scope")
    )


def findings_visible_to(user: User) -> QuerySet[Finding]:
    return Finding.objects.filter(scope_q(user, field="org__path"))


def rectifications_visible_to(user: User) -> QuerySet[Rectification]:
    return Rectification.objects.filter(scope_q(user, field="org__path"))


def notices_visible_to(user: User) -> QuerySet[Notice]:
    """Published notices whose scope covers or lies in the user's subtrees; drafts for staff who can see the scope."""
    from branches.permissions import is_staff_anywhere

    published = Q(status=NoticeStatus.PUBLISHED)
    roots = [g.org_path for g in grants_of(user)]
    covering = Q(pk__in=[])
    for path in roots:
        # A notice reaches everyone below its scope: the user's org lies inside the scope.
        ancestors = [int(p) for p in path.strip("/").split("/") if p]
        covering |= Q(scope_id__in=ancestors)
    visible = Q(scope_q(user, field="scope__path")) | covering
    if user.is_superuser:
        return Notice.objects.all()
    qs = Notice.objects.filter(visible)
    if not is_staff_anywhere(user):
        qs = qs.filter(published)
    return qs


def interviews_visible_to(user: User) -> QuerySet[Interview]:
    """Staff see interviews in their subtrees; a secretary/deputy sees their own organisation's."""
    own = [g.org_id for g in grants_of(user) if g.role in FILL_ROLES]
    return Interview.objects.filter(scope_q(user, field="org__path", roles=STAFF_ROLES) | Q(org_id__in=own))


def snapshots_visible_to(user: User) -> QuerySet[ProgressSnapshot]:
    """Snapshots of the campaigns the user sees; their rows are scoped again by the page."""
    return ProgressSnapshot.objects.filter(campaign__in=campaigns_visible_to(user))


def reports_visible_to(user: User) -> QuerySet[DutyReport]:
    """Reports of organisations in the user's subtrees (the org itself and everyone above it)."""
    return DutyReport.objects.filter(scope_q(user, field="org__path"))


def sessions_visible_to(user: User) -> QuerySet[ReviewSession]:
    """Sessions scoped inside the user's subtrees, plus those where the user is a rater."""
    return ReviewSession.objects.filter(scope_q(user, field="scope__path") | Q(raters=user)).distinct()
