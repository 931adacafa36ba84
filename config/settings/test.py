"""Settings for the test suite: fast hashing, eager Celery unless a broker is given."""

import atexit
import os
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
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Unit tests run tasks inline; integration tests that start a real worker set
# CELERY_TASK_ALWAYS_EAGER=false and a real broker URL in the environment.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Axes stays on: lockout is part of what the suite checks (R6).
AXES_FAILURE_LIMIT = 5
ALLOWED_HOSTS = ["*"]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
