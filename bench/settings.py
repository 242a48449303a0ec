"""Settings for the benchmarks: the project's own, plus the bench's URL map and quiet logs.

Servers started by `bench/api.py` run with DJANGO_SETTINGS_MODULE=bench.settings and the
bench database in DATABASE_URL. Everything else (middleware, authentication, renderers,
pagination, database options) is the project's, so the numbers are the product's.

BENCH_DB_POOL=1 switches the database to psycopg's connection pool (Django's
OPTIONS["pool"], which needs the psycopg-pool package): the bench uses it to measure
what a pool would change under ASGI, where connections do not outlive a request.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES, LOGGING

DEBUG = False
ROOT_URLCONF = "bench.urls"

# Per-request log lines would be measured along with the request: keep warnings only.
LOGGING = {
    **LOGGING,
    "root": {**LOGGING["root"], "level": "WARNING"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if os.environ.get("BENCH_DB_POOL", "") in {"1", "true", "yes", "on"}:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a pool and persistent connections exclude each other
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 8}
