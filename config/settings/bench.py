"""Settings for `make bench` (tests/bench/run.py): the test settings on a file database.

On SQLite the benchmark database is a real file under var/bench/ (not the test runner's
in-memory default), so timings include the page cache and WAL like the deployed app.
With DATABASE_URL set, the runner creates and drops test_<name>_bench on that server instead.
"""

from config.settings.test import *  # noqa: F403
from config.settings.test import BASE_DIR, DATABASES

BENCH_DIR = BASE_DIR / "var" / "bench"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(BENCH_DIR / "bench.sqlite3")}
else:
    # Not the suite's test_<name>: the runner drops an existing test database without
    # asking, and a test run on the same server must not lose its database to the bench.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_bench"}

# Timings must not include per-query logging or template debugging.
DEBUG = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # 404s are part of the scope checks, not noise worth printing.
    "loggers": {"django.request": {"level": "ERROR"}},
}
