"""Reference and memory growth over repeated runs (issue 5, without a debug
build): every path of the lock -- grants, every kind of refusal, forwards,
own operations refused and allowed, releases from another thread -- runs
ROUNDS times after a warm-up; the number of live objects tracked by the gc,
sys.getallocatedblocks(), tracemalloc's traced memory and (on a --with-pydebug build)
sys.gettotalrefcount() must not grow with the number of rounds.  A leak of
one object or one Py_buffer per operation shows up as growth proportional to
ROUNDS * OPS (thousands), far above the tolerances.
"""
import array
import gc
import struct
import sys
import threading
import tracemalloc

import pytest

import bufferflags as bf

from tests.conformance._ops import _Index
from tests.conformance._support import (EXCLUSIVE, EXCLUSIVE_IMPLEMENTED,
                                        IMMUTABLE, WRITABLE)
from tests.conformance.conftest import BACKEND, DATA

from .conftest import report

TYPES = {t.__name__: t for t in BACKEND.locked_types}
if BACKEND.native:
    TYPES["array"] = lambda data: array.array("B", data)

ROUNDS = 300


def _refused(fn, *args):
    try:
        r = fn(*args)
    except (BufferError, TypeError, ValueError, OverflowError):
        return
    if isinstance(r, memoryview):
        r.release()


# Where EXCLUSIVE is not implemented its requests are refusals: their error
# path runs instead of the grants (and must not leak either).
EXCLUSIVE_REQUESTS = (EXCLUSIVE, EXCLUSIVE | WRITABLE, EXCLUSIVE | IMMUTABLE)
GRANTED = (0, WRITABLE, IMMUTABLE) + (EXCLUSIVE_REQUESTS
                                      if EXCLUSIVE_IMPLEMENTED else ())


def workload(make):
    obj = make(DATA)
    # grants of every kind, derived and forwarded views
    if not EXCLUSIVE_IMPLEMENTED:
        for flags in EXCLUSIVE_REQUESTS:
            _refused(bf.acquire, obj, flags)
    for flags in GRANTED:
        with bf.acquire(obj, flags) as m:
            with m[1:] as s:
                s.tobytes()
            if flags & (IMMUTABLE | EXCLUSIVE) and not flags & WRITABLE:
                with bf.acquire(m, IMMUTABLE) as f:
                    f.tobytes()
    with bf.view(obj, immutable=True) as v:
        # refusals: conflicts, own operations, rule 1/2/3, out of range
        _refused(bf.acquire, obj, WRITABLE)
        _refused(bf.acquire, obj, EXCLUSIVE)
        _refused(lambda: bf.view(obj, writable=True))
        _refused(obj.append, 1)
        _refused(obj.__setitem__, 0, 1)
        _refused(struct.pack_into, "B", obj, 0, 1)
        _refused(bf.acquire, obj, 0x1000)
        _refused(bf.acquire, obj, IMMUTABLE | WRITABLE)
        _refused(bf.acquire, obj, 2**40)
        _refused(bf.acquire, obj, -1)
        _refused(bf.acquire, b"bytes", EXCLUSIVE)
        v.tobytes()
    if EXCLUSIVE_IMPLEMENTED:
        with bf.view(obj, exclusive=True, writable=True) as x:
            _refused(len, obj)
            _refused(list, obj)
            _refused(bf.acquire, obj, 0)
            x[0] = x[0]
    else:
        _refused(lambda: bf.view(obj, exclusive=True, writable=True))
    plain = memoryview(obj)
    _refused(bf.acquire, plain, IMMUTABLE)         # memoryview: not forwarded
    plain.release()
    # released in another thread
    v = bf.view(obj, immutable=True)
    t = threading.Thread(target=v.release)
    t.start()
    t.join(10)
    obj.append(1)
    obj.pop()
    if not isinstance(obj, array.array):
        input_first(obj)
    return obj


def input_first(obj):
    """Writes and resizes that run their input before they take the state
    (§3.2): allowed, refused by today's rule, refused by the lock."""
    obj.extend(iter(b"ab"))
    del obj[-2:]
    obj[_Index(0):_Index(1)] = iter(obj[0:1])
    obj[_Index(0)] = _Index(obj[0])
    obj += memoryview(b"xy")
    del obj[-2:]
    obj.insert(_Index(0), _Index(1))
    obj.pop(_Index(0))
    obj.__init__(iter(DATA))
    with memoryview(obj):
        _refused(obj.extend, iter(b"ab"))
        _refused(obj.__init__, iter(b"ab"))
        _refused(obj.__iadd__, memoryview(b"xy"))
        _refused(obj.pop, _Index(0))
        obj[0:1] = iter(obj[0:1])
    with bf.view(obj, immutable=True):
        _refused(obj.__init__, iter(b"ab"))
        _refused(obj.__setitem__, slice(_Index(0), _Index(1)), iter(b"h"))
        _refused(obj.__iadd__, memoryview(b"xy"))
        _refused(obj.extend, [1, 2])


def _measure():
    gc.collect()
    total = getattr(sys, "gettotalrefcount", lambda: 0)()
    return (len(gc.get_objects()), tracemalloc.get_traced_memory()[0], total,
            sys.getallocatedblocks())


@pytest.mark.parametrize("name", list(TYPES))
def test_no_growth_over_repeated_runs(name):
    make = TYPES[name]
    for _ in range(50):                        # warm-up: caches, interning
        workload(make)
    tracemalloc.start()
    try:
        for _ in range(50):
            workload(make)
        objects0, mem0, refs0, blocks0 = _measure()
        for _ in range(ROUNDS):
            workload(make)
        objects1, mem1, refs1, blocks1 = _measure()
    finally:
        tracemalloc.stop()
    stats = report("leaks[%s]" % name)
    stats["rounds"] += ROUNDS
    stats["object_growth"] += objects1 - objects0
    stats["traced_bytes_growth"] += mem1 - mem0
    stats["allocated_blocks_growth"] += blocks1 - blocks0
    if refs0:
        stats["totalrefcount_growth"] += refs1 - refs0
    # one leaked object per round would be >= ROUNDS
    assert objects1 - objects0 < ROUNDS // 3, (objects0, objects1)
    assert blocks1 - blocks0 < ROUNDS // 3, (blocks0, blocks1)
    assert mem1 - mem0 < 4 * 1024, (mem0, mem1)
    if refs0:
        assert refs1 - refs0 < ROUNDS // 3, (refs0, refs1)
