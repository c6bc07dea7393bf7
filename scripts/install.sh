#!/usr/bin/env bash
# Installs eva-ha: the binary as PREFIX/sbin/eva-ha, the command links eva-start,
# eva-stop, eva-genw, eva-check and eva-verify beside it, and the Pacemaker resource agent
# /usr/lib/ocf/resource.d/eva-ha/eva-master (a link to the binary), and the man pages
# (PREFIX/share/man/man1, made by the binary itself: `eva-ha generate man`).
#   scripts/install.sh [PREFIX]        PREFIX defaults to /usr/local
# The binary is $EVA_HA_BINARY, else target/release/eva-ha (built with cargo when missing).
# $DESTDIR is prepended to every path, for packaging. Existing configuration is never
# touched; a commented sample goes to /etc/eva-ha/eva-ha.toml.sample.
set -euo pipefail

prefix=${1:-/usr/local}
destdir=${DESTDIR:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh" # say
binary=${EVA_HA_BINARY:-$here/target/release/eva-ha}
links=(eva-start eva-stop eva-genw eva-check eva-verify)

if [ ! -x "$binary" ]; then
  if [ -z "${EVA_HA_BINARY:-}" ] && command -v cargo >/dev/null; then
    say "building $binary"
    (cd "$here" && cargo build --release --locked)
  else
    say "no binary at $binary (set EVA_HA_BINARY or run cargo build --release)"
    exit 5
  fi
fi

sbin=$destdir$prefix/sbin
install -d -m 0755 "$sbin"
install -m 0755 "$binary" "$sbin/eva-ha.new"
mv -f "$sbin/eva-ha.new" "$sbin/eva-ha"
for link in "${links[@]}"; do
  ln -sfn eva-ha "$sbin/$link"
done

# The Pacemaker resource agent, ocf:eva-ha:eva-master.
ocf=$destdir/usr/lib/ocf/resource.d/eva-ha
install -d -m 0755 "$ocf"
ln -sfn "$prefix/sbin/eva-ha" "$ocf/eva-master"

# The man pages: man eva-start, man eva-ha-config, ...
man1=$destdir$prefix/share/man/man1
"$sbin/eva-ha" generate man "$man1" -q

if [ -f "$here/eva-ha.toml.example" ]; then
  install -d -m 0755 "$destdir/etc/eva-ha"
  install -m 0644 "$here/eva-ha.toml.example" "$destdir/etc/eva-ha/eva-ha.toml.sample"
fi

say "$sbin/eva-ha with links ${links[*]}, $ocf/eva-master, man pages in $man1"
if [ ! -e "$destdir/etc/eva-ha/eva-ha.toml" ]; then
  say "next, set install_dir in /etc/eva-ha/eva-ha.toml (see eva-ha.toml.sample)"
fi
