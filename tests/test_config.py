"""Settings and static assets: production refuses half-configuration; front-end files are vendored."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "example.org",
    "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db",
}


def _import_prod(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PROD_ENV}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.prod")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", sorted(PROD_ENV))
def test_production_settings_refuse_to_start_without(missing: str) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _import_prod(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_settings_start_when_configured() -> None:
    result = _import_prod(PROD_ENV)
    assert result.returncode == 0, result.stderr


def test_locale_and_time_zone_are_chinese() -> None:
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_session_limits_match_r7() -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60


def test_vendored_files_match_their_recorded_hashes() -> None:
    table = (ROOT / "static/vendor/VENDORED.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+) \| \S+ \| ([0-9a-f]{64}) \|$", table, flags=re.M)
    assert rows, "VENDORED.md lists no files"
    for rel, digest in rows:
        data = (ROOT / "static/vendor" / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, rel


def test_templates_load_nothing_from_outside() -> None:
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_private_files_are_outside_static_folders() -> None:
    private = Path(settings.PRIVATE_ROOT).resolve()
    for static_dir in [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS)]:
        assert not private.is_relative_to(static_dir.resolve())
