#!/usr/bin/env bash
# Make sure a Docker engine answers and debootstrap is installed (the offline runtime
# images need it). Idempotent: does nothing when both are already there.
#   - installs docker.io (apt-get) when dockerd or the docker CLI is missing;
#   - starts dockerd in the background (there is no systemd on the project's machines),
#     logging to /var/log/dockerd.log, unless a dockerd is already running;
#   - waits up to 60 s for `docker info`; exits non-zero with a message if it never answers.
set -euo pipefail

LOG=/var/log/dockerd.log
WAIT_SECONDS=60
export DEBIAN_FRONTEND=noninteractive

apt_updated=""
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-docker: need root to install $*" >&2
    exit 1
  fi
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  apt-get install -y -qq "$@" >/dev/null
}

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "ensure-docker: installing debootstrap"
  apt_install debootstrap
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io"
  apt_install docker.io
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: dockerd is running but not answering yet; waiting"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-docker: dockerd is not running and starting it needs root" >&2
    exit 1
  fi
  # A pid file left by a dockerd that died makes the next one refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  echo "ensure-docker: starting dockerd (log: $LOG)"
  # setsid: the daemon outlives this script and the shell or CI step that ran it.
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$WAIT_SECONDS"); do
  if docker info >/dev/null 2>&1; then
    echo "ensure-docker: the Docker engine answers"
    exit 0
  fi
  sleep 1
done

echo "ensure-docker: the Docker engine did not answer within ${WAIT_SECONDS} s; end of $LOG:" >&2
tail -n 20 "$LOG" >&2 2>/dev/null || true
exit 1
