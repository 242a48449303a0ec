# A stand-in for the official `postgres:15` image where none can be pulled: Debian's
# postgresql-15 on a Debian bookworm image of your own (SHIPWAY_BASE_IMAGE), with the
# same interface compose.yaml uses (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, data
# in /var/lib/postgresql/data, pg_isready). Build context: deploy/offline.
ARG SHIPWAY_BASE_IMAGE=debian:bookworm-slim
FROM ${SHIPWAY_BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
