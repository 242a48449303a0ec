# A stand-in for the official `python:3.11-slim-bookworm` image where none can be
# pulled: a CPython 3.11 (3.11.4 or later: Shipway unpacks sources with tarfile's
# filters) already built on this machine, copied into /usr/local of a Debian bookworm
# image of your own (SHIPWAY_BASE_IMAGE), with the shared libraries it links to from
# Debian's packages. Debian bookworm's own python3.11 is 3.11.2, too old. Build context:
# a directory holding this file and `python/`, a copy of that Python's prefix (without
# its site-packages); tests/deploy/test_compose.py makes one from the Python it runs on.
ARG SHIPWAY_BASE_IMAGE=debian:bookworm-slim
FROM ${SHIPWAY_BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libbz2-1.0 libexpat1 \
       libffi8 liblzma5 libncursesw6 libnsl2 libreadline8 libsqlite3-0 libssl3 \
       libtirpc3 libuuid1 zlib1g \
    && rm -rf /var/lib/apt/lists/*
COPY python/ /usr/local/
RUN ldconfig \
    && ln -sf python3.11 /usr/local/bin/python3 \
    && ln -sf python3 /usr/local/bin/python \
    && python3 -c "import ssl, sqlite3, tarfile; tarfile.data_filter"
CMD ["python3"]
