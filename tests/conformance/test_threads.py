"""Threads (issue 2 §4, semantics §3.2 'an own operation holds the state',
§4 CAS updates, §7.6 fail fast): readers hash an immutable view of a locked
object with the GIL released (hashlib on > 64 KiB) while writer threads try
every mutation; every write is refused, the digest never changes.  Bounded
in time: each test runs for DURATION seconds and joins with a timeout."""
import hashlib
import operator
import os
import threading
import time

import pytest

import bufferflags as bf

from . import _ops
from ._support import EXCLUSIVE, WRITABLE, assert_fresh

SIZE = 256 * 1024          # hashlib releases the GIL above 2 KiB; > 64 KiB asked
DURATION = 0.8
MIN_ROUNDS = 3             # every thread does this much even on a loaded machine
JOIN_TIMEOUT = 30


def _writer_attempts():
    # _ops' extended-slice values are sized for conftest.DATA: resized here
    attempts = [(n, f) for n, f in _ops.WRITES + _ops.RESIZES
                + _ops.SIZE_PRESERVING_RESIZES if "extended" not in n]
    attempts += [
        ("setslice-extended", lambda b: operator.setitem(
            b, slice(None, None, 2), bytes(SIZE // 2))),
        ("setslice-extended-negative", lambda b: operator.setitem(
            b, slice(None, None, -3), bytes(len(range(SIZE - 1, -1, -3))))),
        ("delslice-extended", lambda b: operator.delitem(b, slice(None, None, 2))),
    ]
    attempts += [
        ("acquire-writable", lambda b: bf.acquire(b, WRITABLE)),
        ("acquire-exclusive-write", lambda b: bf.acquire(b, EXCLUSIVE | WRITABLE)),
        ("acquire-exclusive-read", lambda b: bf.acquire(b, EXCLUSIVE)),
        ("view-writable", lambda b: bf.view(b, writable=True)),
        ("big-setslice", lambda b: operator.setitem(b, slice(0, SIZE // 2),
                                                    bytes(SIZE // 2))),
    ]
    return attempts


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "threads did not finish in time"


def test_readers_hash_while_writers_are_refused(locked_type):
    data = os.urandom(SIZE)
    obj = locked_type(data)
    expected = hashlib.sha256(data).digest()
    errors, stats = [], {"hashes": 0, "refused": 0}
    lock = threading.Lock()
    stop = time.monotonic() + DURATION
    base = bf.view(obj, immutable=True)       # the memory is immutable throughout

    def reader():
        try:
            rounds = 0
            while time.monotonic() < stop or rounds < MIN_ROUNDS:
                rounds += 1
                with bf.view(obj, immutable=True) as v:
                    d1 = hashlib.sha256(v).digest()
                d2 = hashlib.sha256(obj).digest()        # a plain read: granted ro
                d3 = hashlib.sha256(base).digest()
                if not d1 == d2 == d3 == expected:
                    errors.append("digest changed")
                    return
                with lock:
                    stats["hashes"] += 3
        except BaseException as e:  # noqa: B902 -- reported below
            errors.append("reader: %r" % (e,))

    def writer():
        attempts = _writer_attempts()
        try:
            rounds = 0
            while time.monotonic() < stop or rounds < MIN_ROUNDS:
                rounds += 1
                for name, attempt in attempts:
                    try:
                        result = attempt(obj)
                    except BufferError:
                        with lock:
                            stats["refused"] += 1
                    else:
                        if isinstance(result, memoryview):
                            result.release()
                        errors.append("not refused: %s" % name)
                        return
        except BaseException as e:  # noqa: B902
            errors.append("writer: %r" % (e,))

    _run([threading.Thread(target=reader) for _ in range(3)]
         + [threading.Thread(target=writer) for _ in range(2)])
    assert errors == []
    assert stats["hashes"] > 0 and stats["refused"] > 0
    assert base.tobytes() == data
    base.release()
    assert bytes(obj) == data
    assert_fresh(obj, data)


def test_immutable_readers_race_with_writers(locked_type):
    """No base hold: writers succeed whenever no reader holds the object
    (own in-place writes and exclusive-write views), so the state really
    changes under contention; every reader's view must stay constant while
    it is held (hash before and after a GIL-releasing hash, same result)."""
    obj = locked_type(SIZE)
    errors, stats = [], {"stable": 0, "written": 0, "refused": 0}
    lock = threading.Lock()
    stop = time.monotonic() + DURATION

    def reader():
        try:
            stable = 0
            while time.monotonic() < stop or stable < MIN_ROUNDS:
                try:
                    v = bf.view(obj, immutable=True)
                except BufferError:
                    continue                      # a writer holds it: fail fast
                try:
                    first = v.tobytes()
                    d1 = hashlib.sha256(v).digest()
                    d2 = hashlib.sha256(v).digest()
                    if not (d1 == d2 == hashlib.sha256(first).digest()
                            and v.tobytes() == first):
                        errors.append("memory changed under an immutable view")
                        return
                finally:
                    v.release()
                stable += 1
                with lock:
                    stats["stable"] += 1
        except BaseException as e:  # noqa: B902
            errors.append("reader: %r" % (e,))

    def writer(fill):
        pattern = bytes([fill]) * SIZE
        try:
            while time.monotonic() < stop:
                try:
                    obj[:] = pattern                   # same-length in-place write
                    with bf.view(obj, exclusive=True, writable=True) as w:
                        w[:] = pattern
                except BufferError:
                    with lock:
                        stats["refused"] += 1
                else:
                    with lock:
                        stats["written"] += 1
        except BaseException as e:  # noqa: B902
            errors.append("writer: %r" % (e,))

    _run([threading.Thread(target=reader) for _ in range(3)]
         + [threading.Thread(target=writer, args=(i,)) for i in (1, 2)])
    assert errors == []
    assert stats["stable"] > 0
    assert len(obj) == SIZE
    final = bytes(obj)
    assert final in (bytes(SIZE), b"\x01" * SIZE, b"\x02" * SIZE)
    assert_fresh(obj, final)


@pytest.mark.exclusive
def test_s7_6_conflicts_fail_fast_never_wait(locked_type):
    """§7.6: a conflict is an immediate BufferError, never a blocking wait --
    even when the holder is another thread that would release soon."""
    obj = locked_type(b"abc")
    held, done = threading.Event(), threading.Event()

    def holder():
        with bf.view(obj, exclusive=True, writable=True):
            held.set()
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        for attempt in (lambda: bf.view(obj, immutable=True), lambda: bytes(obj),
                        lambda: obj.append(1), lambda: obj[0]):
            start = time.monotonic()
            try:
                attempt()
            except BufferError:
                pass
            else:
                raise AssertionError("not refused")
            assert time.monotonic() - start < 1.0
    finally:
        done.set()
        t.join(JOIN_TIMEOUT)
    assert not t.is_alive()
    assert_fresh(obj, b"abc")
