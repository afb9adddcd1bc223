"""Two or more WRITER threads on one locked object, no export held by them
(issue 9, class 11; proposal/semantics.md §7.4).

Every own operation of a locked bytearray runs inside the object's critical
section on the free-threaded build, so plain writers are serialised: random
resizes (append, extend, insert, del of a slice, slice assignment of another
length, pop) and in-place writes (item and slice assignment, reverse) from
several threads must never crash or corrupt memory.  Optional immutable
readers hold view(immutable=True) meanwhile: the writers are then refused
(BufferError), and the bytes a reader holds never change.

Checks: no crash (the process survives), readers never see their bytes
change, the final contents consist only of the initial bytes and bytes the
writers wrote (no freed heap, no uninitialised byte), and after joining an
exclusive export is granted and the object is fresh (no state left behind).

Bounded: ITERATIONS operations per writer (fewer on GIL builds, where the
test is still valid but finds less), and a time limit.
test_threads_stress.py is the mixed-holder stress with one resizer; here
the writers race each other.
"""
import hashlib
import random
import sys
import threading
import time

import pytest

import bufferflags as bf

from tests.conformance._support import assert_fresh, assert_nothing_held
from tests.conformance.conftest import BACKEND

from .conftest import STRESS_SECONDS, report

FREE_THREADED = not getattr(sys, "_is_gil_enabled", lambda: True)()
ITERATIONS = 20000 if FREE_THREADED else 3000
TIME_LIMIT = max(1.0, min(STRESS_SECONDS, 4.0 if FREE_THREADED else 1.5))
N_WRITERS = 3
MAX_SIZE = 2048

INITIAL = bytes([0xF0, 0xF1, 0xF2, 0xF3]) * 64      # values no writer uses


def _token(writer, k):
    """Writer `writer` writes only the 16 values writer*16 .. writer*16+15."""
    return writer * 16 + k % 16


def _writer(obj, writer, seed, stop, stats, errors):
    rng = random.Random(seed)
    try:
        for i in range(ITERATIONS):
            if stop.is_set():
                break
            t = _token(writer, i)
            op = rng.randrange(11)
            try:
                if len(obj) > MAX_SIZE:
                    del obj[:MAX_SIZE // 2]
                elif op == 0:
                    obj.append(t)
                elif op == 1:
                    obj.extend(bytes([t]) * rng.randrange(1, 300))
                elif op == 2:
                    obj.insert(rng.randrange(-8, 8), t)
                elif op == 3:
                    del obj[-2:]
                elif op == 4:
                    del obj[:rng.randrange(0, 5)]
                elif op == 5:
                    obj[1:3] = bytes([t]) * rng.randrange(0, 6)
                elif op == 6:
                    obj.pop()
                elif op == 7:
                    obj[rng.randrange(-4, 4)] = t
                elif op == 8:
                    obj[0:4] = bytes([t]) * 4
                elif op == 9:
                    obj[::3] = bytes([t]) * len(range(0, len(obj), 3))
                else:
                    obj.reverse()
                stats["writes-done"] += 1
            except BufferError:
                stats["writes-refused"] += 1          # an immutable reader
            except (IndexError, ValueError):
                stats["writes-raced"] += 1            # length changed meanwhile
    except BaseException as e:                        # pragma: no cover
        errors.append(e)


def _reader(obj, stop, stats, errors):
    try:
        while not stop.is_set():
            try:
                v = bf.view(obj, immutable=True)
            except BufferError:
                stats["reads-refused"] += 1           # a resize in progress
                continue
            try:
                snapshot = v.tobytes()
                digest = hashlib.sha256(v).digest()
                time.sleep(0)
                assert hashlib.sha256(v).digest() == digest, "immutable bytes changed"
                assert v.tobytes() == snapshot, "immutable bytes changed"
                stats["reads"] += 1
            finally:
                v.release()
    except BaseException as e:
        errors.append(e)


@pytest.mark.parametrize("readers", [0, 2], ids=["writers-only", "with-readers"])
@pytest.mark.parametrize("locked_type", BACKEND.locked_types,
                         ids=[t.__name__ for t in BACKEND.locked_types])
def test_writers_race_each_other(locked_type, readers):
    stats = report("writer-threads[%s,%d readers,%s]" % (
        locked_type.__name__, readers, "ft" if FREE_THREADED else "gil"))
    obj = locked_type(INITIAL)
    stop, errors = threading.Event(), []
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=_writer, args=(
            obj, w, 1000 * w + readers, stop, stats, errors)) for w in range(N_WRITERS)]
        threads += [threading.Thread(target=_reader, args=(obj, stop, stats, errors))
                    for _ in range(readers)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + TIME_LIMIT
        for t in threads[:N_WRITERS]:
            t.join(max(0.0, deadline - time.monotonic()))
        stop.set()
        for t in threads:
            t.join(60)
            assert not t.is_alive(), "a thread hangs (§7.7: conflicts never wait)"
    finally:
        sys.setswitchinterval(old_interval)
    if errors:
        raise errors[0]
    written = set(INITIAL) | {_token(w, k) for w in range(N_WRITERS) for k in range(16)}
    final = bytes(obj)
    stray = set(final) - written
    assert not stray, "bytes nobody wrote: %r" % sorted(stray)[:16]
    # no state left behind, then fresh
    assert_nothing_held(obj)
    assert_fresh(obj, final)
    stats["final-size"] = len(final)
