"""/healthz against real brokers: the file-system broker, a real Redis, and a closed port.

The database is the test database and the broker is whatever the Celery app points at; the
only thing a test changes is that broker URL (restored afterwards), so a 503 can only come
from the broker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.integration.conftest import filesystem_broker, redis_broker

pytestmark = pytest.mark.django_db

# Nothing listens on port 1 of the loopback: connecting is refused at once.
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def _healthz(client: Client) -> tuple[int, dict[str, str]]:
    response = client.get(reverse("healthz"))
    return response.status_code, response.json()


def test_healthz_is_ok_on_the_file_system_broker(client: Client, celery_conf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with celery_conf(**filesystem_broker(tmp_path / "celery")):
        status, body = _healthz(client)
    assert status == 200
    assert body == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.redis
def test_healthz_is_ok_on_redis(client: Client, celery_conf, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    with celery_conf(**redis_broker(redis_url)):
        status, body = _healthz(client)
    assert status == 200
    assert body == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_names_the_broker_when_it_is_down(client: Client, celery_conf) -> None:  # type: ignore[no-untyped-def]
    with celery_conf(**redis_broker(CLOSED_PORT_BROKER)):
        status, body = _healthz(client)
    assert status == 503
    assert body["status"] == "down"
    assert body["database"] == "ok"
    assert body["broker"].startswith("down")


def test_healthz_needs_no_login(client: Client, celery_conf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A load balancer probes anonymously: a redirect to the login page would read as "up".
    with celery_conf(**filesystem_broker(tmp_path / "celery")):
        response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
