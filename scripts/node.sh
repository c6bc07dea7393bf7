#!/usr/bin/env bash
# Runs eva-ha test nodes: containers that boot real systemd and are dressed as an NEC
# EVA master node (image from scripts/node-image.sh). Used by the end-to-end tests,
# the sandbox demo and the benchmark.
#   node.sh image [--drill]             print the node image tag (builds it if needed)
#   node.sh run [--drill] NAME [docker-run-args]
#                                       start node NAME (replacing any old one) and
#                                       wait until systemd is up (running/degraded)
#   node.sh install NAME BINARY         put BINARY in NAME as /usr/local/sbin/eva-ha,
#                                       plus the eva-start/-stop/-genw/-check/-verify links
#                                       and the OCF agent link (see below)
#   node.sh rm NAME                     remove node NAME
#   node.sh rm-all                      remove every node, network and volume (label
#                                       eva-ha-test=1)
# --drill: the drill node image (node-image.sh --drill: a real Docker engine, PostgreSQL on
# the shared disk, the EVA master stand-in; scripts/drill-nodes.sh runs pairs of them).
# Progress and diagnostics go to stderr; `image` prints the tag on stdout.
# `install` runs scripts/install.sh in the node, then makes the OCF resource agent
# /usr/lib/ocf/resource.d/eva-ha/eva-master -> /usr/local/sbin/eva-ha unless it exists.
# Two-node Pacemaker clusters of these nodes: scripts/cluster.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
boot_timeout=90
ocf_dir=/usr/lib/ocf/resource.d/eva-ha

SAY_PREFIX=node
# shellcheck source=scripts/lib.sh
. "$here/lib.sh" # say, die
usage() { usage_of 5,17; }

cmd_image() {
  [ "$#" -eq 0 ] || [ "$*" = --drill ] || usage
  "$here/node-image.sh" "$@"
}

cmd_run() {
  local -a image=()
  if [ "${1:-}" = --drill ]; then
    image=(--drill)
    shift
  fi
  [ "$#" -ge 1 ] || usage
  local name=$1 tag state="" started
  shift
  tag=$("$here/node-image.sh" "${image[@]}")
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d -t --name "$name" --hostname "$name" \
    --cap-add SYS_ADMIN \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    -e container=docker --label eva-ha-test=1 \
    "$@" "$tag" >/dev/null
  started=$SECONDS
  while [ $((SECONDS - started)) -lt "$boot_timeout" ]; do
    state=$(docker exec "$name" systemctl is-system-running 2>/dev/null) || true
    case $state in
      running)
        say "$name is up ($tag, systemd running)"
        return 0
        ;;
      degraded)
        say "$name is up ($tag) but systemd is degraded:"
        docker exec "$name" systemctl --failed --no-pager >&2 || true
        return 0
        ;;
    esac
    if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = false ]; then
      break
    fi
    sleep 0.5
  done
  say "$name did not boot within ${boot_timeout} s (last state: ${state:-none}); its log:"
  docker logs --tail 50 "$name" >&2 2>&1 || true
  die "node $name failed to boot"
}

cmd_install() {
  [ "$#" -eq 2 ] || usage
  local name=$1 binary=$2
  [ -f "$binary" ] || die "no such binary: $binary"
  # Installed by scripts/install.sh itself, as an administrator would (PREFIX /usr/local).
  docker exec "$name" mkdir -p /var/tmp/eva-ha-install/scripts
  docker cp -L "$binary" "$name:/var/tmp/eva-ha-install/eva-ha"
  docker cp "$here/install.sh" "$name:/var/tmp/eva-ha-install/scripts/install.sh"
  docker cp "$here/lib.sh" "$name:/var/tmp/eva-ha-install/scripts/lib.sh"
  if [ -f "$here/../eva-ha.toml.example" ]; then
    docker cp "$here/../eva-ha.toml.example" "$name:/var/tmp/eva-ha-install/eva-ha.toml.example"
  fi
  docker exec -e EVA_HA_BINARY=/var/tmp/eva-ha-install/eva-ha "$name" \
    bash /var/tmp/eva-ha-install/scripts/install.sh /usr/local >&2
  docker exec "$name" rm -rf /var/tmp/eva-ha-install
  # Pacemaker runs ocf:eva-ha:eva-master as this path; idempotent, and a link that
  # install.sh made itself is left as it is.
  docker exec "$name" sh -c "mkdir -p $ocf_dir && { test -e $ocf_dir/eva-master || ln -sfn /usr/local/sbin/eva-ha $ocf_dir/eva-master; }"
  say "installed $binary in $name as /usr/local/sbin/eva-ha (OCF agent $ocf_dir/eva-master)"
}

cmd_rm() {
  [ "$#" -eq 1 ] || usage
  docker rm -f "$1" >/dev/null 2>&1 || true
}

cmd_rm_all() {
  local ids
  ids=$(docker ps -aq --filter label=eva-ha-test=1)
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086 # one id per word
    docker rm -f $ids >/dev/null
  fi
  # The networks of scripts/cluster.sh and drill-nodes.sh, now unused; the drills' shared disks.
  ids=$(docker network ls -q --filter label=eva-ha-test=1)
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086 # one id per word
    docker network rm $ids >/dev/null
  fi
  ids=$(docker volume ls -q --filter label=eva-ha-test=1)
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086 # one name per word
    docker volume rm $ids >/dev/null
  fi
}

[ "$#" -ge 1 ] || usage
sub=$1
shift
case $sub in
  image) cmd_image "$@" ;;
  run) cmd_run "$@" ;;
  install) cmd_install "$@" ;;
  rm) cmd_rm "$@" ;;
  rm-all) cmd_rm_all "$@" ;;
  *) usage ;;
esac
