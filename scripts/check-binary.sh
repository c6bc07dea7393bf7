#!/usr/bin/env bash
# Checks that an eva-ha binary runs on the guide's platform, RHEL 7.5 x86_64 (glibc 2.17,
# libgcc_s of gcc 4.8.5), from its ELF metadata alone:
#   - a dynamically linked x86-64 executable with RHEL's loader, /lib64/ld-linux-x86-64.so.2
#     (not static, not another architecture or loader);
#   - it needs only glibc's libraries and libgcc_s (present on every RHEL 7 node);
#   - no symbol version newer than GLIBC_2.17 or GCC_4.8.0, and no other version namespace
#     (GLIBC_PRIVATE, a libstdc++, ...), read with objdump -T.
# Prints the highest versions found; exits 1 naming what is wrong.
#   scripts/check-binary.sh BINARY
set -euo pipefail

binary=${1:?usage: check-binary.sh BINARY}
glibc_ceiling=${GLIBC_CEILING:-2.17}
gcc_ceiling=${GCC_CEILING:-4.8.0}
# The libraries of RHEL 7's glibc and libgcc packages.
allowed_libs=" libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libutil.so.1 ld-linux-x86-64.so.2 libgcc_s.so.1 "

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # say, die
fail() { die "FAIL: $binary: $*"; }
if ! command -v objdump >/dev/null || ! command -v readelf >/dev/null; then fail "objdump and readelf are needed (binutils)"; fi
[ -f "$binary" ] || fail "no such file"

header=$(readelf -h "$binary") || fail "not an ELF file"
grep -q 'Class:[[:space:]]*ELF64' <<<"$header" || fail "not a 64-bit ELF file"
grep -q 'Machine:[[:space:]]*Advanced Micro Devices X86-64' <<<"$header" || fail "not an x86-64 binary"
grep -Eq 'Type:[[:space:]]*(EXEC|DYN)' <<<"$header" || fail "not an executable"
interp=$(readelf -l "$binary" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -n "$interp" ] || fail "statically linked (no program interpreter): expected a dynamic glibc binary"
[ "$interp" = /lib64/ld-linux-x86-64.so.2 ] || fail "program interpreter is $interp, not /lib64/ld-linux-x86-64.so.2"

needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
[ -n "$needed" ] || fail "needs no shared library at all: not a glibc binary"
for lib in $needed; do
  [[ $allowed_libs == *" $lib "* ]] || fail "needs $lib, which RHEL 7's base (glibc, libgcc) does not provide"
done

# The version of every undefined (imported) dynamic symbol: "(GLIBC_2.2.5)" in objdump's
# column, or without parentheses in older binutils.
versions=$(objdump -T "$binary" | awk '$0 ~ /\*UND\*/ { for (i = 1; i <= NF; i++) if ($i ~ /^\(?[A-Z][A-Z_]*_[0-9]/) { gsub(/[()]/, "", $i); print $i } }' | sort -u)
[ -n "$versions" ] || fail "objdump -T found no versioned symbol: not a glibc binary"
ver_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]; }
highest_glibc='' highest_gcc=''
for v in $versions; do
  case $v in
    GLIBC_PRIVATE) fail "uses GLIBC_PRIVATE symbols" ;;
    GLIBC_[0-9]*)
      n=${v#GLIBC_}
      ver_le "$n" "$glibc_ceiling" || fail "needs $v (newer than GLIBC_$glibc_ceiling): $(objdump -T "$binary" | grep -F "($v)" | awk '{print $NF}' | tr '\n' ' ')"
      if [ -z "$highest_glibc" ] || ver_le "$highest_glibc" "$n"; then highest_glibc=$n; fi ;;
    GCC_[0-9]*)
      n=${v#GCC_}
      ver_le "$n" "$gcc_ceiling" || fail "needs $v from libgcc_s (newer than GCC_$gcc_ceiling)"
      if [ -z "$highest_gcc" ] || ver_le "$highest_gcc" "$n"; then highest_gcc=$n; fi ;;
    *) fail "needs symbol version $v, which RHEL 7's base does not provide" ;;
  esac
done

say "OK $binary: dynamic x86-64, interpreter $interp, needs ${needed//$'\n'/,}"
say "OK highest symbol versions: GLIBC_$highest_glibc (ceiling $glibc_ceiling)${highest_gcc:+, GCC_$highest_gcc (ceiling $gcc_ceiling)}"
echo "GLIBC_$highest_glibc"
