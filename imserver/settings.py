"""imserver settings.

Every knob is read here, once, from the environment, with its default next to it.
The README's configuration table lists the same names and defaults.

Embedded default (nothing set): SQLite in ``var/``, in-memory channel layer,
local-memory cache, Celery tasks run eagerly in-process. Production: set
``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url

from imserver.env import ConfigError, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("IM_VAR_DIR", str(BASE_DIR / "var")))

# --------------------------------------------------------------------------- core
DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """DJANGO_SECRET_KEY, or a random key generated once and kept in var/."""
    key = env_str("DJANGO_SECRET_KEY")
    if key:
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from here: /api/docs/ works offline
    "apps.common",
    "apps.accounts",
    "apps.audit",
    "apps.relations",
    "apps.groups",
    "apps.messaging",
    "apps.console",
    "apps.files",
    "apps.integrations",
]

MIDDLEWARE = [
    "apps.integrations.middleware.HttpMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # error pages under /api/ (404, 405, 400, 500; DEBUG on or off) become {"code", "msg"}
    "apps.common.middleware.ApiErrorsMiddleware",
    # whitenoise, async-capable: with it every middleware here runs in async mode under ASGI
    "apps.common.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "imserver.urls"
WSGI_APPLICATION = "imserver.wsgi.application"
ASGI_APPLICATION = "imserver.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ----------------------------------------------------------------------- database
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# health checks: a reused connection is pinged once per request / DB hop / send batch, so
# one that died with a database restart is replaced instead of failing the first call
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
_engine = DATABASES["default"]["ENGINE"]
if _engine == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif _engine == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "charset": "utf8mb4",
            "isolation_level": "read committed",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            # an unreachable server fails fast (readiness probes, check_deployment) instead of hanging
            "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 3, minimum=1),
        }
    )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_bin"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# ------------------------------------------------------------ redis, cache, layer
REDIS_URL = env_str("REDIS_URL", "")
IM_CACHE_PREFIX = env_str("IM_CACHE_PREFIX", "im")
IM_PRESENCE_TTL_SECONDS = env_int("IM_PRESENCE_TTL_SECONDS", 120, minimum=10)
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.common.rediscache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": IM_CACHE_PREFIX,
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.common.layer.PushLayer",  # channels-redis pub/sub, lost subscriptions counted
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("IM_CHANNEL_PREFIX", "imws"),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "imserver",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 10_000},
        }
    }

# ------------------------------------------------------------------------- celery
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_IGNORE_RESULT = True
# the queue tasks go to and workers read (separate deployments may share one broker)
CELERY_TASK_DEFAULT_QUEUE = env_str("IM_CELERY_QUEUE", "celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# CELERY_BROKER_TRANSPORT_OPTIONS and CELERY_BEAT_SCHEDULE follow the imserver knobs below

# ------------------------------------------------------------------ i18n, static
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# ----------------------------------------------------------------------- security
# Secure by default when DEBUG is off; each can be relaxed by environment only.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
IM_BEHIND_TLS_PROXY = env_bool("IM_BEHIND_TLS_PROXY", False)
if IM_BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# health probes and metrics answer over plain HTTP too (a load balancer or scraper reaches each node directly)
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$", r"^metrics$"]

# ----------------------------------------------------------------- HTTP limits
# answered with JSON before Django reads a request (imserver.limits): 413 / 414 / 431
IM_HTTP_MAX_BODY_BYTES = env_int("IM_HTTP_MAX_BODY_BYTES", 2_621_440, minimum=65_536)
IM_HTTP_MAX_URL_BYTES = env_int("IM_HTTP_MAX_URL_BYTES", 8192, minimum=1024)
IM_HTTP_MAX_HEADER_BYTES = env_int("IM_HTTP_MAX_HEADER_BYTES", 32_768, minimum=4096)
DATA_UPLOAD_MAX_MEMORY_SIZE = IM_HTTP_MAX_BODY_BYTES
# query-string and form fields per request (Django's default), answered with 400 / 1001
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

# -------------------------------------------------------------------------- DRF
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["apps.common.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.common.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "apps.common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.common.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "apps.common.api.OffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {
        "auth_token": env_str("IM_RATE_AUTH_TOKEN", "30/min"),
    },
    "UNAUTHENTICATED_USER": None,
    # throttles key on the peer address; X-Forwarded-For only counts behind our own proxy
    # (its last entry, the one the proxy appended): a client cannot forge its way past a limit
    "NUM_PROXIES": 1 if IM_BEHIND_TLS_PROXY else 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "imserver API",
    "DESCRIPTION": (
        "REST API of imserver, a self-hosted instant-messaging server. "
        "Authenticate with `Authorization: Bearer <token>` (see /api/v1/auth/*). "
        'Errors are `{"code": <int>, "msg": <str>}`; codes are listed in docs/protocol.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "APPEND_COMPONENTS": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
    },
    "SECURITY": [{"bearerAuth": []}],
    "ENUM_NAME_OVERRIDES": {},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# ----------------------------------------------------------------------- imserver
IM_SECRET = env_str("IM_SECRET", "change-me-imserver-secret")
IM_ADMIN_USER_IDS = env_list("IM_ADMIN_USER_IDS", ["imAdmin"])
IM_TOKEN_TTL_SECONDS = env_int("IM_TOKEN_TTL_SECONDS", 90 * 24 * 3600, minimum=60)
# 0 keep up to IM_MULTI_LOGIN_MAX_PER_PLATFORM tokens per platform;
# 1 one login per platform (default); 4 one per platform class; 5 PC free, one non-PC.
IM_MULTI_LOGIN_POLICY = env_int("IM_MULTI_LOGIN_POLICY", 1)
IM_MULTI_LOGIN_MAX_PER_PLATFORM = env_int("IM_MULTI_LOGIN_MAX_PER_PLATFORM", 30, minimum=1)
IM_OFFLINE_RETENTION_DAYS = env_int("IM_OFFLINE_RETENTION_DAYS", 14, minimum=1)
# the retention purge (Celery beat task messaging.purge_offline / manage.py purge_offline):
# how often it runs, and rows per batch (each batch is its own short transaction)
IM_OFFLINE_PURGE_INTERVAL_SECONDS = env_int("IM_OFFLINE_PURGE_INTERVAL_SECONDS", 3600, minimum=60)
IM_OFFLINE_PURGE_BATCH = env_int("IM_OFFLINE_PURGE_BATCH", 1000, minimum=1)
# Redis broker only: a task taken by a worker that died (SIGKILL, OOM, lost host) is handed
# out again once it has stayed unacknowledged this long; workers sweep for such tasks every
# quarter of it (at most every 10 s). Keep it above the longest task run (a fan-out chunk
# takes well under a second). RabbitMQ redelivers as soon as the worker's connection drops.
IM_CELERY_VISIBILITY_TIMEOUT = env_int("IM_CELERY_VISIBILITY_TIMEOUT", 300, minimum=2)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": IM_CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(10, IM_CELERY_VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
    # the sweep's lock outlives a worker killed while holding it by at most this long
    "unacked_mutex_expire": min(300, IM_CELERY_VISIBILITY_TIMEOUT),
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# beat's heartbeat: a tiny task whose last run (in the shared cache) shows beat and a worker are alive
IM_BEAT_HEARTBEAT_SECONDS = env_int("IM_BEAT_HEARTBEAT_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "offline-purge": {"task": "messaging.purge_offline", "schedule": float(IM_OFFLINE_PURGE_INTERVAL_SECONDS)},
    "beat-heartbeat": {
        "task": "common.beat_heartbeat",
        "schedule": float(IM_BEAT_HEARTBEAT_SECONDS),
        "options": {"expires": float(IM_BEAT_HEARTBEAT_SECONDS)},  # no backlog while workers are down
    },
}

# websocket gateway
# the server's cyclic GC: startup objects frozen, then gen0 collected every 50,000 net allocations
# (not 700): with thousands of live sockets the default ran 30-300 ms pauses every few seconds
_gc = env_list("IM_GC_THRESHOLDS", ["50000", "20", "10"])
IM_GC_THRESHOLDS = [int(x) for x in _gc if x.isdigit()]
if len(IM_GC_THRESHOLDS) != 3 or len(_gc) != 3:
    raise ConfigError("IM_GC_THRESHOLDS must be three non-negative integers, e.g. 50000,20,10 (700,10,10: Python's)")
IM_WS_MAX_FRAME_BYTES = env_int("IM_WS_MAX_FRAME_BYTES", 64 * 1024, minimum=1024)
IM_WS_IDLE_TIMEOUT_SECONDS = env_float("IM_WS_IDLE_TIMEOUT_SECONDS", 90.0)
IM_WS_MAX_BAD_FRAMES = env_int("IM_WS_MAX_BAD_FRAMES", 20, minimum=1)
IM_WS_MAX_CONNECTIONS = env_int("IM_WS_MAX_CONNECTIONS", 100_000, minimum=1)
# after this many closed websockets, one full GC once the closing calms down (0 = never)
IM_GC_AFTER_DISCONNECTS = env_int("IM_GC_AFTER_DISCONNECTS", 500, minimum=0)

# messaging
IM_SEND_BATCH_WINDOW_MS = env_float("IM_SEND_BATCH_WINDOW_MS", 2.0)
IM_SEND_BATCH_MAX = env_int("IM_SEND_BATCH_MAX", 64, minimum=1)
# threads (each with its own persistent DB connection) that run the HTTP views of one process
IM_HTTP_THREADS = env_int("IM_HTTP_THREADS", 4, minimum=1)
# parallel batch writers per process (own thread + DB connection each); 0: 1 on SQLite, 2 otherwise
IM_SEND_LANES = env_int("IM_SEND_LANES", 0, minimum=0)
# backpressure: while pushes reach this process's sockets later than this (ms), send batches wait
# (at most IM_PUSH_BACKPRESSURE_MAX_MS each) instead of letting Redis' pub/sub buffer overflow; 0 = off
IM_PUSH_LAG_LIMIT_MS = env_float("IM_PUSH_LAG_LIMIT_MS", 500.0)
IM_PUSH_BACKPRESSURE_MAX_MS = env_float("IM_PUSH_BACKPRESSURE_MAX_MS", 1000.0)
# how long the per-user "latest message" hint of the ping reply is kept in Redis
IM_LATEST_HINT_TTL_SECONDS = env_int("IM_LATEST_HINT_TTL_SECONDS", 7 * 24 * 3600, minimum=60)
IM_REVOKE_WINDOW_SECONDS = env_int("IM_REVOKE_WINDOW_SECONDS", 24 * 3600, minimum=0)
IM_TEXT_MAX_CHARS = env_int("IM_TEXT_MAX_CHARS", 10_000, minimum=1)
IM_CONTENT_MAX_BYTES = env_int("IM_CONTENT_MAX_BYTES", 32 * 1024, minimum=256)
IM_FRIENDS_ONLY_CHAT = env_bool("IM_FRIENDS_ONLY_CHAT", False)
IM_PULL_MAX_LIMIT = env_int("IM_PULL_MAX_LIMIT", 500, minimum=1)
IM_GROUP_MAX_MEMBERS = env_int("IM_GROUP_MAX_MEMBERS", 10_000, minimum=2)
IM_FANOUT_CHUNK_SIZE = env_int("IM_FANOUT_CHUNK_SIZE", 500, minimum=1)
# per-user send rate (websocket and REST; 0 = unlimited) and the burst allowed on top of it
IM_SEND_RATE_PER_SECOND = env_float("IM_SEND_RATE_PER_SECOND", 20.0)
IM_SEND_RATE_BURST = env_int("IM_SEND_RATE_BURST", 10, minimum=0)

# relations and groups: hot read state (blacklist, friendship, membership, mutes) cached
# for this many seconds; every change invalidates its keys, the TTL bounds a racing re-cache
IM_RELATION_CACHE_SECONDS = env_int("IM_RELATION_CACHE_SECONDS", 300, minimum=1)
# incremental sync (apps/common/versionlog.py): log entries kept per list (friends, joined groups,
# group members, conversations); a client whose version is older than the kept ones gets the full list
IM_VERSION_LOG_KEEP = env_int("IM_VERSION_LOG_KEEP", 1000, minimum=1)
# seconds a rendered conversation-list page is reused for the same user, version and query (new
# messages and read marks do not bump the list's version; the websocket's seqs are live); 0: never
IM_CONVERSATION_LIST_CACHE_SECONDS = env_int("IM_CONVERSATION_LIST_CACHE_SECONDS", 1, minimum=0)
# rendered list pages each server process keeps in memory too (version-keyed: never stale)
IM_LIST_PAGES_PER_PROCESS = env_int("IM_LIST_PAGES_PER_PROCESS", 512, minimum=0)

# files (apps/files; docs/integrations.md): uploads up to this size (413 beyond, refused before the body is read)
IM_UPLOAD_MAX_BYTES = env_int("IM_UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
# sniffed MIME types accepted (fnmatch patterns); application/octet-stream is what unrecognised bytes sniff as
IM_UPLOAD_ALLOWED_TYPES = env_list(
    "IM_UPLOAD_ALLOWED_TYPES",
    ["image/jpeg", "image/png", "image/gif", "image/webp", "audio/*", "video/*", "application/pdf",
     "application/zip", "application/gzip", "application/x-tar", "application/x-7z-compressed", "text/plain",
     "application/msword", "application/vnd.*", "application/octet-stream"],
)
IM_THUMBNAIL_PX = env_int("IM_THUMBNAIL_PX", 320, minimum=16)
IM_PICTURE_MAX_PIXELS = env_int("IM_PICTURE_MAX_PIXELS", 50_000_000, minimum=1)
# signed download links (?sig=) stay valid this long
IM_FILE_URL_TTL_SECONDS = env_int("IM_FILE_URL_TTL_SECONDS", 3600, minimum=10)
# prefix of the file URLs put into messages ("" keeps them relative: /api/v1/files/<id>/content)
IM_FILES_URL_BASE = env_str("IM_FILES_URL_BASE", "").rstrip("/")
# where the bytes go: a directory (default), or an S3-compatible bucket (needs requirements-s3.txt)
IM_FILES_DIR = Path(env_str("IM_FILES_DIR", str(VAR_DIR / "files")))
IM_FILES_S3_BUCKET = env_str("IM_FILES_S3_BUCKET", "")
IM_FILES_S3_ENDPOINT_URL = env_str("IM_FILES_S3_ENDPOINT_URL", "")
IM_FILES_S3_REGION = env_str("IM_FILES_S3_REGION", "")
IM_FILES_S3_ACCESS_KEY_ID = env_str("IM_FILES_S3_ACCESS_KEY_ID", "")
IM_FILES_S3_SECRET_ACCESS_KEY = env_str("IM_FILES_S3_SECRET_ACCESS_KEY", "")
IM_FILES_S3_PREFIX = env_str("IM_FILES_S3_PREFIX", "im-files")
if IM_FILES_S3_BUCKET:
    _files_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": IM_FILES_S3_BUCKET,
            "endpoint_url": IM_FILES_S3_ENDPOINT_URL or None,
            "region_name": IM_FILES_S3_REGION or None,
            "access_key": IM_FILES_S3_ACCESS_KEY_ID or None,
            "secret_key": IM_FILES_S3_SECRET_ACCESS_KEY or None,
            "location": IM_FILES_S3_PREFIX,
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
else:
    _files_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                      "OPTIONS": {"location": str(IM_FILES_DIR), "file_permissions_mode": 0o640}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "im_files": _files_storage,
}
# uploads above this are spooled to a temporary file, not kept in memory
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# webhooks (apps/integrations; docs/integrations.md): events POSTed to the app, signed with the secret
IM_WEBHOOK_URL = env_str("IM_WEBHOOK_URL", "")
IM_WEBHOOK_SECRET = env_str("IM_WEBHOOK_SECRET", "")
if IM_WEBHOOK_URL and not IM_WEBHOOK_SECRET:
    raise ConfigError("IM_WEBHOOK_URL needs IM_WEBHOOK_SECRET (the key of the X-IM-Signature HMAC)")
# which events to send: names, "group.*"-style families, or * for all
IM_WEBHOOK_EVENTS = env_list("IM_WEBHOOK_EVENTS", ["*"])
# message.before_send: ask the app before storing a message; how long to wait, and what a failed call means
IM_WEBHOOK_BEFORE_SEND = env_bool("IM_WEBHOOK_BEFORE_SEND", False)
IM_WEBHOOK_TIMEOUT_MS = env_int("IM_WEBHOOK_TIMEOUT_MS", 1000, minimum=10)
IM_WEBHOOK_FAIL_OPEN = env_bool("IM_WEBHOOK_FAIL_OPEN", True)
# after-the-fact events: per-attempt timeout, retries (exponential backoff, capped)
IM_WEBHOOK_DELIVERY_TIMEOUT_MS = env_int("IM_WEBHOOK_DELIVERY_TIMEOUT_MS", 5000, minimum=10)
IM_WEBHOOK_MAX_RETRIES = env_int("IM_WEBHOOK_MAX_RETRIES", 8, minimum=0)
IM_WEBHOOK_RETRY_BACKOFF_MAX_SECONDS = env_int("IM_WEBHOOK_RETRY_BACKOFF_MAX_SECONDS", 300, minimum=1)

# metrics: GET /metrics answers only these client addresses (CIDR list)
IM_METRICS_ALLOW = env_list("IM_METRICS_ALLOW", ["127.0.0.0/8", "::1/128"])
# prometheus-client reads this itself (multiprocess mode: one scrape covers every process of the node)
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")

# tests that need MariaDB/Redis fail instead of skipping when this is on (CI sets it)
IM_REQUIRE_SERVICES = env_bool("IM_REQUIRE_SERVICES", False)

# ------------------------------------------------------------------------ logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
