"""A hypothesis RuleBasedStateMachine over one locked exporter (issue 5).

The machine drives a locked object -- LockingBytearray on the shim;
bytearray, array.array('B') and LockingBytearray natively -- through
view()/acquire() with every request spelling, plain exports (memoryview(),
struct, readinto, hashlib), derived and forwarded views, releases (explicit,
`with`, del + gc, in any order, twice), in-place writes, resizes and reads.
Every outcome (granted or refused, readonly, the bytes seen) is compared with
a pure-Python reference model of proposal/semantics.md §3, §3.1 and §3.2:
one mode, the holds that keep it, the reads in progress; the release of
the last hold returns the mode to FREE.

After every step the invariants compare the object's observable state with
the model: the data, the contents of every live view (immutable views also
against the snapshot taken when they were granted) and the mode and count
(lock_state() on the shim, grant probes of tests/conformance natively).

tests/conformance/test_model.py is the short random-sequence version; this
file adds the stateful search, array.array, forwarding, transient exports,
`with`, and the count.
"""
import array
import gc
import hashlib
import io
import struct
import sys

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes,
                                 invariant, multiple, precondition,
                                 rule)

import bufferflags as bf

from tests.conformance._support import is_released
from tests.conformance._support import (ALLOWED, EXCLUSIVE, IMMUTABLE,
                                        REFUSED, REQUESTS, RO, TABLE_3_2,
                                        WRITABLE, assert_fresh, count_of,
                                        expected_cell, mode_of)
from tests.conformance.conftest import BACKEND

from .conftest import report

START = b"state-machine-data"

# The locked types of this backend, by name.  array.array('B') is locked only
# natively (§5 defaults).
FACTORIES = {t.__name__: t for t in BACKEND.locked_types}
if BACKEND.native:
    FACTORIES["array"] = lambda data: array.array("B", data)

# Every raw spelling of every request kind, plus the extra combinations a C
# consumer may pass (WRITE as part of a combination, INDIRECT, contiguity).
RAW = sorted({(kind, flags) for kind, spellings in REQUESTS.items()
              for flags in spellings}
             | {("plain", 0x100 | 0x18), ("plain", 0x38), ("plain", 0x58),
                ("plain", 0x98), ("writable", 0x1 | 0x200 | 0x4),
                ("immutable", IMMUTABLE | 0x38), ("immutable", IMMUTABLE | 0x200 | 0x4),
                ("exclusive_read", EXCLUSIVE | IMMUTABLE | 0x98),
                ("exclusive_write", EXCLUSIVE | WRITABLE | 0x58)})

# view() keyword combinations -> (request kind, granted readonly)
VIEWS = [
    ({}, "plain", True),                        # FULL_RO, made read-only by view()
    ({"writable": True}, "writable", False),
    ({"immutable": True}, "immutable", True),
    ({"exclusive": True}, "exclusive_read", True),
    ({"exclusive": True, "immutable": True}, "exclusive_read", True),
    ({"exclusive": True, "writable": True}, "exclusive_write", False),
]

MODES = {0: "FREE", 1: "SHARED", 2: "IMMUTABLE", 3: "EXCLUSIVE"}

# Stock interpreters turn a refused w* export into TypeError (§7.6).
WSTAR_ERRORS = (BufferError,) if BACKEND.native else (BufferError, TypeError)


class Model:
    """§3 as a reference: a mode, the holds that keep it (exports and own
    writes), the own reads in progress, and the data.

    A mode lasts as long as its holds: the release of the last one returns
    it to FREE, whatever reads are still in progress.  With reads only, the
    mode stays FREE (§3.1, last paragraph), and a resize needs FREE with
    nothing held (§3.2).  tests/stress/test_callbacks_model.py uses the
    read bookkeeping."""

    def __init__(self, data):
        self.mode, self.holds, self.reads = "FREE", 0, 0
        self.data = bytearray(data)

    @property
    def count(self):
        """The number a §6 message names: the holds of the mode, or in FREE
        mode the reads in progress."""
        return self.reads if self.mode == "FREE" else self.holds

    def cell(self, kind):
        return expected_cell(self.mode, kind, reading=bool(self.reads))

    def grant(self, kind):
        readonly, self.mode = self.cell(kind)
        self.holds += 1
        return readonly == RO

    def release(self):
        assert self.holds > 0
        self.holds -= 1
        if self.holds == 0:
            self.mode = "FREE"

    def allows(self, category):
        if category == "resize" and (self.holds or self.reads):
            return False
        return TABLE_3_2[self.mode][category] == ALLOWED

    def begin_read(self):
        """An own read takes the state (it must be allowed)."""
        assert self.allows("read")
        self.reads += 1

    def end_read(self):
        assert self.reads > 0
        self.reads -= 1


def assert_matches_model(obj, model):
    """The observable state of `obj` (mode, count, data) is the model's:
    lock_state() on the shim, grant probes of tests/conformance natively."""
    if not BACKEND.native:
        from bufferflags._backend import native
        mode, holds, reads = native.lock_state(obj)
        assert (MODES[mode], holds, reads) == (model.mode, model.holds,
                                               model.reads)
    else:
        assert mode_of(obj) == model.mode
        if model.mode in ("SHARED", "IMMUTABLE"):
            assert count_of(obj) == model.holds
    if model.mode != "EXCLUSIVE":
        assert bytes(list(obj)) == bytes(model.data)


class Export:
    """One export of the locked object; released when no handle is live."""

    def __init__(self, kind):
        self.kind, self.live = kind, 0


class Handle:
    """One memoryview that keeps an Export alive."""

    def __init__(self, mv, export, offset, immutable):
        self.mv, self.export, self.offset = mv, export, offset
        self.snapshot = mv.tobytes() if immutable else None
        self.released = False
        export.live += 1


class LockMachine(RuleBasedStateMachine):
    """Subclassed once per locked type (see the bottom of the file)."""

    factory = None
    type_name = None

    handles = Bundle("handles")

    def __init__(self):
        super().__init__()
        self.obj = self.factory(START)
        self.model = Model(START)
        self.live_handles = []
        self.stats = report("state-machine[%s]" % self.type_name)
        self.stats["examples"] += 1
        # Keep gc.collect() in drop_and_collect cheap: everything that exists
        # now (hypothesis' own state) is moved out of the collector's sight.
        gc.freeze()

    # ---- helpers -----------------------------------------------------------
    def _expect(self, kind, attempt, errors=(BufferError,)):
        """Run an export attempt of `kind`; compare with §3.1.  Returns the
        (granted) result and the expected readonly, or (None, None)."""
        cell = self.model.cell(kind)
        self.stats["steps"] += 1
        try:
            result = attempt()
        except errors as e:
            assert cell == REFUSED, ("refused but §3.1 grants", kind,
                                     self.model.mode, e)
            self.stats["refused"] += 1
            return None, None
        assert cell != REFUSED, ("granted but §3.1 refuses", kind, self.model.mode)
        self.stats["granted"] += 1
        return result, cell[0] == RO

    def _new_handle(self, mv, kind, readonly_expected):
        assert mv.readonly is readonly_expected, (kind, self.model.mode)
        assert mv.tobytes() == bytes(self.model.data)
        export = Export(kind)
        self.model.grant(kind)
        h = Handle(mv, export, 0, kind in ("immutable", "exclusive_read")
                   or readonly_expected and self.model.mode == "IMMUTABLE")
        self.live_handles.append(h)
        return h

    def _drop(self, h):
        """Bookkeeping when handle h stops keeping its export alive."""
        if h.released:
            return
        h.released = True
        self.live_handles.remove(h)
        h.export.live -= 1
        if h.export.live == 0:
            self.model.release()

    def _own(self, category, op, expect=None):
        allowed = self.model.allows(category)
        self.stats["own-" + category] += 1
        try:
            got = op()
        except BufferError:
            assert not allowed, ("own %s refused in" % category, self.model.mode)
            self.stats["own-refused"] += 1
            return False
        assert allowed, ("own %s allowed in" % category, self.model.mode)
        if expect is not None:
            assert got == expect, (category, got, expect)
        return True

    # ---- exports that stay held ---------------------------------------------
    @rule(target=handles, req=st.sampled_from(RAW))
    def acquire_raw(self, req):
        kind, flags = req
        mv, ro = self._expect(kind, lambda: bf.acquire(self.obj, flags))
        if mv is None:
            return multiple()
        return self._new_handle(mv, kind, ro)

    @rule(target=handles, how=st.sampled_from(VIEWS))
    def take_view(self, how):
        kwargs, kind, readonly = how
        mv, _ = self._expect(kind, lambda: bf.view(self.obj, **kwargs))
        if mv is None:
            return multiple()
        return self._new_handle(mv, kind, readonly)

    @rule(target=handles)
    def plain_memoryview(self):
        mv, ro = self._expect("plain", lambda: memoryview(self.obj))
        if mv is None:
            return multiple()
        return self._new_handle(mv, "plain", ro)

    @rule(target=handles, h=handles, start=st.integers(0, 4))
    def derive(self, h, start):
        """A slice shares its parent's export (§3: counted once)."""
        if h.released or is_released(h.mv):
            return multiple()
        d = Handle(h.mv[start:], h.export, h.offset + min(start, len(h.mv)),
                   h.snapshot is not None)
        self.live_handles.append(d)
        return d

    @rule(target=handles, h=handles)
    def forward_immutable(self, h):
        """§5: a memoryview forwards IMMUTABLE only if its export was granted
        IMMUTABLE (an immutable or exclusive-read request).  The forward is
        not a new export of the locked object: it keeps h's export alive."""
        if h.released or is_released(h.mv):
            return multiple()
        forwards = h.export.kind in ("immutable", "exclusive_read")
        try:
            f = bf.acquire(h.mv, IMMUTABLE)
        except BufferError:
            f = None
        if f is None:
            assert not forwards, h.export.kind
            self.stats["forward-refused"] += 1
            # No gc.collect() here on purpose: a refusal must not keep h.mv
            # alive (found by this machine, fixed in a5df8ff; regression:
            # test_hostile.py::test_refused_acquire_*), so a later `del`
            # without a cycle must end the export at once.
            return multiple()
        assert forwards, h.export.kind
        assert f.readonly
        self.stats["forward-granted"] += 1
        d = Handle(f, h.export, h.offset, True)
        self.live_handles.append(d)
        return d

    # ---- releases -------------------------------------------------------------
    @rule(h=consumes(handles))
    def release(self, h):
        if h.released:
            return
        try:
            h.mv.release()
        except BufferError:
            # memoryview's own rule: a view with forwarded exports cannot be
            # released (the shim re-exports through it); it stays held.
            self.stats["release-refused-by-memoryview"] += 1
            return
        self._drop(h)

    @rule(h=handles)
    def release_twice(self, h):
        """A second release() of the same view is a no-op (as memoryview)."""
        if h.released:
            h.mv.release()
            return
        try:
            h.mv.release()
        except BufferError:
            return
        self._drop(h)
        h.mv.release()

    @rule(h=consumes(handles), cycle=st.booleans())
    def drop_and_collect(self, h, cycle):
        """del, with the view in a reference cycle or not: only the garbage
        collector (cycle) or the reference count ends the export."""
        if h.released:
            return
        self.live_handles.remove(h)
        mv = h.mv
        h.mv = None
        h.released = True
        pending = [o for o in self.live_handles if o.export is h.export]
        if cycle:
            holder = [mv]
            holder.append(holder)
            del holder
            del mv
            gc.collect()        # the only thing that can end this export
        else:
            del mv              # the reference count ends it at once
        h.export.live -= 1
        # A forward or slice may still reference the dropped memoryview:
        # the export is released only when the last of them goes.
        if h.export.live == 0:
            self.model.release()
        assert pending or h.export.live == 0

    @rule(how=st.sampled_from(VIEWS), write=st.booleans())
    def with_block(self, how, write):
        kwargs, kind, readonly = how
        cm, _ = self._expect(kind, lambda: bf.view(self.obj, **kwargs))
        if cm is None:
            return
        with cm as v:
            h = self._new_handle(v, kind, readonly)
            if write:
                self._own("write", lambda: self.obj.__setitem__(
                    0, (self.model.data[0] + 1) % 256)) and self._bump0()
            assert v.tobytes() == bytes(self.model.data)
        self._drop(h)

    # ---- transient exports ---------------------------------------------------
    @rule()
    def struct_unpack(self):
        got, _ = self._expect("plain", lambda: struct.unpack_from(
            "%dB" % len(self.model.data), self.obj, 0))
        if got is not None:
            assert bytes(got) == bytes(self.model.data)

    @rule()
    def hashlib_read(self):
        got, _ = self._expect("plain", lambda: hashlib.sha256(self.obj).digest())
        if got is not None:
            assert got == hashlib.sha256(bytes(self.model.data)).digest()

    @rule(value=st.integers(0, 255))
    def struct_pack_into(self, value):
        ok, _ = self._expect("writable", lambda: struct.pack_into(
            "B", self.obj, 0, value) or True, WSTAR_ERRORS)
        if ok:
            self.model.data[0] = value

    @rule(payload=st.binary(min_size=0, max_size=8))
    def readinto(self, payload):
        n, _ = self._expect("writable", lambda: io.BytesIO(payload).readinto(
            self.obj), WSTAR_ERRORS)
        if n is not None:
            assert n == min(len(payload), len(self.model.data))
            self.model.data[:n] = payload[:n]

    # ---- writes through views ---------------------------------------------------
    @rule(h=handles, value=st.integers(0, 255))
    def write_through(self, h, value):
        if h.released or h.mv.readonly or not len(h.mv):
            return
        h.mv[0] = value
        self.model.data[h.offset] = value
        self.stats["write-through"] += 1

    # ---- own operations (§3.2) ----------------------------------------------------
    def _bump0(self):
        self.model.data[0] = (self.model.data[0] + 1) % 256
        return True

    @rule(which=st.sampled_from(["list", "index", "slice", "contains", "repr",
                                 "eq", "len"]))
    def own_read(self, which):
        data = bytes(self.model.data)
        obj = self.obj
        if which == "len":
            self._own("len", lambda: len(obj), len(data))
        elif which == "list":
            self._own("read", lambda: list(obj), list(data))
        elif which == "index":
            self._own("read", lambda: obj[-1], data[-1])
        elif which == "slice":
            self._own("read", lambda: bytes(list(obj[1:5])), data[1:5])
        elif which == "contains":
            self._own("read", lambda: data[0] in obj, True)
        elif which == "repr":
            # Never refused (§3.2): under another holder's EXCLUSIVE it reads
            # no contents and says so; otherwise it shows the contents.
            text = repr(obj)
            self.stats["own-repr"] += 1
            if self.model.mode == "EXCLUSIVE":
                assert text.endswith("exclusively held>"), text
                assert str(len(data)) in text, text
            else:
                assert text == repr(self.factory(data)), (text, data)
        else:
            self._own("read", lambda: obj == self.factory(data), True)

    @rule(value=st.integers(0, 255))
    def own_write(self, value):
        if self._own("write", lambda: self.obj.__setitem__(0, value)):
            self.model.data[0] = value

    @rule()
    def own_reverse(self):
        if self._own("write", self.obj.reverse):
            self.model.data.reverse()

    @rule(value=st.integers(0, 255))
    def own_append(self, value):
        if self._own("resize", lambda: self.obj.append(value)):
            self.model.data.append(value)

    @precondition(lambda self: len(self.model.data) > 4)
    @rule()
    def own_pop(self):
        if self._own("resize", self.obj.pop, self.model.data[-1]):
            self.model.data.pop()

    # ---- invariants -------------------------------------------------------------
    @invariant()
    def views_see_the_data(self):
        data = bytes(self.model.data)
        for h in self.live_handles:
            if is_released(h.mv):
                continue
            seen = h.mv.tobytes()
            assert seen == data[h.offset:h.offset + len(seen)], "view content"
            if h.snapshot is not None:
                assert seen == h.snapshot, "immutable view changed"

    @invariant()
    def state_matches(self):
        assert_matches_model(self.obj, self.model)

    def teardown(self):
        try:
            self._release_everything()
        finally:
            gc.unfreeze()

    def _release_everything(self):
        # Release everything, innermost forwards first: a memoryview with
        # forwarded exports refuses release() (memoryview's own rule).
        while self.live_handles:
            progress = False
            for h in list(self.live_handles):
                try:
                    h.mv.release()
                except BufferError:
                    continue
                self._drop(h)
                progress = True
            assert progress, "views that can never be released"
        assert (self.model.mode, self.model.holds, self.model.reads) == (
            "FREE", 0, 0)
        assert_fresh(self.obj, bytes(self.model.data))


for _name, _factory in FACTORIES.items():
    _machine = type("LockMachine_" + _name, (LockMachine,),
                    {"factory": staticmethod(_factory), "type_name": _name})
    globals()["Test_" + _name] = _machine.TestCase
del _name, _factory, _machine
