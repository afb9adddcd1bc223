"""Group 1: acquire + release of a view vs the copy users make today.

For bytes and for the locked bytearray (bufferflags.LockingBytearray with the
shim; plain bytearray natively, where every bytearray is locked):

  memoryview   m = memoryview(x); m.release()
  view         m = bufferflags.view(x, immutable=True); m.release()
  native       m = memoryview._from_flags(x, FULL_RO|IMMUTABLE); m.release()
               (patched only: PyObject_GetBuffer() with the new flag, the
               same C path memoryview(x) takes, without view()'s Python code)
  native-plain m = memoryview._from_flags(x, FULL_RO); m.release()
               (patched only: the reference for "native")
  copy         bytes(x)   (for exact bytes this returns x itself: no copy)

Benchmark names: acquire/<type>/<size>/<op>.
"""
from __future__ import annotations

import os
import sys
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (FULL_RO, IMMUTABLE, SIZES, VIEW_SIZES, make_runner,  # noqa: E402
                     size_name, t_memoryview, t_view)

#: BENCH_NO_SHIM=1: the shim cannot be imported on this interpreter; time only
#: memoryview(bytes) and bytes(x) (run.sh records why).
NO_SHIM = os.environ.get("BENCH_NO_SHIM") == "1"
if not NO_SHIM:
    import bufferflags  # noqa: E402


def t_from_flags(loops, x, flags):
    from_flags = memoryview._from_flags
    t0 = perf_counter()
    for _ in range(loops):
        m = from_flags(x, flags)
        m.release()
    return perf_counter() - t0


def t_copy(loops, x):
    b = bytes
    t0 = perf_counter()
    for _ in range(loops):
        b(x)
    return perf_counter() - t0


def main():
    runner = make_runner()
    if NO_SHIM:
        native, types = False, (("bytes", bytes),)
    else:
        native = bufferflags.NATIVE
        locked = bytearray if native else bufferflags.LockingBytearray
        types = (("bytes", bytes), ("locked", locked))
    runner.metadata["bufferflags_native"] = str(native)
    for tname, make in types:
        for size in SIZES:
            x = make(size)
            prefix = f"acquire/{tname}/{size_name(size)}"
            if size in VIEW_SIZES:
                runner.bench_time_func(f"{prefix}/memoryview", t_memoryview, x)
                if not NO_SHIM:
                    runner.bench_time_func(f"{prefix}/view", t_view, x)
                if native:
                    runner.bench_time_func(
                        f"{prefix}/native-plain", t_from_flags, x, FULL_RO)
                    runner.bench_time_func(
                        f"{prefix}/native", t_from_flags, x, FULL_RO | IMMUTABLE)
            runner.bench_time_func(f"{prefix}/copy", t_copy, x)
            del x


if __name__ == "__main__":
    main()
