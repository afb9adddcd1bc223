"""Helpers shared by the benchmark scripts (one pyperf job per script)."""
from __future__ import annotations

from time import perf_counter

FULL_RO = 0x11C          # what memoryview(x) requests (PyBUF_FULL_RO)
IMMUTABLE = 0x400
EXCLUSIVE = 0x800

#: Acquire+release sizes: powers of 4 from 64 B to 64 KiB, then 1, 16, 64 MiB.
SIZES = [64 * 4**i for i in range(6)] + [1 << 20, 16 << 20, 64 << 20]
#: Sizes at which the size-independent acquisitions are also timed.
VIEW_SIZES = [64, 64 << 20]


def size_name(n: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return f"{n}B"


def t_memoryview(loops, x):
    """memoryview(x) + release: the reference every view is measured against."""
    mv = memoryview
    t0 = perf_counter()
    for _ in range(loops):
        m = mv(x)
        m.release()
    return perf_counter() - t0


def t_view(loops, x):
    """bufferflags.view(x, immutable=True) + release."""
    from bufferflags import view
    t0 = perf_counter()
    for _ in range(loops):
        m = view(x, immutable=True)
        m.release()
    return perf_counter() - t0


def make_runner():
    """A pyperf.Runner with --only REGEX (benchmark name filter) passed to workers."""
    import re

    import pyperf

    def add_cmdline_args(cmd, args):
        if args.only:
            cmd.extend(("--only", args.only))

    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    runner.argparser.add_argument("--only", default=None,
                                  help="run only benchmarks matching this regex")
    args = runner.parse_args()
    pattern = re.compile(args.only) if args.only else None
    real = runner.bench_time_func

    def bench_time_func(name, *a, **kw):
        if pattern is None or pattern.search(name):
            return real(name, *a, **kw)
        return None

    runner.bench_time_func = bench_time_func
    return runner
