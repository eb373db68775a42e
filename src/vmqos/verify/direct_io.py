"""The disk load: ``O_DIRECT`` reads or writes on a block device, reporting progress.

Role: runs as a child process (``python -m vmqos.verify.direct_io DEVICE ...``) started by
:func:`vmqos.verify.disk.measure_disk`, which moves it into the instance's cgroup before
releasing it — so that the blkio throttle (v1 ``blkio.throttle.*``) or ``io.max`` (v2) of that
cgroup applies to every request it makes.

Protocol: prints ``ready`` once the device is open, waits for one line on stdin, then prints
``ELAPSED BYTES OPS`` (cumulative, at a request's completion) every ``--interval`` seconds
and once more after the last request.

Invariants: direct I/O bypasses the page cache, so the throttle sees each request when it is
made (buffered writes would be throttled at writeback, from another context). The buffer is an
anonymous mmap, page-aligned as ``O_DIRECT`` requires. Bounded by ``--seconds`` and
``--max-bytes``; the position wraps to ``--offset`` at the end of the device.
"""

from __future__ import annotations

import argparse
import mmap
import os
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vmqos.verify.direct_io")
    parser.add_argument("device")
    parser.add_argument("--mode", choices=("read", "write"), default="write")
    parser.add_argument("--block-size", type=int, default=64 * 1024)
    parser.add_argument("--max-bytes", type=int, default=256 << 20)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--offset", type=int, default=0)
    args = parser.parse_args(argv)
    write = args.mode == "write"
    try:
        fd = os.open(args.device, (os.O_WRONLY if write else os.O_RDONLY) | os.O_DIRECT)
    except OSError as exc:
        print(f"cannot open {args.device} for direct {args.mode}: {exc}", file=sys.stderr)
        return 1
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size < args.offset + args.block_size:
            print(f"{args.device} has {size} bytes: too small for one {args.block_size}-byte "
                  f"block at offset {args.offset}", file=sys.stderr)
            return 1
        buf = mmap.mmap(-1, args.block_size)
        buf.write(bytes(range(256)) * (args.block_size // 256) + b"\0" * (args.block_size % 256))
        print("ready", flush=True)
        sys.stdin.readline()
        return _run(fd, buf, write=write, size=size, args=args)
    except OSError as exc:
        print(f"direct {args.mode} on {args.device} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        os.close(fd)


def _run(fd: int, buf: mmap.mmap, *, write: bool, size: int, args: argparse.Namespace) -> int:
    start = time.monotonic()
    next_report = start + args.interval
    done = ops = reported = 0
    pos = args.offset
    now = start
    while done < args.max_bytes and now - start < args.seconds:
        if pos + args.block_size > size:
            pos = args.offset
        n = os.pwrite(fd, buf, pos) if write else os.preadv(fd, [buf], pos)
        done += n
        ops += 1
        pos += n
        now = time.monotonic()
        if now >= next_report:
            print(f"{now - start:.6f} {done} {ops}", flush=True)
            reported = ops
            while next_report <= now:
                next_report += args.interval
    # The last line ends at the last completed request: the time after it carried no I/O.
    if ops != reported:
        print(f"{now - start:.6f} {done} {ops}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
