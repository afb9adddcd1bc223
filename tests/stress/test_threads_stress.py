"""Bounded-time thread stress of one locked object (issue 5).

N threads share one locked object for BUFFERFLAGS_STRESS_SECONDS (default 5)
split over the locked types of the backend:

* immutable readers hold view(immutable=True) and hash it twice with hashlib
  (the GIL is released above 2 KiB): both digests and a copy taken first
  must agree -- nothing changed the memory while it was held;
* hand-off readers acquire immutable views that a *releaser* thread releases
  (release from another thread);
* writers each own a region and write a fresh token there: a granted write
  must be visible when read back (nobody else writes that region), a refused
  write must leave no trace (the region still holds the previous token);
* writable-view holders take view(writable=True) (SHARED mode) and write
  through it into their own region;
* exclusive holders take view(exclusive=True[, writable=True]), check that
  the whole memory does not change during a GIL-releasing hash, and write
  their own region through the exclusive-write view;
* a resizer appends and deletes two bytes (refused whenever anything holds
  an export).

Our own counters, incremented after a grant and decremented before the
release (so their intervals lie inside the real holds), check that an
exclusive holder never overlaps with any other holder and that immutable
readers never overlap with writable views.  Every join has a timeout (no
deadlock: §7.7 says conflicts never wait).  At the end the object must be
fresh (count 0, mode FREE).  Counts go to the stress report.
"""
import hashlib
import os
import queue
import struct
import threading
import time
from collections import Counter

import pytest

import bufferflags as bf

from tests.conformance._support import assert_fresh
from tests.conformance.conftest import BACKEND

from .conftest import STRESS_SECONDS, report

SIZE = 64 * 1024
REGION = 16                 # bytes per writer region, at the start
N_WRITERS = 3
N_VIEW_WRITERS = 1
N_EXCLUSIVE = 2
N_READERS = 3
JOIN_TIMEOUT = 60 + STRESS_SECONDS

TYPES = list(BACKEND.locked_types)
if BACKEND.native:
    import array
    TYPES.append(lambda data: array.array("B", data))
    TYPES[-1].__name__ = "array"
DURATION = max(0.5, STRESS_SECONDS / len(TYPES))

W_ERRORS = (BufferError,) if BACKEND.native else (BufferError, TypeError)


class Holders:
    """Our own accounting of who holds what (checked under one lock)."""

    def __init__(self, errors):
        self.lock = threading.Lock()
        self.immutable = self.writable = self.exclusive = 0
        self.errors = errors
        self.checks = 0

    def enter(self, kind):
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)
            self.checks += 1
            if self.exclusive and (self.exclusive > 1 or self.immutable
                                   or self.writable):
                self.errors.append("exclusive overlaps: imm=%d w=%d ex=%d" % (
                    self.immutable, self.writable, self.exclusive))
            if self.immutable and self.writable:
                self.errors.append("immutable overlaps writable: %d/%d" % (
                    self.immutable, self.writable))

    def leave(self, kind):
        with self.lock:
            setattr(self, kind, getattr(self, kind) - 1)


def _region(i):
    return slice(i * REGION, i * REGION + 8)


@pytest.mark.parametrize("make", TYPES, ids=[t.__name__ for t in TYPES])
def test_threads_stress(make):
    data = bytearray(os.urandom(SIZE))
    # the regions start with known tokens (zero counters)
    n_regions = N_WRITERS + N_VIEW_WRITERS + N_EXCLUSIVE
    for i in range(n_regions):
        data[_region(i)] = struct.pack("<Q", 0)
    obj = make(bytes(data))
    if BACKEND.native and make.__name__ == "array":
        import array
        conv = lambda b: array.array("B", b)  # noqa: E731 -- slice values
    else:
        conv = bytes
    errors = []
    holders = Holders(errors)
    stats = report("threads[%s]" % make.__name__)
    stats_lock = threading.Lock()
    stop = float("inf")     # set once every thread is ready (start barrier)
    handoff = queue.Queue(maxsize=2)
    producers_done = threading.Event()

    local = threading.local()

    def count(**kw):
        # per-thread counters, merged once at the end: a shared lock here
        # starves threads on the free-threaded build
        for k, v in kw.items():
            local.counts[k] += v

    def guarded(fn):
        def run(*args):
            local.counts = Counter()
            barrier.wait(JOIN_TIMEOUT)
            try:
                fn(*args)
            except BaseException as e:  # noqa: B902 -- reported below
                errors.append("%s: %r" % (fn.__name__, e))
            finally:
                with stats_lock:
                    stats.update(local.counts)
        return run

    @guarded
    def reader():
        while time.monotonic() < stop and not errors:
            try:
                v = bf.view(obj, immutable=True)
            except BufferError:
                count(reader_refused=1)
                continue
            holders.enter("immutable")
            try:
                first = v.tobytes()
                d1 = hashlib.sha256(v).digest()
                d2 = hashlib.sha256(v).digest()
                if not (d1 == d2 == hashlib.sha256(first).digest()
                        and v.tobytes() == first):
                    errors.append("memory changed under an immutable view")
            finally:
                holders.leave("immutable")
                v.release()
            count(reader_held=1, hashes=2)
            time.sleep(0)           # let writers in between holds

    @guarded
    def handoff_reader():
        try:
            while time.monotonic() < stop and not errors:
                try:
                    v = bf.view(obj, immutable=True)
                except BufferError:
                    count(handoff_refused=1)
                    continue
                holders.enter("immutable")
                snapshot = hashlib.sha256(v).digest()
                try:
                    handoff.put((v, snapshot), timeout=5)
                except queue.Full:
                    holders.leave("immutable")
                    v.release()
                    continue
                count(handoff_acquired=1)
                time.sleep(0)
        finally:
            producers_done.set()

    @guarded
    def releaser():
        while True:
            try:
                v, snapshot = handoff.get(timeout=0.05)
            except queue.Empty:
                if producers_done.is_set():
                    return
                continue
            if hashlib.sha256(v).digest() != snapshot:
                errors.append("handed-off immutable view changed")
            holders.leave("immutable")
            v.release()
            v.release()                     # double release: a no-op
            count(released_elsewhere=1)

    @guarded
    def writer(i):
        token = 0
        last = struct.pack("<Q", 0)
        region = _region(i)
        while time.monotonic() < stop and not errors:
            token += 1
            new = struct.pack("<Q", (i << 48) | token)
            how = token % 3
            try:
                if how == 0:
                    obj[region] = conv(new)                       # own write
                elif how == 1:
                    struct.pack_into("<Q", obj, region.start,
                                     (i << 48) | token)    # writable export
                else:
                    for k in range(8):                      # item writes
                        obj[region.start + k] = new[k]
            except W_ERRORS:
                count(write_refused=1)
                granted = False
            else:
                count(write_granted=1)
                granted = True
            if how == 2 and not granted:
                # item writes may be refused after some bytes were written:
                # every single item write is atomic, the sequence is not.
                # Finish it so the region holds a whole token again.
                while not errors:
                    try:
                        obj[region] = conv(new)
                        granted = True
                        break
                    except BufferError:
                        time.sleep(0)
                    if time.monotonic() > stop + 30:
                        errors.append("writer %d could not finish" % i)
                        return
            # read the region back (a read is refused only by an exclusive
            # holder, which never touches this region: retry)
            while True:
                try:
                    seen = bytes(obj[region])
                    break
                except BufferError:
                    count(readback_refused=1)
                    time.sleep(0)
            expect = new if granted else last
            if seen != expect:
                errors.append("writer %d: region %r, expected %r (%s)" % (
                    i, seen, expect, "granted" if granted else "refused"))
                return
            last = expect

    @guarded
    def view_writer(i):
        region = _region(i)
        token = 0
        while time.monotonic() < stop and not errors:
            try:
                w = bf.view(obj, writable=True)
            except BufferError:
                count(view_writer_refused=1)
                continue
            holders.enter("writable")
            try:
                token += 1
                new = struct.pack("<Q", (i << 48) | token)
                w[region] = new
                if w[region].tobytes() != new:
                    errors.append("view writer %d: write not visible" % i)
            finally:
                holders.leave("writable")
                w.release()
            count(view_writer_held=1)
            time.sleep(0)

    @guarded
    def exclusive_holder(i):
        region = _region(i)
        token = 0
        while time.monotonic() < stop and not errors:
            writable = token % 2 == 0
            token += 1
            try:
                x = bf.view(obj, exclusive=True, writable=writable)
            except BufferError:
                count(exclusive_refused=1)
                continue
            holders.enter("exclusive")
            try:
                before = x.tobytes()
                d1 = hashlib.sha256(x).digest()      # GIL released
                if writable:
                    new = struct.pack("<Q", (i << 48) | token)
                    x[region] = new
                    if x[region].tobytes() != new:
                        errors.append("exclusive write not visible")
                    before = before[:region.start] + new + before[region.stop:]
                    d1 = hashlib.sha256(before).digest()
                if hashlib.sha256(x).digest() != d1 or x.tobytes() != before:
                    errors.append("memory changed under an exclusive view")
            finally:
                holders.leave("exclusive")
                x.release()
            count(exclusive_held=1)
            time.sleep(0)

    @guarded
    def resizer():
        while time.monotonic() < stop and not errors:
            try:
                obj.extend(conv(b"xy"))
            except BufferError:
                count(resize_refused=1)
                continue
            count(resize_granted=1)
            while True:                           # shrink back, bounded
                try:
                    del obj[-2:]
                    break
                except BufferError:
                    count(resize_refused=1)
                    time.sleep(0)
                    if time.monotonic() > stop + 30:
                        errors.append("resizer could not shrink back")
                        return

    threads = ([threading.Thread(target=reader) for _ in range(N_READERS)]
               + [threading.Thread(target=handoff_reader),
                  threading.Thread(target=releaser),
                  threading.Thread(target=resizer)]
               + [threading.Thread(target=writer, args=(i,))
                  for i in range(N_WRITERS)]
               + [threading.Thread(target=view_writer, args=(N_WRITERS + i,))
                  for i in range(N_VIEW_WRITERS)]
               + [threading.Thread(target=exclusive_holder,
                                   args=(N_WRITERS + N_VIEW_WRITERS + i,))
                  for i in range(N_EXCLUSIVE)])
    barrier = threading.Barrier(len(threads) + 1)
    for t in threads:
        t.start()
    stop = time.monotonic() + DURATION
    barrier.wait(JOIN_TIMEOUT)
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, "deadlock or livelock: %d threads still running" % len(alive)
    stats["checks"] += holders.checks
    stats["runs"] += 1
    assert errors == [], errors[:5]
    assert (holders.immutable, holders.writable, holders.exclusive) == (0, 0, 0)
    assert len(obj) == SIZE
    final = bytes(obj)
    if not BACKEND.native:
        from bufferflags._backend import native
        assert native.lock_state(obj) == (0, 0, 0)
    assert_fresh(obj, final)
    # liveness (no starvation) is not part of the contract: just progress
    assert stats["reader_held"] + stats["exclusive_held"] > 0
