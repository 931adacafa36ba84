"""The scale fixture of targets.md: 1 工委 → 150 机关党委 → 600 党总支 → 5,000 党支部.

The counts of 机关党委 and 党总支 scale with the number of branches, and one 机关党委 holds
30% of all branches because real trees are skewed (the subtree-scoped queries of P5 must
stay fast for the biggest subtree, not the average one). Rows are planned in Python with
their final ids and paths and written with `bulk_create`: building 100,000 organisations
through `org_unit_create` (two statements each) would take longer than the benchmark.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from branches.demo import person_name
from branches.models import Member, MemberCategory, OrgImport, OrgKind, OrgUnit, RoleGrant

SCALE_SEED = 5000
# Proportions of the reference tree (targets.md): per 5,000 branches.
REFERENCE_BRANCHES = 5000
REFERENCE_AGENCY_COMMITTEES = 150
REFERENCE_GENERAL_BRANCHES = 600
BIG_COMMITTEE_SHARE = 0.30
MEMBERS_PER_BRANCH = (3, 11)  # uniform, so about 7 on average
BULK_BATCH = 2000
ROOT_CODE = "GW"
BIG_COMMITTEE_CODE = "A0001"


@dataclass(frozen=True)
class ScaleSpec:
    branches: int
    agency_committees: int
    general_branches: int

    @classmethod
    def for_branches(cls, branches: int) -> ScaleSpec:
        return cls(
            branches=max(1, branches),
            agency_committees=max(1, round(branches * REFERENCE_AGENCY_COMMITTEES / REFERENCE_BRANCHES)),
            general_branches=max(1, round(branches * REFERENCE_GENERAL_BRANCHES / REFERENCE_BRANCHES)),
        )

    @classmethod
    def for_orgs(cls, orgs: int) -> ScaleSpec:
        """The same proportions with exactly `orgs` organisations in all."""
        per_branch = (
            REFERENCE_BRANCHES + REFERENCE_AGENCY_COMMITTEES + REFERENCE_GENERAL_BRANCHES
        ) / REFERENCE_BRANCHES
        spec = cls.for_branches(max(1, round((orgs - 1) / per_branch)))
        return cls(
            branches=max(1, orgs - 1 - spec.agency_committees - spec.general_branches),
            agency_committees=spec.agency_committees,
            general_branches=spec.general_branches,
        )

    @property
    def total_orgs(self) -> int:
        return 1 + self.agency_committees + self.general_branches + self.branches


@dataclass(frozen=True)
class ScaleOrg:
    """One planned organisation with its final id and path (parents come first)."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    parent_code: str
    path: str
    depth: int
    sort_order: int
    agency_name: str
    established_on: date
    term_ends_on: date | None


def _spread(total: int, big_share: float, buckets: int) -> list[int]:
    """Split `total` into `buckets`: the first takes `big_share`, the rest share evenly."""
    if buckets == 1:
        return [total]
    big = round(total * big_share)
    rest, extra = divmod(total - big, buckets - 1)
    return [big] + [rest + (1 if i < extra else 0) for i in range(buckets - 1)]


def scale_plan(spec: ScaleSpec, *, first_id: int = 1, seed: int = SCALE_SEED) -> list[ScaleOrg]:
    """Every organisation of the scale tree, parents first, ids from `first_id`. Pure."""
    rng = random.Random(seed)
    rows: list[ScaleOrg] = []
    next_id = first_id

    def add(
        code: str, name: str, kind: str, parent: ScaleOrg | None, sort_order: int, agency: str
    ) -> ScaleOrg:
        nonlocal next_id
        established = date(1980, 1, 1) + timedelta(days=rng.randrange(14000))
        term_years = 5 if kind == OrgKind.AGENCY_COMMITTEE else 3
        org = ScaleOrg(
            id=next_id,
            code=code,
            name=name,
            kind=kind,
            parent_id=parent.id if parent else None,
            parent_code=parent.code if parent else "",
            path=f"{parent.path if parent else '/'}{next_id}/",
            depth=parent.depth + 1 if parent else 0,
            sort_order=sort_order,
            agency_name=agency,
            established_on=established,
            term_ends_on=None
            if kind == OrgKind.COMMITTEE
            else date(2026, 1, 1) + timedelta(days=rng.randrange(term_years * 365)),
        )
        next_id += 1
        rows.append(org)
        return org

    root = add(ROOT_CODE, "中共省直机关工作委员会", OrgKind.COMMITTEE, None, 0, "省直机关工作委员会")
    committees = [
        add(
            f"A{i:04d}",
            f"中共省直第{i}单位机关委员会",
            OrgKind.AGENCY_COMMITTEE,
            root,
            i * 10,
            f"省直第{i}单位",
        )
        for i in range(1, spec.agency_committees + 1)
    ]
    generals_of: list[list[ScaleOrg]] = []
    number = 0
    for committee, count in zip(
        committees, _spread(spec.general_branches, BIG_COMMITTEE_SHARE, len(committees)), strict=True
    ):
        generals = []
        for k in range(1, count + 1):
            number += 1
            generals.append(
                add(
                    f"G{number:05d}",
                    f"{committee.agency_name}第{k}总支部委员会",
                    OrgKind.GENERAL_BRANCH,
                    committee,
                    k * 10,
                    committee.agency_name,
                )
            )
        generals_of.append(generals)
    number = 0
    for committee, generals, count in zip(
        committees, generals_of, _spread(spec.branches, BIG_COMMITTEE_SHARE, len(committees)), strict=True
    ):
        # Round-robin over the committee itself and its 党总支: some branches sit directly
        # under the 机关党委, most under a 党总支 (three and four levels deep).
        parents = [committee, *generals]
        for k in range(count):
            number += 1
            parent = parents[k % len(parents)]
            add(
                f"B{number:06d}",
                f"{parent.agency_name}第{number}党支部",
                OrgKind.BRANCH,
                parent,
                (k // len(parents) + 1) * 10,
                parent.agency_name,
            )
    return rows


@dataclass(frozen=True)
class ScaleTree:
    spec: ScaleSpec
    root_id: int
    big_committee_id: int
    orgs: int
    members: int


def _reset_sequences(models: list[type]) -> None:
    # Rows were written with explicit ids; PostgreSQL's sequences must move past them.
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


@transaction.atomic
def scale_tree_create(*, spec: ScaleSpec, with_members: bool = True, seed: int = SCALE_SEED) -> ScaleTree:
    """Write the scale tree (and about 7 members per branch) into an empty organisation table."""
    first_id = (OrgUnit.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    plan = scale_plan(spec, first_id=first_id, seed=seed)
    OrgUnit.objects.bulk_create(
        (
            OrgUnit(
                id=o.id,
                code=o.code,
                name=o.name,
                kind=o.kind,
                parent_id=o.parent_id,
                path=o.path,
                depth=o.depth,
                sort_order=o.sort_order,
                agency_name=o.agency_name,
                established_on=o.established_on,
                term_ends_on=o.term_ends_on,
            )
            for o in plan
        ),
        batch_size=BULK_BATCH,
    )
    members = 0
    if with_members:
        rng = random.Random(seed)
        batch: list[Member] = []
        for org in plan:
            if org.kind != OrgKind.BRANCH:
                continue
            for _ in range(rng.randint(*MEMBERS_PER_BRANCH)):
                batch.append(
                    Member(
                        org_id=org.id,
                        name=person_name(rng),
                        category=MemberCategory.FULL,
                        joined_on=date(1990, 1, 1) + timedelta(days=rng.randrange(12000)),
                    )
                )
            if len(batch) >= BULK_BATCH:
                Member.objects.bulk_create(batch)
                members += len(batch)
                batch = []
        Member.objects.bulk_create(batch)
        members += len(batch)
    _reset_sequences([OrgUnit, Member])
    big = next(o for o in plan if o.code == BIG_COMMITTEE_CODE) if spec.agency_committees else plan[0]
    return ScaleTree(spec=spec, root_id=plan[0].id, big_committee_id=big.id, orgs=len(plan), members=members)


@transaction.atomic
def tree_reset() -> None:
    """Empty the organisation tree and everything hanging off it, keeping user accounts.

    Plain DELETE statements: the ORM's cascade collector would load every row first, and
    the historical role-grant table would get one history row per deleted grant.
    """
    tables = [
        Member._meta.db_table,
        RoleGrant.history.model._meta.db_table,  # type: ignore[attr-defined]
        RoleGrant._meta.db_table,
        OrgImport._meta.db_table,
        OrgUnit._meta.db_table,
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
