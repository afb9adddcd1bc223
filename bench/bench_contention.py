"""Group 4: N threads taking and releasing immutable views of one object.

Run natively (patched, GIL build; patched-ft, free-threaded).  Each value
starts N threads that wait on a barrier, then each performs `loops`
acquire+release pairs on one shared bytearray; the reported time is the wall
time divided by N*loops, i.e. the time per acquisition across all threads
(lower is better; with perfect scaling it falls as 1/N up to the core count).

  immutable   m = memoryview._from_flags(x, FULL_RO|IMMUTABLE); m.release()
  plain       m = memoryview._from_flags(x, FULL_RO); m.release()
              (the unflagged reference, through the same call path: the
              two differ only in the request flags)
Benchmark names: contention/<op>/<N> threads.
"""
from __future__ import annotations

import os
import sys
import threading
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import FULL_RO, IMMUTABLE, make_runner  # noqa: E402

THREADS = (1, 2, 4)


def _worker(flags):
    def worker(x, loops, barrier):
        from_flags = memoryview._from_flags
        barrier.wait()
        for _ in range(loops):
            m = from_flags(x, flags)
            m.release()
    return worker


worker_immutable = _worker(FULL_RO | IMMUTABLE)
worker_plain = _worker(FULL_RO)


def t_threads(loops, nthreads, worker):
    x = bytearray(4096)
    barrier = threading.Barrier(nthreads + 1)
    threads = [threading.Thread(target=worker, args=(x, loops, barrier))
               for _ in range(nthreads)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = perf_counter()
    for t in threads:
        t.join()
    elapsed = perf_counter() - t0
    # pyperf divides by loops; divide by N as well: time per acquisition.
    return elapsed / nthreads


def main():
    runner = make_runner()
    runner.metadata["gil_disabled"] = str(
        not getattr(sys, "_is_gil_enabled", lambda: True)())
    for n in THREADS:
        runner.bench_time_func(f"contention/immutable/{n} threads",
                               t_threads, n, worker_immutable)
        runner.bench_time_func(f"contention/plain/{n} threads",
                               t_threads, n, worker_plain)


if __name__ == "__main__":
    main()
