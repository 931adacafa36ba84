"""Campaign writes (domain.md §4): create, edit the calendar, clone last year's, archive, milestones.

A campaign goes 草稿 → 已发布 → 已归档; publishing belongs to campaigns.services.publishing.
Once archived nothing of the campaign changes any more (only a 工委管理员 reopens single entries).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from branches.audit import audit_record
from branches.models import AuditAction, OrgKind, OrgUnit, User
from campaigns import permissions
from campaigns.models import Campaign, CampaignEvent, CampaignStatus, ChecklistItem, Section

# The calendar fields a 工委 sets (and that a clone copies, shifted by whole years).
CALENDAR_FIELDS = (
    "duty_starts_on",
    "duty_ends_on",
    "supervision_starts_on",
    "supervision_ends_on",
    "reporting_starts_on",
    "reporting_ends_on",
    "rating_starts_on",
    "rating_ends_on",
)
# Other settings that may be passed with the calendar.
SETTING_FIELDS = ("publicity_days", "letter_text")
PHASE_PAIRS = (
    ("duty_starts_on", "duty_ends_on", "年初明责"),
    ("supervision_starts_on", "supervision_ends_on", "年中督责"),
    ("reporting_starts_on", "reporting_ends_on", "年终述责"),
    ("rating_starts_on", "rating_ends_on", "达标创星"),
)

ERR_YEAR_EXISTS = "{year} 年度的创建活动已经存在。"
ERR_NOT_COMMITTEE = "创建活动只能属于工委。"
ERR_ARCHIVED = "该创建活动已归档，不能再修改。"
ERR_PHASE_ORDER = "{phase}的结束日期不能早于开始日期。"
ERR_ARCHIVE_STATUS = "只有已发布的创建活动才能归档（当前状态：{status}）。"
ERR_NOT_ALLOWED = "您没有权限管理创建活动。"
ERR_EVENT_ORDER = "结束日期不能早于开始日期。"
ERR_UNKNOWN_FIELD = "未知字段：{name}"
ERR_NAME_REQUIRED = "请填写名称。"


def _require_manager(actor: User | None) -> None:
    # actor None is the command line (ops), which acts with the 工委's authority.
    if actor is not None and not permissions.can_manage_campaign(actor):
        raise ValidationError(ERR_NOT_ALLOWED)


def require_unlocked(campaign: Campaign) -> None:
    if campaign.is_locked:
        raise ValidationError(ERR_ARCHIVED)


def _check_calendar(values: dict[str, Any]) -> None:
    errors = {
        end: ERR_PHASE_ORDER.format(phase=phase)
        for start, end, phase in PHASE_PAIRS
        if values.get(start) is not None and values.get(end) is not None and values[end] < values[start]
    }
    if errors:
        raise ValidationError(errors)


def _settings(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CALENDAR_FIELDS) - set(SETTING_FIELDS)
    if unknown:
        raise ValidationError(ERR_UNKNOWN_FIELD.format(name="、".join(sorted(unknown))))
    return fields


def campaign_create(
    *, committee: OrgUnit, year: int, name: str, actor: User | None, **calendar: Any
) -> Campaign:
    """A new 草稿 campaign of the 工委 for a year that has none yet."""
    _require_manager(actor)
    values = _settings(calendar)
    if committee.kind != OrgKind.COMMITTEE:
        raise ValidationError(ERR_NOT_COMMITTEE)
    if not name.strip():
        raise ValidationError({"name": ERR_NAME_REQUIRED})
    if Campaign.objects.filter(committee=committee, year=year).exists():
        raise ValidationError({"year": ERR_YEAR_EXISTS.format(year=year)})
    _check_calendar(values)
    campaign = Campaign(committee=committee, year=year, name=name.strip(), **values)
    campaign.full_clean()
    campaign.save()
    return campaign


def campaign_update(
    *, campaign: Campaign, actor: User | None, name: str | None = None, **fields: Any
) -> Campaign:
    """Edit the name, calendar and settings; refused once the campaign is archived."""
    _require_manager(actor)
    require_unlocked(campaign)
    values = _settings(fields)
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": ERR_NAME_REQUIRED})
        values["name"] = name.strip()
    merged = {f: getattr(campaign, f) for f in CALENDAR_FIELDS} | values
    _check_calendar(merged)
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.full_clean()
    campaign.save(update_fields=[*values, "updated_at"])
    return campaign


def shift_years(day: date | None, years: int) -> date | None:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    return None if day is None else _shift(day, years)


def _shift(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def campaign_clone(*, source: Campaign, year: int, actor: User | None) -> Campaign:
    """Start a year from another year's campaign (domain.md §4).

    Sections, active items (local items keep their owner) and milestones are copied with every
    date shifted by the difference in years; statuses, scores and evidence are not carried over
    — the new campaign is a 草稿 with no checklists until it is published.
    """
    _require_manager(actor)
    if Campaign.objects.filter(committee_id=source.committee_id, year=year).exists():
        raise ValidationError({"year": ERR_YEAR_EXISTS.format(year=year)})
    delta = year - source.year
    name = (
        source.name.replace(str(source.year), str(year)) if str(source.year) in source.name else source.name
    )
    clone = Campaign(
        committee_id=source.committee_id,
        year=year,
        name=name,
        cloned_from=source,
        publicity_days=source.publicity_days,
        letter_text=source.letter_text,
        **{f: shift_years(getattr(source, f), delta) for f in CALENDAR_FIELDS},
    )
    clone.full_clean()
    clone.save()
    section_map: dict[int, Section] = {}
    for section in Section.objects.filter(campaign=source).order_by("sort_order", "id"):
        section_map[section.pk] = Section.objects.create(
            campaign=clone, name=section.name, sort_order=section.sort_order
        )
    items = ChecklistItem.objects.filter(campaign=source, is_active=True).order_by("id")
    ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(
                campaign=clone,
                section=section_map[item.section_id],
                owner_id=item.owner_id,
                code=item.code,
                title=item.title,
                requirement=item.requirement,
                evidence_guidance=item.evidence_guidance,
                points=item.points,
                scoring_rule=item.scoring_rule,
                check_method=item.check_method,
                due_date=shift_years(item.due_date, delta),
                frequency=item.frequency,
                applicable_kinds=list(item.applicable_kinds),
                responsible_role=item.responsible_role,
                sort_order=item.sort_order,
            )
            for item in items
        ]
    )
    CampaignEvent.objects.bulk_create(
        [
            CampaignEvent(
                campaign=clone,
                kind=event.kind,
                title=event.title,
                starts_on=_shift(event.starts_on, delta),
                ends_on=shift_years(event.ends_on, delta),
                location=event.location,
                description=event.description,
                created_by=actor,
            )
            for event in CampaignEvent.objects.filter(campaign=source).order_by("starts_on", "id")
        ]
    )
    return clone


def campaign_archive(*, campaign: Campaign, actor: User | None) -> Campaign:
    """已发布 → 已归档: from now on every checklist, entry and item of the campaign is locked."""
    _require_manager(actor)
    now = timezone.now()
    # Compare-and-set on the status, so two clicks (or a concurrent edit) archive once.
    updated = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PUBLISHED).update(
        status=CampaignStatus.ARCHIVED, archived_at=now, updated_at=now
    )
    if updated != 1:
        current = Campaign.objects.get(pk=campaign.pk)
        raise ValidationError(ERR_ARCHIVE_STATUS.format(status=current.get_status_display()))
    campaign.status, campaign.archived_at, campaign.updated_at = CampaignStatus.ARCHIVED, now, now
    audit_record(
        action=AuditAction.ARCHIVE,
        actor=actor,
        target=campaign,
        detail={"campaign": campaign.pk, "year": campaign.year},
    )
    return campaign


def campaign_event_add(
    *,
    campaign: Campaign,
    actor: User | None,
    title: str,
    starts_on: date,
    kind: str = "other",
    ends_on: date | None = None,
    location: str = "",
    description: str = "",
) -> CampaignEvent:
    """A 工委 milestone (推进会, 座谈会, ...) on everyone's calendar."""
    _require_manager(actor)
    require_unlocked(campaign)
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": ERR_EVENT_ORDER})
    event = CampaignEvent(
        campaign=campaign,
        kind=kind,
        title=title.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        location=location.strip(),
        description=description.strip(),
        created_by=actor,
    )
    event.full_clean()
    event.save()
    return event


def campaign_event_delete(*, event: CampaignEvent, actor: User | None) -> None:
    _require_manager(actor)
    require_unlocked(event.campaign)
    event.delete()
