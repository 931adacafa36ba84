"""Settings for `make bench` (tests/bench/run.py): the test settings on a file database.

On SQLite the benchmark database is a real file under var/bench/ (not the test runner's
in-memory default), so timings include the page cache and WAL like the deployed app.
With DATABASE_URL set, the runner creates and drops test_<name>_bench on that server instead.
"""

from config.settings.base import env
from config.settings.test import *  # noqa: F403
from config.settings.test import BASE_DIR, DATABASES

BENCH_DIR = BASE_DIR / "var" / "bench"
# As deployed: a rollup found current is trusted for 10 s (the test settings check every time).
ROLLUP_CHECK_SECONDS = 10
# BENCH_DB_NAME: another benchmark database (the P11 smoke test must not drop the one
# of a `make bench` running at the same time).
_bench_db_name = env("BENCH_DB_NAME", default="")

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": _bench_db_name or str(BENCH_DIR / "bench.sqlite3")}
else:
    # Not the suite's test_<name>: the runner drops an existing test database without
    # asking, and a test run on the same server must not lose its database to the bench.
    DATABASES["default"]["TEST"] = {"NAME": _bench_db_name or f"test_{DATABASES['default']['NAME']}_bench"}

# P11 serves the benchmark database over HTTP from a gunicorn subprocess: the harness
# passes the name of the database it created (a file path on SQLite).
_serve_db_name = env("BENCH_SERVE_DB", default="")
if _serve_db_name:
    DATABASES["default"]["NAME"] = _serve_db_name

# The product's URLs plus P11's hello-world reference view.
ROOT_URLCONF = "tests.bench.bench_urls"

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
