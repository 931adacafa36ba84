"""What only PostgreSQL does: the audit log's trigger, and the path index serving subtree queries."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from branches.audit import audit_record
from branches.models import AuditAction, AuditEvent, OrgKind, OrgUnit
from tests.factories import make_org

pytestmark = pytest.mark.postgres

AGENCIES = 40
BRANCHES_PER_AGENCY = 100  # 4,000 organisations: enough for the planner to cost an index scan


def _raw(sql: str, params: list[object]) -> None:
    # A savepoint per statement: on PostgreSQL an error aborts the whole transaction otherwise,
    # and the test goes on after the refused statement.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_audit_log_refuses_raw_update(postgres: None) -> None:
    event = audit_record(action=AuditAction.LOGIN, username="alice")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE branches_auditevent SET actor_username = %s WHERE id = %s", ["mallory", event.pk])
    event.refresh_from_db()
    assert event.actor_username == "alice"


def test_audit_log_refuses_raw_delete(postgres: None) -> None:
    event = audit_record(action=AuditAction.LOGIN, username="alice")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM branches_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def _path_indexes() -> set[str]:
    """Names of the B-tree indexes whose leading column is `path`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [OrgUnit._meta.db_table, "%btree (path)"],
        )
        return {row[0] for row in cursor.fetchall()}


def _build_wide_tree() -> list[OrgUnit]:
    """A 工委 with AGENCIES 机关党委 of BRANCHES_PER_AGENCY 党支部 each; returns the agencies.

    Branches are bulk-inserted with placeholder paths, then given their real paths (which need
    their ids) in one bulk update: the same shape the services produce, in seconds.
    """
    root = make_org(OrgKind.COMMITTEE, None, code="PGW", name="工委")
    agencies = [make_org(OrgKind.AGENCY_COMMITTEE, root, code=f"PA{i:03d}") for i in range(AGENCIES)]
    branches = OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"PB{a.pk}-{j:03d}",
            name=f"党支部{a.pk}-{j}",
            kind=OrgKind.BRANCH,
            parent=a,
            path=f"~tmp-{a.pk}-{j}",
            depth=a.depth + 1,
        )
        for a in agencies
        for j in range(BRANCHES_PER_AGENCY)
    )
    by_id = {a.pk: a for a in agencies}
    for branch in branches:
        branch.path = f"{by_id[branch.parent_id].path}{branch.pk}/"
    OrgUnit.objects.bulk_update(branches, ["path"], batch_size=1000)
    return agencies


def test_subtree_query_uses_the_path_index(postgres: None) -> None:
    agencies = _build_wide_tree()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OrgUnit._meta.db_table}")
    agency = agencies[len(agencies) // 2]
    subtree = OrgUnit.objects.subtree(agency.path)

    # Right rows first: the range on `path` must neither miss a descendant nor leak a neighbour
    # (e.g. /1/2/ must not pull in /1/20/), whatever the database's collation.
    assert set(subtree.values_list("pk", flat=True)) == {agency.pk} | set(
        OrgUnit.objects.filter(parent=agency).values_list("pk", flat=True)
    )

    # 101 of 4,041 rows: with fresh statistics the planner picks the path index by itself;
    # enable_seqscan is left alone, so this checks the plan production gets.
    plan = subtree.explain()
    used = [name for name in _path_indexes() if name in plan]
    assert used, f"subtree query does not use a path index {sorted(_path_indexes())}:\n{plan}"
    assert "Seq Scan" not in plan, plan
