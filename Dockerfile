# Shipway's image: the web, the Celery worker and Celery beat (compose.yaml runs each
# from it with `python manage.py serve web|worker|beat`).
#
#   docker build -t shipway .
#
# By default it starts from the official Python image and installs the Python packages
# from PyPI. Offline (no registry to pull from, no PyPI in the build), give it a Python
# 3.11 image on Debian bookworm of your own as SHIPWAY_BASE_IMAGE (deploy/offline/
# python.Dockerfile makes one; tests/deploy/test_compose.py does) and put every wheel in
# deploy/wheels/ first: pip wheel --wheel-dir deploy/wheels .
# Python 3.11.4 or later: Debian bookworm's python3.11 (3.11.2) lacks tarfile's filters.
ARG SHIPWAY_BASE_IMAGE=python:3.11-slim-bookworm

FROM ${SHIPWAY_BASE_IMAGE} AS python
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/shipway/bin:$PATH
# git: the worker fetches git sources.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/shipway

# The dependencies (pyproject.toml's list), from the wheels in deploy/wheels/ when there
# are any, else from PyPI; in a stage of its own, so the wheels stay out of the image.
FROM python AS dependencies
COPY pyproject.toml README.md /src/
COPY cli /src/cli
COPY deploy/wheels/ /wheels/
RUN if ls /wheels/*.whl >/dev/null 2>&1; then \
        pip install --no-cache-dir --no-index --find-links /wheels shipway; \
    else \
        pip install --no-cache-dir /src; \
    fi

FROM python
COPY --from=dependencies /opt/shipway /opt/shipway
ENV SHIPWAY_VAR_DIR=/var/lib/shipway \
    SHIPWAY_STORAGE_ROOT=/var/lib/shipway/storage \
    SHIPWAY_EDGE_ROOT=/var/lib/shipway/edge
WORKDIR /app
# The project's code: every top-level package (pyproject.toml's [tool.mypy] files), the
# dashboard's templates and static files, and the front proxies' configurations.
COPY manage.py pyproject.toml /app/
COPY config /app/config
COPY core /app/core
COPY accounts /app/accounts
COPY sites /app/sites
COPY deployments /app/deployments
COPY notify /app/notify
COPY usage /app/usage
COPY builds /app/builds
COPY edge /app/edge
COPY realtime /app/realtime
COPY dashboard /app/dashboard
COPY runtime /app/runtime
COPY templates /app/templates
COPY static /app/static
COPY deploy/Caddyfile deploy/nginx.conf /app/deploy/
# The static files, collected (and compressed) once here rather than at every start;
# throw-away keys and state directory, so nothing secret is kept in the image.
ENV SHIPWAY_STATIC_ROOT=/app/static-collected
RUN SECRET_KEY=build SHIPWAY_ENCRYPTION_KEY=build SHIPWAY_VAR_DIR=/tmp/build-var \
        python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build-var
RUN mkdir -p /var/lib/shipway
VOLUME /var/lib/shipway
EXPOSE 8000
ENTRYPOINT ["python", "manage.py", "serve"]
CMD ["web", "--no-collectstatic"]
