# A stand-in for the official `redis:7` image where none can be pulled: Debian's
# redis-server on a Debian bookworm image of your own (SHIPWAY_BASE_IMAGE), with what
# compose.yaml uses of it (redis-server and redis-cli on the PATH, data in /data).
ARG SHIPWAY_BASE_IMAGE=debian:bookworm-slim
FROM ${SHIPWAY_BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
WORKDIR /data
VOLUME /data
EXPOSE 6379
USER redis
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]
