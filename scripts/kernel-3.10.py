#!/usr/bin/python3
"""Runs a command as RHEL 7.5's kernel would answer its system calls, as far as they matter:
every x86_64 system call that Linux added after 3.10 fails with ENOSYS, as on a kernel that
does not have it, for the command and everything it starts.

    scripts/kernel-3.10.py PROGRAM [ARG...]

The guide's nodes run kernel 3.10.0-862. A binary built here (glibc 2.17 by zigbuild, Rust's
std, ring, nix) may call a newer system call (statx, getrandom, clone3, pidfd_open, rseq,
close_range, ...); run under this, each such call is refused as 3.10 refuses it, so a
missing fallback shows up as a failing test instead of on the customer's node. RHEL's
3.10 has backported some of them (getrandom since 7.4, for one): refusing them all is the
stricter test. The numbers are x86_64's (arch/x86/entry/syscalls/syscall_64.tbl upstream):
314 sched_setattr (3.14) is the first after 3.10's last, 313 finit_module (3.8); 424
pidfd_send_signal (5.1) starts the range shared by every architecture.

Needs Debian's python3-seccomp (libseccomp's bindings); the filter is installed with
no_new_privs and inherited across exec. argv[0] is kept: the command is exec'ed as PROGRAM,
so a multi-call binary invoked through a link still sees its name.
"""

import errno
import os
import sys

import seccomp

FIRST_AFTER_3_10 = 314  # sched_setattr, Linux 3.14
LAST_OF_THE_OLD_TABLE = 335  # uretprobe (6.11) is the last of the x86_64-only numbers
SHARED_RANGE = range(424, 470)  # pidfd_send_signal (5.1) on, reserved room included


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: kernel-3.10.py PROGRAM [ARG...]", file=sys.stderr)
        return 2
    refused = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for nr in [*range(FIRST_AFTER_3_10, LAST_OF_THE_OLD_TABLE + 1), *SHARED_RANGE]:
        try:
            refused.add_rule(seccomp.ERRNO(errno.ENOSYS), nr)
        except (RuntimeError, ValueError, OSError):
            pass  # a number this libseccomp does not know on x86_64: nothing can call it
    refused.load()
    program = sys.argv[1]
    try:
        os.execv(program, sys.argv[1:])
    except OSError as e:
        print(f"kernel-3.10.py: cannot run {program}: {e.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
