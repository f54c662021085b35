"""Patronage settings, configured from the environment.

Every knob an operator may turn is an environment variable; see docs/configuration.md.
Defaults give a zero-set-up SQLite installation under ``var/`` that is safe to expose:
DEBUG is off and cookies are HTTPS-only unless explicitly relaxed.
"""

import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PATRONAGE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/.

    Keeping it on disk means sessions survive restarts of an embedded installation
    without anyone having to invent a key.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key() + get_random_secret_key()
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # the API docs page's assets, served from here (the CSP allows no CDN)
    "django_tasks",
    "django_tasks_db",
    "patronage.organization",
    "patronage.accounts",
    "patronage.access",
    "patronage.audit",
    "patronage.circulation",
    "patronage.approvals",
    "patronage.privacy",
    "patronage.sis",
    "patronage.almaws",
    "patronage.web",
    "patronage.ops",
]

MIDDLEWARE = [
    # First: every log line and audit event of the request carries its id.
    "patronage.ops.requests.RequestIdMiddleware",
    "patronage.ops.headers.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sessions end when the account's power shrinks (after messages: it leaves one).
    "patronage.access.middleware.AuthEpochMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the views' exceptions first: a lost database is a 503, not a 500.
    "patronage.ops.outage.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "patronage.urls"
WSGI_APPLICATION = "patronage.wsgi.application"
ASGI_APPLICATION = "patronage.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "patronage.web.context_processors.navigation",
            ],
        },
    }
]


def _database(url: str) -> dict[str, Any]:
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; IMMEDIATE makes concurrent writers
        # queue on the busy timeout instead of failing with "database is locked".
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    return dict(config)


DATABASES = {
    "default": _database(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'patronage.sqlite3'}"
    )
}
if os.environ.get("DATABASE_REPLICA_URL"):
    # A streaming replica of the primary: reports and exports read there (patronage.replica),
    # everything else, and every write, uses the primary. Tests mirror it onto the primary.
    DATABASES["replica"] = {
        **_database(os.environ["DATABASE_REPLICA_URL"]),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["patronage.replica.PrimaryWritesRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["patronage.access.backends.PrimaryIdBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:user_search"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # PINs sent by an SIS: a keyed digest, see patronage/sis/pins.py.
    "patronage.sis.pins.SisPinHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("PASSWORD_MIN_LENGTH", "10"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from it after collectstatic
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if env_bool("PATRONAGE_PLAIN_STATIC", False)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Without collectstatic (tests, `make run`), WhiteNoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The audit trail's hash chain is keyed (HMAC), so rewriting history needs this key and not
# only database access; keep it out of the database's backups. Changing it makes every
# existing link fail verification: set it once, explicitly, in production.
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY") or f"audit-chain:{SECRET_KEY}"
AUDIT_ARCHIVE_DIR = Path(os.environ.get("AUDIT_ARCHIVE_DIR", VAR_DIR / "audit-archive"))
# PostgreSQL: a read event (a view of a patron's record) is committed without waiting for its
# WAL flush, so a view does not pay a disk sync; a database crash may lose the last fraction of
# a second of read events, never a write's event or a link (docs/privacy.md). True: wait.
AUDIT_READ_EVENTS_SYNCHRONOUS = env_bool("AUDIT_READ_EVENTS_SYNCHRONOUS", False)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "patronage@localhost")

# HTTPS hardening is on unless the operator says the service runs on plain HTTP
# (the local demo does). `patronage check --deploy` is clean with the defaults.
HTTPS = env_bool("PATRONAGE_HTTPS", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("PATRONAGE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Single sign-on through the web server (/login/external/): the request header, set only by
# the reverse proxy after the identity provider authenticated the person, that names them
# ("REMOTE_USER" for the server's own variable). Empty: external sign-in is off.
REMOTE_USER_HEADER = os.environ.get("PATRONAGE_REMOTE_USER_HEADER", "").strip()
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere (tests/ops/test_headers.py reads every template): the
# UI is templates + htmx with its eval-based features off (base.html's htmx-config).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Sign-in security (docs/security.md): throttling of failed sign-ins, held in the database.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("LOGIN_MAX_FAILURES_PER_IP", "0"))  # 0: as above
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", str(15 * 60)))  # seconds
# Staff (role holders) sign in only from these CIDR ranges; empty: from anywhere (seed 002).
STAFF_LOGIN_IP_RANGES = env_list("STAFF_LOGIN_IP_RANGES", "")
for _cidr in STAFF_LOGIN_IP_RANGES:
    ipaddress.ip_network(_cidr, strict=False)  # a typo stops the start, not a sign-in

# Access decisions are cached per process for at most this long (access/checks.py): the
# longest a grant dated to start later waits to take effect. Removal never waits. 0: off.
AUTHZ_CACHE_SECONDS = int(os.environ.get("PATRONAGE_AUTHZ_CACHE_SECONDS", "60"))
# Code-table descriptions and the current confidentiality policy are kept per process for at
# most this long (process_cache.py): the longest another process takes to see a change. 0: off.
CONFIG_CACHE_SECONDS = int(os.environ.get("PATRONAGE_CONFIG_CACHE_SECONDS", "60"))

# Attachments: a size limit and a content-type allow-list (seed 002, "Managing User Attachments").
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
ATTACHMENT_CONTENT_TYPES = env_list(
    "ATTACHMENT_CONTENT_TYPES",
    "application/pdf,image/png,image/jpeg,image/gif,text/plain,text/csv,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/msword,message/rfc822",
)

# Access governance (docs/governance.md). Every login exists in production and in the training
# sandbox; an instance honours only the grants of the environment it runs as.
PATRONAGE_ENVIRONMENT = os.environ.get("PATRONAGE_ENVIRONMENT", "production").strip().lower()
if PATRONAGE_ENVIRONMENT not in ("production", "sandbox"):
    raise ImproperlyConfigured(
        f"PATRONAGE_ENVIRONMENT: 'production' or 'sandbox', not '{PATRONAGE_ENVIRONMENT}'"
    )


# The address staff reach this service at: links in e-mails are absolute (a mail reader has no
# page to resolve a path against). A malformed value stops the start, not a notification.
def _base_url() -> str:
    value = os.environ.get("PATRONAGE_BASE_URL", "http://127.0.0.1:8000").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"PATRONAGE_BASE_URL: an http:// or https:// address with a host, not '{value}'"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(
            f"PATRONAGE_BASE_URL: no credentials, query or fragment, not '{value}'"
        )
    try:
        parts.port  # noqa: B018  # a non-numeric port raises
    except ValueError:
        raise ImproperlyConfigured(f"PATRONAGE_BASE_URL: a bad port in '{value}'") from None
    return value.rstrip("/")


PATRONAGE_BASE_URL = _base_url()
# Seed 001: requests are processed within two business days (holidays: the Holiday table).
ACCESS_REQUEST_TARGET_DAYS = int(os.environ.get("ACCESS_REQUEST_TARGET_DAYS", "2"))
# Seed 000: patron-lookup permissions need an acknowledgement of the confidentiality policy
# this many days old at most; reminders go out this many days before it lapses.
CONFIDENTIALITY_ACK_PERIOD_DAYS = int(os.environ.get("CONFIDENTIALITY_ACK_PERIOD_DAYS", "365"))
CONFIDENTIALITY_ACK_REMINDER_DAYS = int(os.environ.get("CONFIDENTIALITY_ACK_REMINDER_DAYS", "30"))
# Grants with an end date (student employees): the holder is reminded this many days before.
GRANT_EXPIRY_REMINDER_DAYS = int(os.environ.get("GRANT_EXPIRY_REMINDER_DAYS", "14"))

# Logs: one JSON object a line with the request id (PATRONAGE_LOG_FORMAT=json, the default),
# or plain text for a terminal (text; `make run`). docs/deployment.md.
LOG_FORMAT = os.environ.get("PATRONAGE_LOG_FORMAT", "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"PATRONAGE_LOG_FORMAT: 'json' or 'text', not '{LOG_FORMAT}'")

# The Alma-compatible API (/almaws/v1): Alma's governance thresholds, per API key.
ALMAWS_PER_SECOND_THRESHOLD = int(os.environ.get("ALMAWS_PER_SECOND_THRESHOLD", "25"))
ALMAWS_DAILY_THRESHOLD = int(os.environ.get("ALMAWS_DAILY_THRESHOLD", "100000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "patronage.ops.logs.JsonFormatter"},
        "text": {
            "()": "patronage.ops.logs.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The access log replaces the development server's own request lines.
        "django.server": {"level": "WARNING"},
    },
}

# Task workers (`patronage worker`) renew a heartbeat this often; /readyz calls a node not
# ready when no worker has beaten within WORKER_HEARTBEAT_MAX_AGE (unless told not to care).
WORKER_HEARTBEAT_SECONDS = int(os.environ.get("PATRONAGE_WORKER_HEARTBEAT_SECONDS", "15"))
WORKER_HEARTBEAT_MAX_AGE = int(os.environ.get("PATRONAGE_WORKER_HEARTBEAT_MAX_AGE", "60"))
READY_REQUIRES_WORKER = env_bool("PATRONAGE_READY_REQUIRES_WORKER", True)
# /metrics answers only with this bearer token (unset: 404). docs/deployment.md.
METRICS_TOKEN = os.environ.get("PATRONAGE_METRICS_TOKEN", "")

# primary_id is unique case-insensitively through UserIdentifier.key (a database constraint),
# which the log-in backend uses; a plain unique index would treat "AB12" and "ab12" as two.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
