"""Group 2: what the native checks cost on paths that never use the new flags.

Run on the baseline and on the patched interpreter (same source, same
configure flags) and compare with ``pyperf compare_to``.  Every benchmark is
a plain, unflagged operation on bytearray/bytes that the patch series now
routes through the reader/writer state word or the fail-closed request check.
Benchmark names: unflagged/<operation>.
"""
from __future__ import annotations

import hashlib
import io
import os
import struct
import sys
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import make_runner, t_memoryview  # noqa: E402

SRC16 = bytes(range(16))


def item_set(loops):
    b = bytearray(64)
    t0 = perf_counter()
    for i in range(loops):
        b[7] = 1
    return perf_counter() - t0


def item_get(loops):
    b = bytearray(64)
    t0 = perf_counter()
    for i in range(loops):
        b[7]
    return perf_counter() - t0


def slice_set(loops):
    b = bytearray(64)
    src = SRC16
    t0 = perf_counter()
    for i in range(loops):
        b[8:24] = src
    return perf_counter() - t0


def slice_get(loops):
    b = bytearray(64)
    t0 = perf_counter()
    for i in range(loops):
        b[8:24]
    return perf_counter() - t0


def append_pop(loops):
    b = bytearray(64)
    t0 = perf_counter()
    for i in range(loops):
        b.append(1)
        b.pop()
    return perf_counter() - t0


def extend_del(loops):
    b = bytearray(64)
    src = SRC16
    t0 = perf_counter()
    for i in range(loops):
        b.extend(src)
        del b[64:]
    return perf_counter() - t0


def iadd_del(loops):
    b = bytearray(64)
    src = SRC16
    t0 = perf_counter()
    for i in range(loops):
        b += src
        del b[64:]
    return perf_counter() - t0


def concat(loops):
    b = bytearray(64)
    src = SRC16
    t0 = perf_counter()
    for i in range(loops):
        b + src
    return perf_counter() - t0


def join(loops):
    parts = [bytearray(64) for _ in range(8)]
    join = b"".join
    t0 = perf_counter()
    for i in range(loops):
        join(parts)
    return perf_counter() - t0


def hash_update(loops):
    b = bytearray(256)
    h = hashlib.md5()
    update = h.update
    t0 = perf_counter()
    for i in range(loops):
        update(b)
    return perf_counter() - t0


def pack_into(loops):
    b = bytearray(64)
    pack = struct.Struct("<I").pack_into
    t0 = perf_counter()
    for i in range(loops):
        pack(b, 8, 1)
    return perf_counter() - t0


def readinto(loops):
    b = bytearray(64)
    f = io.BytesIO(bytes(64))
    seek = f.seek
    readinto = f.readinto
    t0 = perf_counter()
    for i in range(loops):
        seek(0)
        readinto(b)
    return perf_counter() - t0


BENCHMARKS = {
    "bytearray[i] = v": item_set,
    "bytearray[i]": item_get,
    "bytearray[a:b] = same length": slice_set,
    "bytearray[a:b]": slice_get,
    "append + pop": append_pop,
    "extend + del": extend_del,
    "+= + del": iadd_del,
    "bytearray + bytes": concat,
    "memoryview(bytearray) + release": (t_memoryview, bytearray(64)),
    "memoryview(bytes) + release": (t_memoryview, bytes(64)),
    "b''.join(8 bytearrays)": join,
    "md5.update(bytearray 256 B)": hash_update,
    "struct.pack_into (w*)": pack_into,
    "BytesIO.readinto (w*)": readinto,
}


def main():
    runner = make_runner()
    for name, bench in BENCHMARKS.items():
        func, *args = bench if isinstance(bench, tuple) else (bench,)
        runner.bench_time_func(f"unflagged/{name}", func, *args)


if __name__ == "__main__":
    main()
