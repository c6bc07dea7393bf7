#!/usr/bin/env bash
# Builds (or reuses) the eva-ha test node image: a Debian bookworm root file system
# that boots real systemd and is dressed as an NEC EVA master node (stand-in
# docker/mongod units, a real PostgreSQL 15 run as postgresql-9.5.service, stand-in
# /opt/eva master scripts, a worker configuration.json, /etc/eva-ha/eva-ha.toml), with
# Pacemaker, Corosync, crmsh and resource-agents (ocf-tester) installed but disabled.
# Prints the image tag as the only line on stdout; all progress goes to stderr.
# The tag is eva-ha-node:<12 hex of the sha256 of this script plus every file under
# scripts/node/>, so editing the recipe rebuilds and an existing image is reused.
# Environment: EVA_HA_DEBIAN_MIRROR (default http://deb.debian.org/debian).
#   node-image.sh [--drill]
# --drill: the drill node image instead, eva-ha-drill:<12 hex of the sha256 of the node
# image's tag plus every file under scripts/node-drill/>, built on top of the node image
# (built first when needed) by scripts/node-drill/build.sh: a real Docker engine, the real
# PostgreSQL with its data on a shared disk, the EVA master stand-in (see there). The node
# image's tag does not depend on the drill recipe: the tests that use it are unaffected.
set -euo pipefail

exec 3>&1 1>&2 # stdout is for the tag alone

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
recipe_dir=$here/node
mirror=${EVA_HA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
# libnss-myhostname: the container's hostname resolves (no sudo "unable to resolve host").
packages=systemd,systemd-sysv,dbus,postgresql,postgresql-client,jq,sudo,procps,util-linux,libnss-myhostname
# Pacemaker/Corosync for the two-node cluster tests (scripts/cluster.sh), plus what the
# resource agents and ocf-tester use: iproute2 (IPaddr2's `ip`), libxml2-utils
# (ocf-tester's xmllint). corosync and pacemaker stay disabled at boot.
packages+=,pacemaker,pacemaker-cli-utils,corosync,crmsh,resource-agents,iproute2,libxml2-utils

# shellcheck source=scripts/lib.sh
. "$here/lib.sh" # say, die, apt_install

drill=
case "$*" in
  "") ;;
  --drill) drill=1 ;;
  *) die "usage: node-image.sh [--drill]" ;;
esac

[ -d "$recipe_dir" ] || die "missing recipe directory $recipe_dir"

# 12 hex of the sha256 of stdin and then of every file under DIR (its name and content).
recipe_hash() {
  local dir=$1 f
  {
    cat
    while IFS= read -r -d '' f; do
      printf '\0%s\0' "${f#"$dir"/}"
      cat "$f"
    done < <(find "$dir" -type f -print0 | LC_ALL=C sort -z)
  } | sha256sum | cut -c1-12
}

# The image being built, as a directory; in_root runs a command chrooted in it, put
# copies the recipe's file FILE into it, root-owned: put MODE FILE PATH.
root=
in_root() {
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
}
put() { install -D -o root -g root -m "$1" "$recipe_dir/$2" "$root$3"; }

cleanup() {
  [ -n "$root" ] || return 0
  # debootstrap mounts proc/sys inside the target, build.sh proc and dev; never delete
  # through a mount.
  unmount_under "$root"
  rm -rf --one-file-system "$root"
  rm -f "$root.debootstrap.log"
  root=
}

# Reuses the image TAG, or builds it: BUILD TAG fills $root (a new, empty, 0755 directory)
# and imports it. One build of each image at a time (tests may start several nodes at
# once), serialised by the lock file LOCK (it stays behind, harmless); re-checked once
# locked.
ensure_image() {
  local tag=$1 build=$2 lock=$3
  if docker image inspect "$tag" >/dev/null 2>&1; then
    say "reusing $tag"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "building $tag needs root (chroot)"
  exec 9>"$lock"
  flock 9
  if docker image inspect "$tag" >/dev/null 2>&1; then
    say "reusing $tag (built meanwhile)"
  else
    SECONDS=0
    root=$(mktemp -d /var/tmp/eva-ha-image.XXXXXX)
    chmod 0755 "$root" # mktemp made it 0700: the image's / and the postgres user need 0755
    trap cleanup EXIT
    "$build" "$tag"
    cleanup
    trap - EXIT
    say "built $tag in ${SECONDS} s"
  fi
  exec 9>&-
}

# Each container gets its own machine id; no host leftovers; smaller image.
tidy_root() {
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id" "$root/etc/resolv.conf"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/* "$root"/run/*
}

# Imports $root as the image TAG, booting systemd: import_root TAG MESSAGE [LABEL...].
import_root() {
  local tag=$1 message=$2 label
  shift 2
  local -a changes=(-c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' -c 'LABEL eva-ha-node=1')
  for label in "$@"; do changes+=(-c "LABEL $label"); done
  say "importing $tag"
  tar -C "$root" --numeric-owner -c . | docker import "${changes[@]}" -m "$message" - "$tag" >/dev/null
}

# The node image: debootstrap, then the recipe (scripts/node/).
build_node() {
  local tag=$1
  say "building $tag (debootstrap $suite from $mirror, takes a few minutes)"
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" \
    >"$root.debootstrap.log" 2>&1 || {
    tail -n 40 "$root.debootstrap.log" >&2
    rm -f "$root.debootstrap.log"
    die "debootstrap failed"
  }
  rm -f "$root.debootstrap.log"
  say "debootstrap done after ${SECONDS} s"

  # The recipe's files, root-owned.
  put 0644 docker.service /etc/systemd/system/docker.service
  put 0644 mongod.service /etc/systemd/system/mongod.service
  put 0644 postgresql-9.5.service /etc/systemd/system/postgresql-9.5.service
  put 0644 delay /etc/eva-standin/delay
  put 0755 start-master-rhel.sh /opt/eva/start-master-rhel.sh
  put 0755 stop-master.sh /opt/eva/stop-master.sh
  put 0644 eva-ha.toml /etc/eva-ha/eva-ha.toml
  put 0755 docker-cli /usr/bin/docker
  put 0600 configuration.json /opt/pulse/worker/config/configuration.json
  chmod 0755 "$root/opt/eva" "$root/opt/pulse" "$root/opt/pulse/worker"
  chmod 0700 "$root/opt/pulse/worker/config"

  # PostgreSQL 15 cluster "main", run only by our postgresql-9.5.service.
  if [ ! -f "$root/etc/postgresql/15/main/postgresql.conf" ]; then
    say "creating the PostgreSQL 15 main cluster"
    in_root pg_createcluster 15 main
  fi
  echo manual >"$root/etc/postgresql/15/main/start.conf"
  in_root systemctl disable postgresql.service >/dev/null 2>&1 || true
  in_root systemctl mask postgresql.service postgresql@15-main.service >/dev/null

  # The guide's clustered master: docker, mongod and postgresql-9.5 disabled at boot.
  in_root systemctl disable docker.service mongod.service postgresql-9.5.service >/dev/null 2>&1 || true

  # Pacemaker and Corosync installed but off: plain nodes boot without a cluster;
  # scripts/cluster.sh writes corosync.conf and starts them. The packages' sample
  # corosync.conf would only mislead. eva-ha's OCF provider directory, empty: the agent is
  # the link eva-master -> /usr/local/sbin/eva-ha that scripts/node.sh install makes.
  # cluster-glue's logd (pulled in by resource-agents) is not used by Pacemaker 2: off too.
  in_root systemctl disable corosync.service pacemaker.service logd.service >/dev/null 2>&1 || true
  rm -f "$root/etc/corosync/corosync.conf"
  install -d -m 0755 "$root/usr/lib/ocf/resource.d/eva-ha"

  # An EVA master has a mongod user too (the guide wants mongod/postgres ids equal on
  # every node); fixed ids so that every node built from this recipe agrees.
  in_root groupadd --system --gid 990 mongod
  in_root useradd --system --uid 990 --gid mongod --home-dir /var/lib/mongo \
    --shell /usr/sbin/nologin --comment "MongoDB stand-in" mongod
  install -d -o 990 -g 990 -m 0750 "$root/var/lib/mongo"

  # No logins on the container's console (quiet `docker logs`), no first-boot wizard,
  # no apt runs in the background (tests and benchmarks want a quiet node).
  in_root systemctl mask console-getty.service getty@tty1.service systemd-firstboot.service \
    apt-daily.timer apt-daily-upgrade.timer >/dev/null

  printf 'eva-ha-node\n' >"$root/etc/hostname"
  tidy_root
  import_root "$tag" "eva-ha test node (Debian $suite, systemd, PostgreSQL 15)"
}

"$here/ensure-docker.sh"
tag=eva-ha-node:$(recipe_hash "$recipe_dir" <"$here/node-image.sh")
ensure_image "$tag" build_node /var/tmp/eva-ha-node-image.lock
if [ -n "$drill" ]; then
  # shellcheck source=scripts/node-drill/build.sh
  . "$here/node-drill/build.sh" # build_drill
  base=$tag
  tag=eva-ha-drill:$(printf '%s\n' "$base" | recipe_hash "$here/node-drill")
  ensure_image "$tag" build_drill /var/tmp/eva-ha-drill-image.lock
fi
printf '%s\n' "$tag" >&3
