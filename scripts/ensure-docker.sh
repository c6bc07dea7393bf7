#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker info`, for the eva-ha test nodes
# (scripts/node.sh, scripts/node-image.sh). If none answers, installs docker.io via
# apt when dockerd is missing, then starts the engine: with systemctl when PID 1 is
# systemd, else as a detached `dockerd --iptables=false --bridge=none` logging to
# /var/log/eva-ha-dockerd.log. Waits up to 60 s. Idempotent; one status line on stderr
# (and one saying so when it installs docker.io).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # say, die, apt_install, docker_wait

log=/var/log/eva-ha-dockerd.log
wait_secs=60

if docker info >/dev/null 2>&1; then
  say "engine already running"
  exit 0
fi

pid1_is_systemd() { [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; }

if [ "$(id -u)" -ne 0 ]; then
  die "no Docker engine answers and starting one needs root"
fi

installed=
if ! command -v dockerd >/dev/null 2>&1; then
  # Without systemd, keep the package's init script from starting an engine that
  # uses iptables/a bridge: a temporary policy-rc.d refuses service starts.
  policy=/usr/sbin/policy-rc.d
  own_policy=
  if ! pid1_is_systemd && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt_install docker.io
  if [ -n "$own_policy" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
  installed=" (docker.io installed)"
fi

if ! command -v docker >/dev/null 2>&1; then
  die "the docker client is missing"
fi

if pid1_is_systemd; then
  systemctl start docker
  how="systemctl start docker"
elif pgrep -x dockerd >/dev/null 2>&1; then
  how="dockerd already starting (pid $(pgrep -x dockerd | head -n 1))"
else
  setsid nohup dockerd --iptables=false --bridge=none </dev/null >>"$log" 2>&1 &
  how="dockerd started (pid $!, log $log)"
fi

if docker_wait "$wait_secs"; then
  say "engine running: ${how}${installed}"
  exit 0
fi

if pid1_is_systemd; then
  say "the Docker engine did not answer within ${wait_secs} s; see: journalctl -u docker"
else
  say "the Docker engine did not answer within ${wait_secs} s; see ${log}"
fi
exit 1
