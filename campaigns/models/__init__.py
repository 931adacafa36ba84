"""The annual campaign: calendar, task list, checklists and entries, evidence, review events."""

from campaigns.models.campaign import Campaign, CampaignEvent, CampaignStatus, MilestoneKind
from campaigns.models.checklists import (
    CHECK_METHODS,
    Checklist,
    ChecklistEntry,
    ChecklistItem,
    EntryEvent,
    EntryStatus,
    EventAction,
    Frequency,
    PublishRun,
    PublishRunStatus,
    ReviewStage,
    Section,
)
from campaigns.models.evidence import EntryEvidence, Evidence, EvidenceRevision

__all__ = [
    "CHECK_METHODS",
    "Campaign",
    "CampaignEvent",
    "CampaignStatus",
    "Checklist",
    "ChecklistEntry",
    "ChecklistItem",
    "EntryEvent",
    "EntryEvidence",
    "EntryStatus",
    "EventAction",
    "Evidence",
    "EvidenceRevision",
    "Frequency",
    "MilestoneKind",
    "PublishRun",
    "PublishRunStatus",
    "ReviewStage",
    "Section",
]
