"""Group 3: the shim's own overhead on a stock interpreter.

  memoryview(bytearray) + release          reference for the locked type
  memoryview(LockingBytearray) + release   target <= 1.5x the reference
  memoryview(bytes) + release              reference for view()
  view(bytes, immutable=True) + release    target <= 2x the reference
  view(LockingBytearray, immutable=True) + release
  bytearray[i] = v / LockingBytearray[i] = v   a guarded in-place write
Benchmark names: shim/<operation>.
"""
from __future__ import annotations

import os
import sys
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import make_runner, t_memoryview, t_view  # noqa: E402

import bufferflags  # noqa: E402


def t_setitem(loops, x):
    t0 = perf_counter()
    for _ in range(loops):
        x[7] = 1
    return perf_counter() - t0


def main():
    runner = make_runner()
    runner.metadata["bufferflags_native"] = str(bufferflags.NATIVE)
    ba = bytearray(64)
    lb = bufferflags.LockingBytearray(64)
    by = bytes(64)
    runner.bench_time_func("shim/memoryview(bytearray) + release", t_memoryview, ba)
    runner.bench_time_func("shim/memoryview(LockingBytearray) + release", t_memoryview, lb)
    runner.bench_time_func("shim/memoryview(bytes) + release", t_memoryview, by)
    runner.bench_time_func("shim/view(bytes, immutable=True) + release", t_view, by)
    runner.bench_time_func("shim/view(LockingBytearray, immutable=True) + release", t_view, lb)
    runner.bench_time_func("shim/bytearray[i] = v", t_setitem, ba)
    runner.bench_time_func("shim/LockingBytearray[i] = v", t_setitem, lb)


if __name__ == "__main__":
    main()
