"""Settings shared by every environment.

Every deployment-specific value is read from the environment here and only here
(style rule 15). Defaults are the embedded runtime of `make run`: SQLite in the
project folder, a file-system Celery broker, console e-mail.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-key-change-me-9c1f0d2b7a4e")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "simple_history",
    "django_celery_beat",
    "branches",
    "campaigns",
    "scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "branches.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must be last: it turns a lockout signalled by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "branches.context_processors.navigation",
                "campaigns.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker use the same file without
    # "database is locked" errors; IMMEDIATE makes writers queue instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "branches.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# R7: 30 minutes idle (the cookie age is renewed on every request) and 12 hours
# absolute (enforced by branches.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# R6: django-axes locks a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Whitenoise warns when STATIC_ROOT is missing before the first collectstatic.
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# Private files (evidence, import uploads). Never served under a public URL:
# downloads go through permission-checked views.
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", default=str(BASE_DIR / "var" / "private")))
MEDIA_ROOT = str(PRIVATE_ROOT)
# With nginx in front, downloads are handed over with X-Accel-Redirect to an internal
# location that maps this prefix to PRIVATE_ROOT (README); empty = Django streams the file.
PRIVATE_ACCEL_PREFIX = env("PRIVATE_ACCEL_PREFIX", default="")
MEDIA_URL = "/private-not-served/"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Upload limits (R8/R9). Imports are rejected above this size before parsing.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=200 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="模范机关创建 <noreply@localhost>")

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Celery -----------------------------------------------------------------
# Embedded default: a file-system broker in var/celery, consumed by one local
# process running worker and beat together (`make run`). Production sets
# CELERY_BROKER_URL=redis://... and runs workers and exactly one beat.
CELERY_DATA_DIR = Path(env("CELERY_DATA_DIR", default=str(BASE_DIR / "var" / "celery")))
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (CELERY_DATA_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "store_processed": False,
        # Broadcast/pidbox exchanges; kombu would otherwise create ./control in the CWD.
        "control_folder": str(CELERY_DATA_DIR / "control"),
    }
else:
    # Socket timeouts so a frozen Redis cannot hang a publisher (reliability.md §4); web
    # requests never publish anyway: they write the outbox, which the relay publishes.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_timeout": 5,
        "socket_connect_timeout": 3,
        "max_retries": 1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Periodic jobs are declared here, in one place (style rule 8); the database
# scheduler installs them at start-up so staff can adjust times in the admin.
CELERY_BEAT_SCHEDULE: dict = {
    "branches-clear-expired-sessions": {
        "task": "branches.tasks.clear_expired_sessions",
        "schedule": 6 * 60 * 60.0,
    },
    # The outbox relay (R13): publishes jobs written by web requests and re-publishes lost ones.
    "branches-relay-outbox": {
        "task": "branches.tasks.relay_outbox",
        "schedule": float(env.int("OUTBOX_RELAY_SECONDS", default=5)),
        # A tick queued behind long jobs is dropped rather than piling up; the next one follows.
        "options": {"expires": 60},
    },
    # The reminder dispatcher: each 工委's run starts once a day at the time set on its
    # 提醒设置 page (ReminderPolicy.dispatch_time); this tick only checks whether that time has come.
    "campaigns-dispatch-due-reminders": {
        "task": "campaigns.tasks.dispatch_due_reminders",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    # Dashboard rollups (scoring/rollups.py): rebuilt for every campaign whose data moved.
    "scoring-refresh-rollups": {
        "task": "scoring.tasks.refresh_rollups",
        "schedule": float(env.int("ROLLUP_REFRESH_SECONDS", default=60)),
        "options": {"expires": 50},
    },
}
# A dashboard whose rollup is behind rebuilds it in the request when the last rebuild took at
# most this long; otherwise it queues the rebuild and shows the figures it has, with their time.
ROLLUP_SYNC_SECONDS = env.float("ROLLUP_SYNC_SECONDS", default=1.5)
# A rollup found current is not checked again (one query) for this many seconds (0: every request).
ROLLUP_CHECK_SECONDS = env.int("ROLLUP_CHECK_SECONDS", default=10)

# Outbox and channel delivery (domain.md §10, R12-R13).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=35 * 60)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_BACKOFF_SECONDS = env.int("OUTBOX_BACKOFF_SECONDS", default=30)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=5)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=5)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
REMINDER_CATCH_UP_DAYS = env.int("REMINDER_CATCH_UP_DAYS", default=2)
# Organisations per dispatch batch: whole 机关党委 subtrees, small ones grouped up to this size.
REMINDER_BATCH_ORGS = env.int("REMINDER_BATCH_ORGS", default=200)
# Absolute links in e-mails and group-robot messages.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Evidence uploads (domain.md §6, R8): size cap and the allowed types, by extension; the
# content is sniffed from magic bytes and must agree with the extension.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
EVIDENCE_ALLOWED_EXTENSIONS = env.list(
    "EVIDENCE_ALLOWED_EXTENSIONS",
    default=["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "jpg", "jpeg", "png", "ofd"],
)

# Term end (换届) warning horizon shown on organisation pages (domain §10).
TERM_END_WARNING_DAYS = 90

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
