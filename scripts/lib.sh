# shellcheck shell=bash
# What the scripts under scripts/ share; sourced, never run:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   say MESSAGE...          one line on stderr: "PREFIX: MESSAGE"; PREFIX is $SAY_PREFIX, else
#                           the script's file name without .sh
#   die MESSAGE...          say "$DIE_PREFIX"MESSAGE (DIE_PREFIX: e.g. "error: "), exit 1
#   apt_install PACKAGE...  apt-get install, quietly; apt-get update first only when the
#                           install fails without it; dies when it cannot
#   usage_of LINES          "usage:" and the comment lines LINES (sed's "4,13") of the script,
#                           without their "# ", on stderr; exit 2
#   median [FORMAT]         the median of the numbers on stdin (one a line; the mean of the
#                           two middle ones for an even count), printed with printf FORMAT
#                           (default %g) and a newline; "-" when there are none
#   docker_wait SECS [PID]  wait until the Docker engine at $DOCKER_HOST answers (below)
#   unmount_under DIR       lazily unmount everything mounted below DIR, deepest first
# The scripts copied alone into the node image (scripts/node/*) do not use it.

say() {
  local name=${0##*/}
  printf '%s: %s\n' "${SAY_PREFIX:-${name%.sh}}" "$*" >&2
}

die() {
  say "${DIE_PREFIX:-}$*"
  exit 1
}

usage_of() {
  { echo usage:; sed -n "${1:?usage_of LINES}s/^# //p" "$0"; } >&2
  exit 2
}

apt_install() {
  say "installing $* (apt)"
  command -v apt-get >/dev/null || die "$* missing and no apt-get to install it"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; } ||
      die "cannot install $* with apt-get"
  fi
}

median() {
  sort -g | awk -v fmt="${1:-%g}\n" '
    NF { a[++n] = $1 }
    END { if (n == 0) print "-"; else printf fmt, (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }'
}

unmount_under() {
  local m
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="${1%/}/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}

# Waits until the Docker engine at $DOCKER_HOST (unset: the default one) answers `docker
# info`: docker_wait SECS [PID]. Returns 0 once it answers, 1 after SECS seconds, 2 as soon
# as process PID (the engine's dockerd, when the caller started it) is gone.
docker_wait() {
  local i n=$((${1:?docker_wait SECS [PID]} * 10))
  for ((i = 0; i < n; i++)); do
    docker info >/dev/null 2>&1 && return 0
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then return 2; fi
    sleep 0.1
  done
  return 1
}
