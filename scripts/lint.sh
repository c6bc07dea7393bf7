#!/usr/bin/env bash
# The shell gate: shellcheck (installed with apt when missing) on every shell script of
# the project, exiting non-zero on any finding:
#   - everything under scripts/ that is a shell script (by its name, *.sh, or its #! line),
#     but scripts/bench/guide-*.sh: the vendor's guide scripts as printed, kept byte for
#     byte (the benchmarks run them as they are), are not ours to fix;
#   - tests/fakes/*, when that directory exists (the fake systemctl, journalctl, ...).
# Files sourced by a checked script are followed (-x); lib.sh and the like are checked
# on their own too.
#   scripts/lint.sh [shellcheck options...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh # say, apt_install

command -v shellcheck >/dev/null || apt_install shellcheck

is_shell() {
  case $1 in
    *.sh) return 0 ;;
  esac
  local first=
  IFS= read -r first <"$1" 2>/dev/null || true
  [[ $first =~ ^#!.*[/\ ](ba|da|k)?sh([[:space:]]|$) ]]
}

files=()
while IFS= read -r -d '' f; do
  case $f in
    scripts/bench/guide-*) continue ;;
  esac
  if is_shell "$f"; then files+=("$f"); fi
done < <(find scripts -type f -print0 | LC_ALL=C sort -z)
if [ -d tests/fakes ]; then
  while IFS= read -r -d '' f; do
    if is_shell "$f"; then files+=("$f"); fi
  done < <(find tests/fakes -type f -print0 | LC_ALL=C sort -z)
fi

say "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#files[@]} files"
if shellcheck -x "$@" "${files[@]}"; then
  say "no findings"
else
  die "shellcheck found problems (above)"
fi
