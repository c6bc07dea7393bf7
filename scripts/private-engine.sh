#!/usr/bin/env bash
# A private Docker engine under a directory DIR: its own dockerd (and the containerd that
# dockerd supervises), data root DIR/data, exec root DIR/exec, socket DIR/docker.sock and
# pid file DIR/dockerd.pid, so that it neither sees nor disturbs other containers, and a
# busybox image imported into it (no registry needed). The one implementation behind
# scripts/bench-genw.sh (which sources this file and calls the engine_* functions) and
# the Rust tests' private engines (tests/common/engine.rs, which runs it):
#   private-engine.sh host DIR               print the engine's DOCKER_HOST (unix://DIR/docker.sock)
#   private-engine.sh dockerd DIR [ARG...]   exec dockerd for DIR with extra dockerd ARGs
#                                            (e.g. --live-restore): the caller's child is dockerd
#   private-engine.sh wait DIR [SECS [PID]]  wait until the engine answers (60 s by default);
#                                            fail at once when process PID (its dockerd) is gone
#   private-engine.sh stop DIR PID           remove every container, stop dockerd PID (TERM,
#                                            KILL after 40 s), then clean DIR
#   private-engine.sh clean DIR              kill whatever still runs from DIR (containerd,
#                                            shims), unmount what is mounted under DIR
#   private-engine.sh ensure-busybox         install busybox-static unless /bin/busybox is static
#   private-engine.sh busybox-tar            write a root file system of /bin/busybox and
#                                            applet links (sh sleep kill true false) as a tar
#                                            to stdout, for `docker import` or `podman import`
#   private-engine.sh import-busybox DIR TAG import that into the engine as TAG (CMD /bin/sh)
# DIR must be short: the socket's path has to fit in 108 bytes. When a system containerd
# runs (/run/containerd/containerd.sock), dockerd would use it: the engine keeps to
# containerd namespaces of its own there, named after DIR.

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

engine_host() { printf 'unix://%s/docker.sock\n' "${1%/}"; }

# Replaces the shell with dockerd: run it in a child (or run the script).
engine_dockerd() {
  local dir=${1%/}
  shift
  local -a args=(--iptables=false --bridge=none --ip-masq=false
    --data-root="$dir/data" --exec-root="$dir/exec" --pidfile="$dir/dockerd.pid" --host="$(engine_host "$dir")")
  if [ -S /run/containerd/containerd.sock ]; then
    local ns=${dir##*/}
    ns=eva-${ns//[^A-Za-z0-9]/}
    args+=(--containerd-namespace="$ns" --containerd-plugins-namespace="$ns-plugins")
  fi
  exec dockerd "${args[@]}" "$@"
}

engine_wait() {
  DOCKER_HOST=$(engine_host "$1") docker_wait "${2:-60}" "${3:-}"
}

engine_stop() {
  local dir=$1 pid=$2 ids i
  if kill -0 "$pid" 2>/dev/null; then
    ids=$(docker --host "$(engine_host "$dir")" ps -aq 2>/dev/null) || true
    # shellcheck disable=SC2086 # one id per word
    [ -z "$ids" ] || docker --host "$(engine_host "$dir")" rm -f $ids >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 400; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true # reaped here when it is our child
  fi
  engine_clean "$dir"
}

engine_clean() {
  local dir=${1%/}/ f pid
  local -a argv
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    if [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ]; then continue; fi
    { mapfile -d '' argv <"$f"; } 2>/dev/null || continue
    if [[ " ${argv[*]} " == *"$dir"* ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  unmount_under "$dir" # never delete through a mount
}

engine_ensure_busybox() {
  if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
    apt_install busybox-static # a static /bin/busybox, which runs alone in an image
  fi
}

engine_busybox_tar() (
  set -euo pipefail
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  chmod 0755 "$root"
  mkdir "$root/bin"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh sleep kill true false; do ln -s busybox "$root/bin/$applet"; done
  tar -C "$root" -c .
)

engine_import_busybox() {
  engine_busybox_tar | docker --host "$(engine_host "$1")" import --change 'CMD ["/bin/sh"]' - "$2" >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  usage() {
    sed -n '8,21s/^# //p' "${BASH_SOURCE[0]}" >&2
    exit 2
  }
  [ "$#" -ge 1 ] || usage
  sub=$1
  shift
  case $sub:$# in
    host:1) engine_host "$@" ;;
    dockerd:*) [ "$#" -ge 1 ] || usage; engine_dockerd "$@" ;;
    wait:[123]) engine_wait "$@" ;;
    stop:2) engine_stop "$@" ;;
    clean:1) engine_clean "$@" ;;
    ensure-busybox:0) engine_ensure_busybox ;;
    busybox-tar:0) engine_busybox_tar ;;
    import-busybox:2) engine_import_busybox "$@" ;;
    *) usage ;;
  esac
fi
