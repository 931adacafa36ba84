"""Real services for integration tests: a Redis server, PostgreSQL, the Celery app's broker.

Nothing here is mocked. A missing server skips the test on a developer's machine and fails it
in CI (`require_or_skip`), where `.ci/run` starts Redis and PostgreSQL itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from config.celery import app as celery_app
from tests.conftest import require_or_skip

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a Redis database the tests may empty (db 15 by default, never the broker's db)."""
    url = os.environ.get("TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL
    require_or_skip(
        _redis_answers(url), f"Redis not reachable at {url} (start redis-server or set TEST_REDIS_URL)"
    )
    return url


@pytest.fixture
def postgres(db: None) -> None:
    """Use in tests marked `postgres`: they check behaviour only PostgreSQL has."""
    require_or_skip(
        connection.vendor == "postgresql",
        f"PostgreSQL needed, the test database is {connection.vendor} (set DATABASE_URL=postgres://...)",
    )


def filesystem_broker(folder: Path) -> dict[str, Any]:
    """Celery settings for the embedded runtime's file-system broker, rooted in `folder`.

    The same layout config/settings/base.py builds from CELERY_DATA_DIR.
    """
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport_options": {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
            "control_folder": str(folder / "control"),
        },
    }


def redis_broker(url: str) -> dict[str, Any]:
    return {"broker_url": url, "broker_transport_options": {"visibility_timeout": 3600}}


@pytest.fixture
def celery_conf() -> Callable[..., Any]:
    """celery_conf(**settings): a context manager pointing the project's Celery app elsewhere.

    Only connections opened afterwards see the change: /healthz, the worker, `control.purge()`
    and sends with an explicit `connection=` each open their own. The app's cached producer
    pool would not, which is why the tests never send through it. (`app.close()` would drop the
    pool, but it also unregisters the app, so shared tasks imported later never reach it.)
    """

    @contextmanager
    def override(**changes: Any) -> Iterator[None]:
        saved = {key: celery_app.conf.get(key) for key in changes}
        saved_env = os.environ.get("CELERY_BROKER_URL")
        celery_app.conf.update(changes)
        # Celery reads CELERY_BROKER_URL from the environment before its own settings (CI's
        # PostgreSQL pass sets it to Redis), so the variable has to say the same thing.
        if "broker_url" in changes:
            os.environ["CELERY_BROKER_URL"] = changes["broker_url"]
        try:
            yield
        finally:
            celery_app.conf.update(saved)
            if saved_env is None:
                os.environ.pop("CELERY_BROKER_URL", None)
            else:
                os.environ["CELERY_BROKER_URL"] = saved_env

    return override
