"""Leadbase settings, read from environment variables (see README, "Configuration").

Two profiles: the embedded default (SQLite in the data directory, in-process worker) and
production (`LEADBASE_ENV=production`: a real SECRET_KEY is required and every
`manage.py check --deploy` hardening is on).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP  # type: ignore[import-not-found,unused-ignore]


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: use true/false (or 1/0, yes/no, on/off).")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("LEADBASE_DATA_DIR", PROJECT_DIR / "var")).resolve()
ENVIRONMENT = os.environ.get("LEADBASE_ENV", "local")
PRODUCTION = ENVIRONMENT == "production"
if ENVIRONMENT not in {"local", "production", "test"}:
    raise ImproperlyConfigured("LEADBASE_ENV must be one of local, production, test.")

DEBUG = env_bool("LEADBASE_DEBUG", False)


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random SECRET_KEY in the environment, "
            "e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Embedded default: one random key per data directory, kept so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # serves its bundled Swagger UI files, so /api/v1/docs needs no CDN
    "django_tasks_db",
    "leadbase.core",
    "leadbase.accounts",
    "leadbase.leads",
    "leadbase.capture",
    "leadbase.tracking",
    "leadbase.scoring",
    "leadbase.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "leadbase.config.urls"
WSGI_APPLICATION = "leadbase.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user:pass@host:5432/name) or the embedded SQLite file.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'leadbase.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE avoids
        # "database is locked" upgrades from read to write inside a transaction. Reads
        # through a memory map (up to 256 MiB of the file, shared by every connection)
        # instead of a read() per page missing from each connection's 2 MiB page cache.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    if not os.environ.get("DATABASE_URL"):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with the health check at most once a second per connection.
    DATABASES["default"]["ENGINE"] = "leadbase.core.postgresql"
    # Django turns psycopg's prepared statements off; core.prepared's hot reads (the API's
    # key and lead) ask for them, so PostgreSQL plans each once per connection. Django's own
    # queries bind on the client and are never prepared. Set DATABASE_PREPARED_STATEMENTS=
    # false behind a transaction-mode pooler that cannot keep them (PgBouncer before 1.21).
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "leads:list"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
# Front-end packages come from npm (package.json + package-lock.json), never copied in.
STATICFILES_DIRS = [("vendor", PROJECT_DIR / "node_modules")]
# Uploaded files (imports, content to deliver) live in the data directory.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION  # embedded mode serves straight from the finders
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it to exist

# Background tasks: django.tasks with the database backend; workers claim with SKIP LOCKED.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("LEADBASE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A RUNNING task whose worker has not sent a heartbeat for this many seconds is given back
# to the queue (its worker died); after LEADBASE_TASK_MAX_ATTEMPTS claims it is failed.
LEADBASE_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("LEADBASE_WORKER_HEARTBEAT_SECONDS", "5"))
LEADBASE_WORKER_LEASE_SECONDS = float(os.environ.get("LEADBASE_WORKER_LEASE_SECONDS", "60"))
LEADBASE_TASK_MAX_ATTEMPTS = int(os.environ.get("LEADBASE_TASK_MAX_ATTEMPTS", "3"))

# Public forms at /f/<slug> (docs/capture-forms.md): spam and abuse limits. Rates are
# "<hits>/<seconds>" per fixed window, counted in the database (leadbase.core.ratelimit).
LEADBASE_FORMS_RATE_PER_IP = os.environ.get("LEADBASE_FORMS_RATE_PER_IP", "10/60")
LEADBASE_FORMS_RATE_PER_FORM = os.environ.get("LEADBASE_FORMS_RATE_PER_FORM", "600/60")
LEADBASE_FORMS_MIN_FILL_SECONDS = float(os.environ.get("LEADBASE_FORMS_MIN_FILL_SECONDS", "3"))
LEADBASE_FORMS_TOKEN_MAX_AGE_SECONDS = int(
    os.environ.get("LEADBASE_FORMS_TOKEN_MAX_AGE_SECONDS", str(2 * 24 * 3600))
)
LEADBASE_FORMS_MAX_BODY_BYTES = int(os.environ.get("LEADBASE_FORMS_MAX_BODY_BYTES", "65536"))
LEADBASE_FORMS_DUPLICATE_WINDOW_SECONDS = int(
    os.environ.get("LEADBASE_FORMS_DUPLICATE_WINDOW_SECONDS", "600")
)
LEADBASE_FORMS_REJECT_DISPOSABLE = env_bool("LEADBASE_FORMS_REJECT_DISPOSABLE", False)
# Webhooks at /hooks/ (docs/capture-webhooks.md): largest body accepted, and how many refused
# (unsigned, forged) requests per IP are kept in the delivery log per window.
LEADBASE_HOOKS_MAX_BODY_BYTES = int(os.environ.get("LEADBASE_HOOKS_MAX_BODY_BYTES", str(1 << 20)))
LEADBASE_HOOKS_REJECTED_LOG_RATE = os.environ.get("LEADBASE_HOOKS_REJECTED_LOG_RATE", "60/60")
# Largest CSV/XLSX file an import accepts (docs/capture-import.md).
LEADBASE_IMPORT_MAX_BYTES = int(os.environ.get("LEADBASE_IMPORT_MAX_BYTES", str(200 << 20)))
LEADBASE_IMPORT_FILE_RETENTION_DAYS = int(
    os.environ.get("LEADBASE_IMPORT_FILE_RETENTION_DAYS", "30")
)  # days an uploaded import file is kept after its run (leadbase.capture.imports.cleanup)
# Tracking (docs/tracking.md): beacon/pixel requests per IP, largest event properties, days the
# events of visitors who never identify are kept, pricing page paths, and (when set) the only
# sites whose pages may send beacons (space- or comma-separated host names).
LEADBASE_TRACKING_RATE_PER_IP = os.environ.get("LEADBASE_TRACKING_RATE_PER_IP", "120/60")
LEADBASE_TRACKING_MAX_PROPERTIES_BYTES = int(
    os.environ.get("LEADBASE_TRACKING_MAX_PROPERTIES_BYTES", "8192")
)
LEADBASE_TRACKING_ANONYMOUS_DAYS = int(os.environ.get("LEADBASE_TRACKING_ANONYMOUS_DAYS", "180"))
LEADBASE_TRACKING_PRICING_PATHS = os.environ.get("LEADBASE_TRACKING_PRICING_PATHS", "/pricing")
LEADBASE_TRACKING_ALLOWED_DOMAINS = os.environ.get("LEADBASE_TRACKING_ALLOWED_DOMAINS", "")
# How a change of a lead (an event, an edit) reaches its scores (docs/scoring.md): a scorer
# thread per process (background), in the hook after the commit (inline), or a task per change.
LEADBASE_SCORING_ON_CHANGE = os.environ.get(
    "LEADBASE_SCORING_ON_CHANGE", "inline" if ENVIRONMENT == "test" else "background"
)
if LEADBASE_SCORING_ON_CHANGE not in ("background", "inline", "task"):
    raise ImproperlyConfigured("LEADBASE_SCORING_ON_CHANGE must be background, inline or task.")


def _env_days(name: str, default: float, *, minimum: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        days = float(value)
    except ValueError:
        days = float("nan")
    if not minimum <= days < float("inf"):
        raise ImproperlyConfigured(f"{name}={value!r}: use a number of days, at least {minimum:g}.")
    return days


def _env_count(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip().replace("_", "")
    if not value:
        return default
    if not value.isdigit():
        raise ImproperlyConfigured(f"{name}={value!r}: use a whole number, 0 or more.")
    return int(value)


# Predictive scoring (docs/predictive-scoring.md): days without activity after which an open
# lead counts as not converted for training; age of the newest version at which the scheduled
# retraining trains again (0 turns it off).
LEADBASE_PREDICTIVE_QUIET_DAYS = _env_days("LEADBASE_PREDICTIVE_QUIET_DAYS", 90, minimum=1)
LEADBASE_PREDICTIVE_RETRAIN_DAYS = _env_days("LEADBASE_PREDICTIVE_RETRAIN_DAYS", 7, minimum=0)
# The most labelled leads one training uses, the most recent (0: all; docs/benchmarks.md has
# why 200,000: about 15 minutes on 2 cores).
LEADBASE_PREDICTIVE_MAX_ROWS = _env_count("LEADBASE_PREDICTIVE_MAX_ROWS", 200_000)

# Reverse proxies in front of Leadbase that append to X-Forwarded-For (0: use REMOTE_ADDR).
LEADBASE_PROXY_COUNT = int(os.environ.get("LEADBASE_PROXY_COUNT", "0"))

# Email (Django 6.1 MAILERS): SMTP when EMAIL_HOST is set, and always in production (default
# host: a local mail relay); the embedded default prints mail to the console.
_EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost" if PRODUCTION else "")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _EMAIL_HOST,
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "use_ssl": env_bool("EMAIL_USE_SSL", False),
                "timeout": 30,
            },
        }
        if _EMAIL_HOST
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "leadbase@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Emails to leads and owners (capture: double opt-in, content delivery, owner notification;
# see docs/capture-optin.md). The base URL makes the links in them absolute.
LEADBASE_BASE_URL = os.environ.get("LEADBASE_BASE_URL", "http://localhost:8000").rstrip("/")
LEADBASE_BUSINESS_NAME = os.environ.get("LEADBASE_BUSINESS_NAME", "Leadbase")
LEADBASE_OPTIN_LINK_DAYS = float(os.environ.get("LEADBASE_OPTIN_LINK_DAYS", "7"))
LEADBASE_DOWNLOAD_LINK_DAYS = float(os.environ.get("LEADBASE_DOWNLOAD_LINK_DAYS", "7"))
LEADBASE_EMAIL_MAX_ATTEMPTS = int(os.environ.get("LEADBASE_EMAIL_MAX_ATTEMPTS", "5"))

# Security. Content-Security-Policy: same-origin scripts only, inline scripts need the nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Upper bounds on what one request may send (bytes and form fields).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

if ENVIRONMENT == "test":
    # Tests create many users; a fast hasher keeps the suite quick (never used outside tests).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
