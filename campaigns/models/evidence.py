"""Evidence (佐证材料) as its own object: revisions instead of overwrites, linked to many entries."""

from __future__ import annotations

from django.db import models

from branches.models import OrgUnit, User
from campaigns.models.checklists import ChecklistEntry


class Evidence(models.Model):
    """A piece of evidence owned by an organisation; its files are revisions (§6)."""

    org = models.ForeignKey(
        OrgUnit, verbose_name="所属组织", on_delete=models.PROTECT, related_name="evidence"
    )
    title = models.CharField("名称", max_length=200)
    created_by = models.ForeignKey(
        User, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    current = models.ForeignKey(
        "EvidenceRevision",
        verbose_name="当前版本",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class EvidenceRevision(models.Model):
    """One uploaded file. Stored under a generated name outside any served folder."""

    evidence = models.ForeignKey(
        Evidence, verbose_name="佐证材料", on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField("版本号")
    original_name = models.CharField("原文件名", max_length=255)
    stored_name = models.CharField("存储名", max_length=255, unique=True)
    size = models.PositiveBigIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    content_type = models.CharField("文件类型", max_length=100)
    uploaded_by = models.ForeignKey(
        User, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "佐证文件版本"
        verbose_name_plural = "佐证文件版本"
        ordering = ["evidence", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["evidence", "number"], name="evidence_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.original_name}（第{self.number}版）"


class EntryEvidence(models.Model):
    """Links one evidence to one entry; the same evidence may support several entries."""

    entry = models.ForeignKey(
        ChecklistEntry, verbose_name="条目", on_delete=models.CASCADE, related_name="evidence_links"
    )
    evidence = models.ForeignKey(
        Evidence, verbose_name="佐证材料", on_delete=models.CASCADE, related_name="links"
    )
    linked_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField("关联时间", auto_now_add=True)

    class Meta:
        verbose_name = "条目佐证"
        verbose_name_plural = "条目佐证"
        constraints = [models.UniqueConstraint(fields=["entry", "evidence"], name="entry_evidence_unique")]

    def __str__(self) -> str:
        return f"{self.entry_id} ← {self.evidence_id}"
