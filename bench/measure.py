#!/usr/bin/env python3
"""Run one command and print its wall time, peak RSS and exit status as JSON.

  measure.py [--stdout FILE] [--stderr FILE] -- CMD [ARG...]

stdout and stderr of CMD go to /dev/null unless a file is named. Prints
{"wall_s": float, "maxrss_mb": float, "exit": int} on one line. The peak RSS
is ru_maxrss of RUSAGE_CHILDREN, read after waiting for the one child, so run
one command per measure.py process to get that command's own peak (a
grandchild's peak counts too, if it was the largest waited-for descendant).
exit is the child's exit code, or -N if signal N killed it. The child is
forked from this ~14 MB Python process and Linux keeps that high-water mark
across exec, so ~14 MB is the floor of what can be reported.
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    if '--' not in argv:
        sys.exit('usage: measure.py [--stdout FILE] [--stderr FILE] -- CMD [ARG...]')
    split = argv.index('--')
    ap = argparse.ArgumentParser(prog='measure.py')
    ap.add_argument('--stdout', default='/dev/null', help='file for the command\'s stdout')
    ap.add_argument('--stderr', default='/dev/null', help='file for the command\'s stderr')
    opts = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if not cmd:
        sys.exit('measure.py: no command after --')

    with open(opts.stdout, 'wb') as out, open(opts.stderr, 'wb') as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except OSError as e:
            sys.exit(f'measure.py: cannot run {cmd[0]}: {e}')
        code = proc.wait()
        wall = time.perf_counter() - t0

    # Linux reports ru_maxrss in KiB.
    maxrss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({'wall_s': round(wall, 4), 'maxrss_mb': round(maxrss_kib / 1024, 1), 'exit': code}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
