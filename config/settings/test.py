"""Settings for the test suite: fast hashing, eager Celery unless a broker is given."""

import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRIVATE_ROOT_TMP = tempfile.mkdtemp(prefix="mofan-test-private-")
# Each test process gets its own private folder, removed when the process ends.
atexit.register(shutil.rmtree, PRIVATE_ROOT_TMP, ignore_errors=True)
PRIVATE_ROOT = Path(PRIVATE_ROOT_TMP)
MEDIA_ROOT = PRIVATE_ROOT_TMP
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not the shared-cache in-memory database the runner would make: the integration
    # tests start Celery workers as separate processes, which must see the rows a test committed.
    # The runner creates it on first use and deletes it at the end of the session.
    _test_db = Path(tempfile.gettempdir()) / f"mofan-test-{os.getpid()}-{secrets.token_hex(4)}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(_test_db)}  # noqa: F405
    for _suffix in ("", "-wal", "-shm"):  # what an interrupted session leaves behind
        atexit.register(Path(f"{_test_db}{_suffix}").unlink, missing_ok=True)
# Unit tests read mail.outbox; a worker started by the integration tests writes files there.
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default="")
EMAIL_BACKEND = (
    "django.core.mail.backends.filebased.EmailBackend"
    if EMAIL_FILE_PATH
    else "django.core.mail.backends.locmem.EmailBackend"
)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests change data and look at the dashboard at once: check the rollup on every request.
ROLLUP_CHECK_SECONDS = 0
# Unit tests run tasks inline; integration tests that start a real worker set
# CELERY_TASK_ALWAYS_EAGER=false and a real broker URL in the environment.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Axes stays on: lockout is part of what the suite checks (R6).
AXES_FAILURE_LIMIT = 5
ALLOWED_HOSTS = ["*"]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# One dispatch batch per 机关党委, so tests can reach each batch of the small fixed tree.
REMINDER_BATCH_ORGS = env.int("REMINDER_BATCH_ORGS", default=1)
