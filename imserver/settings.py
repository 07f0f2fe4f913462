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
]

MIDDLEWARE = [
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
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
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
        }
    )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_bin"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# ------------------------------------------------------------ redis, cache, layer
REDIS_URL = env_str("REDIS_URL", "")
IM_CACHE_PREFIX = env_str("IM_CACHE_PREFIX", "im")
IM_PRESENCE_TTL_SECONDS = env_int("IM_PRESENCE_TTL_SECONDS", 120, minimum=10)
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
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
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
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

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
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
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
CELERY_BEAT_SCHEDULE = {
    "offline-purge": {"task": "messaging.purge_offline", "schedule": float(IM_OFFLINE_PURGE_INTERVAL_SECONDS)},
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

# messaging
IM_SEND_BATCH_WINDOW_MS = env_float("IM_SEND_BATCH_WINDOW_MS", 2.0)
IM_SEND_BATCH_MAX = env_int("IM_SEND_BATCH_MAX", 64, minimum=1)
# threads (each with its own persistent DB connection) that run the HTTP views of one process
IM_HTTP_THREADS = env_int("IM_HTTP_THREADS", 4, minimum=1)
# parallel batch writers per process (own thread + DB connection each); 0: 1 on SQLite, 2 otherwise
IM_SEND_LANES = env_int("IM_SEND_LANES", 0, minimum=0)
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
