# A stand-in for the official `caddy:2` image where none can be pulled: Debian's caddy
# (2.6) on a Debian bookworm image of your own (SHIPWAY_BASE_IMAGE), with what
# compose.yaml uses of it (caddy on the PATH, its data in /data and /config, wget for
# the health check).
ARG SHIPWAY_BASE_IMAGE=debian:bookworm-slim
FROM ${SHIPWAY_BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends caddy wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data /config /etc/caddy
ENV XDG_CONFIG_HOME=/config \
    XDG_DATA_HOME=/data
VOLUME /data /config
EXPOSE 80 443
WORKDIR /srv
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
