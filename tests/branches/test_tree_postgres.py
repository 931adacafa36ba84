"""PostgreSQL-only guarantees of the tree's path column."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import require_or_skip

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_path_column_uses_byte_order_collation() -> None:
    require_or_skip(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'branches_orgunit' AND column_name = 'path'"
        )
        assert cursor.fetchone()[0] == "C"
