"""Hypothesis: own operations whose ARGUMENTS run Python code, over TWO
locked objects (issue 9, "Tests": the hole classes 1-4 found by hand).

State: two locked objects ``a`` and ``b`` (LockingBytearray on the shim;
bytearray or LockingBytearray natively, chosen per example), each with the
§3 reference model of test_state_machine.py (mode, count, data) and the
exports held on it.

Rules:

* ``hold``/``drop``: take or release an export of either object (every
  request kind), so the operations below run in every mode;
* ``read_op``/``write_op``/``resize_op``: one own operation on either object
  with ONE hostile argument (an ``__index__`` index, value, width or slice
  bound, a str/bytes-subclass separator, an exporter with ``__buffer__``
  (3.12+), an iterator).  When the argument is converted it runs a callback
  chosen by hypothesis: acquire an export of the same or the other object
  and keep it, release a held export, clear, grow past a reallocation or
  write in place into either object, and optionally raise afterwards;
* ``cross_op``: reads of the other locked object (slice assignment from it,
  ``+=``, ``extend``, ``+``, comparisons), checked against both states;
* ``iterate``: iteration with the callback between two steps (every step is
  a read checked against the state at that step);
* ``decode_op`` and, on the shim, ``percent_op``: callbacks *inside* the
  access (a codec lookup, ``%`` formatting another argument): they run
  while an own read of the object is in progress.

Expectations come from proposal/semantics.md §3.1/§3.2:

* "Held while converted" (HELD_READS): the operands upstream converts while
  it pins the bytearray (a search's sub, hex()'s separator, join()'s items)
  are converted while the operation's read is held: an object held
  EXCLUSIVE refuses the read before the callback runs, and the callback's
  requests and mutations are judged with the read in progress (exclusive
  and resizes refused); the result is that of the same call on a stock
  bytearray holding the data as the callback left it.
* "Arguments first" (every other argument): the callback runs before the
  operation takes the state; its own request is judged against the state before the operation
  (§3.1), the operation against the state after the callback (§3.2), and a
  mutation made by the callback is seen by the operation: the result (value
  or exception type) is that of the same call on a stock bytearray holding
  the data as the callback left it, with plain arguments.
* "Callbacks inside the access": requests are judged with the read in
  progress (FREE with reads only: exclusive refused, no resize).
* A refused operation changes neither data nor state (§3.2, last bullet);
  a raising callback leaves only what the callback itself did.
* "A second locked object": reading the other object while it is held
  EXCLUSIVE is refused (the own-read message, or the export message, or the
  TypeError of a §7.6 site on the shim), nothing changes.

After every step the invariants compare both objects' data, mode and count
with the models (test_state_machine.assert_matches_model) and every held
immutable export with its snapshot.  Known, intended: natively,
``decode()`` runs its codec lookup inside the access.
"""
import codecs
import contextlib
import itertools
import operator
import sys

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant,
                                 precondition, rule)

import bufferflags as bf

from tests.conformance._ops import norm
from tests.conformance._support import (EXCLUSIVE, IMMUTABLE, REFUSED,
                                        RESIZE_SHARED_MESSAGE, RO, WRITABLE,
                                        conflict_message)
from tests.conformance.conftest import BACKEND, HAS_PEP688

from tests.conformance.test_reentrancy import _Hostile, _Plain

from .conftest import report
from .test_state_machine import Model, assert_matches_model

START_A = b"hello world, abc ABC 123"
START_B = b"second-object"
GROW = b"#" * 4096            # past any small allocation: a realloc moves it
MAX_LEN = 4096                # no grow beyond this (keeps examples fast)

# one raw spelling per request kind (test_state_machine covers the others)
KIND_FLAGS = {"plain": 0, "writable": WRITABLE, "immutable": IMMUTABLE,
              "exclusive_read": EXCLUSIVE, "exclusive_write": EXCLUSIVE | WRITABLE}
KINDS = list(KIND_FLAGS)

#: Fixed: extend(exporter) and += used to refuse at once when the object
#: could not be resized, without calling the operand's __buffer__ (§3.2
#: "Arguments first").  Left empty: the machine expects the contract.
KNOWN_NOT_CONVERTED = frozenset()

#: Fixed: natively, comparing two bytearrays both held EXCLUSIVE used to
#: answer NotImplemented on both sides; it is refused now.  Left empty.
BOTH_EXCLUSIVE_COMPARE = frozenset()

# §7.6: on the shim, stock code turns these refusals into TypeError.
REWRITES = () if BACKEND.native else (TypeError,)


class Boom(Exception):
    """Raised by a callback: must come out of the operation unchanged."""


class Side:
    """One locked object, its model and the exports held on it."""

    def __init__(self, name, obj, data):
        self.name, self.obj, self.model = name, obj, Model(data)
        self.held = []              # [memoryview, kind, snapshot or None]

    def read_refusals(self):
        """§6 messages an own read of this object may be refused with (it
        reads, or it exports a plain buffer)."""
        tp = type(self.obj)
        return {conflict_message(tp, "read", "EXCLUSIVE"),
                conflict_message(tp, "export a buffer", "EXCLUSIVE")}

    def modify_refusal(self):
        m = self.model
        if m.mode == "SHARED":
            return RESIZE_SHARED_MESSAGE
        if m.mode == "FREE":            # reads in progress: no resize
            return None
        return conflict_message(type(self.obj), "modify", m.mode, m.count)


# ---- the callback -----------------------------------------------------------
# (action, which object, parameter) -- parameter: request kind, held index,
# byte value; then whether it raises afterwards.
actions = st.one_of(
    st.tuples(st.just("acquire"), st.sampled_from("ab"), st.sampled_from(KINDS)),
    st.tuples(st.just("release"), st.sampled_from("ab"), st.integers(0, 3)),
    st.tuples(st.sampled_from(["clear", "grow"]), st.sampled_from("ab"), st.none()),
    st.tuples(st.just("write"), st.sampled_from("ab"), st.integers(0, 255)),
    st.tuples(st.just("nothing"), st.just("a"), st.none()),
)
callbacks = st.tuples(actions, st.integers(0, 4).map(lambda i: i == 0))  # raise 1 in 5


_CODEC_NAMES = itertools.count()


# ---- the operations ------------------------------------------------------------------------
# READS: name -> (needs PEP 688, fn(x, H, n))
READS = {
    "find-start": (False, lambda x, H, n: x.find(b"l", H.idx(n))),
    "count-start": (False, lambda x, H, n: x.count(b"c", H.idx(n))),
    "index-start": (False, lambda x, H, n: x.index(b"e", H.idx(n))),
    "contains-int": (False, lambda x, H, n: H.idx(n % 256) in x),
    "center": (False, lambda x, H, n: x.center(H.idx(n + 30))),
    "ljust": (False, lambda x, H, n: x.ljust(H.idx(n + 30), b"*")),
    "hex-str-sep": (False, lambda x, H, n: x.hex(H.sep("-"))),
    "hex-bytes-sep": (False, lambda x, H, n: x.hex(H.sep(b":"), 2)),
    "hex-bytes_per_sep": (False, lambda x, H, n: x.hex(":", H.idx(n or 1))),
    "getitem": (False, lambda x, H, n: x[H.idx(n)]),
    "slice": (False, lambda x, H, n: x[H.idx(n):H.idx(n + 9)]),
    "slice-step": (False, lambda x, H, n: x[H.idx(n)::H.idx(2)]),
    "join-iterator": (False, lambda x, H, n: x.join(H.iter([b"1", b"22", b"3"]))),
    "decode-lookup": (False, lambda x, H, n: x.decode(_encoding(H))),
    "find-buffer": (True, lambda x, H, n: x.find(H.buf(b"l"))),
    "contains-buffer": (True, lambda x, H, n: H.buf(b"lo") in x),
}
# The reads whose hostile argument is converted while the read is held
# (semantics.md §3.2, as upstream's pins).
HELD_READS = frozenset({"contains-int", "contains-buffer", "find-buffer",
                        "hex-str-sep", "hex-bytes-sep", "join-iterator"})


def _encoding(H):
    """A codec name whose lookup runs the hook (an argument: §3.2); the
    plain reference is latin-1 itself."""
    if not hasattr(H, "cleanups"):
        return "latin-1"
    if getattr(H, "eager", False):
        H.fire()        # stock decodes b"" without a lookup: convert it anyway
    unique = "bufferflags_model_%d" % next(_CODEC_NAMES)

    def search(asked):
        if asked != unique:
            return None
        H.fire()
        return codecs.lookup("latin-1")
    codecs.register(search)
    H.cleanups.append(lambda: codecs.unregister(search))
    return unique


@contextlib.contextmanager
def _latin1_codec(decode):
    """A latin-1 codec whose decoder is `decode`, registered under a fresh
    name (yielded) while the block runs."""
    unique = "bufferflags_model_%d" % next(_CODEC_NAMES)

    def search(asked):
        if asked != unique:
            return None
        return codecs.CodecInfo(codecs.latin_1_encode, decode, name=unique)
    codecs.register(search)
    try:
        yield unique
    finally:
        codecs.unregister(search)


def _setitem(x, key, value):
    x[key] = value
    return x


def _delitem(x, key):
    del x[key]
    return x


def _call(x, name, *args):
    return x, getattr(x, name)(*args)


# WRITES: name -> fn(x, H, n, v, width); in-place writes (same length)
WRITES = {
    "setitem-index": lambda x, H, n, v, w: _setitem(x, H.idx(n), v),
    "setitem-value": lambda x, H, n, v, w: _setitem(x, n, H.idx(v)),
    "setslice-extended": lambda x, H, n, v, w: _setitem(
        x, slice(H.idx(n), None, 2), bytes([v]) * w),
}

# RESIZES: name -> (needs PEP 688, category (None: by lengths), fn(x, H, n, v))
RESIZES = {
    "append": (False, "resize", lambda x, H, n, v: _call(x, "append", H.idx(v))),
    "insert": (False, "resize", lambda x, H, n, v: _call(x, "insert", H.idx(n), v)),
    "extend-iterator": (False, "resize",
                        lambda x, H, n, v: _call(x, "extend", H.iter([v, 33]))),
    "extend-buffer": (True, "resize",
                      lambda x, H, n, v: _call(x, "extend", H.buf(b"!!"))),
    "delitem": (False, "resize", lambda x, H, n, v: _delitem(x, H.idx(n))),
    "setslice-bound": (False, None,
                       lambda x, H, n, v: _setitem(x, slice(H.idx(n), None),
                                                   bytes([v]) * 3)),
}


# CROSS: name -> (category of the target (None: by lengths), fn(x, H, other, n))
def _iadd(x, H, o, n):
    x += o
    return x


def _first(H):
    operator.index(H.idx(0))
    return None


CROSS = {
    "setslice-from-other": (None, lambda x, H, o, n: _setitem(
        x, slice(H.idx(n), H.idx(n + 4)), o)),
    # no argument to convert: the callback runs just before the operation
    "iadd-other": ("resize", lambda x, H, o, n: _first(H) or _iadd(x, H, o, n)),
    "extend-other": ("resize", lambda x, H, o, n: _first(H) or _call(x, "extend", o)),
    "concat-other": ("read", lambda x, H, o, n: _first(H) or x + o),
    "eq-other": ("read", lambda x, H, o, n: _first(H) or x == o),
    "lt-other": ("read", lambda x, H, o, n: _first(H) or x < o),
}



class CallbackMachine(RuleBasedStateMachine):

    def __init__(self):
        super().__init__()
        self.stats = report("callbacks-model")
        self.stats["examples"] += 1
        self.sides = None
        self.failures = []          # assertion errors raised inside callbacks
        self.fired = 0

    # ---- setup: the two locked objects ----------------------------------------
    @initialize(ta=st.sampled_from(BACKEND.locked_types),
                tb=st.sampled_from(BACKEND.locked_types))
    def start(self, ta, tb):
        self.sides = {"a": Side("a", ta(START_A), START_A),
                      "b": Side("b", tb(START_B), START_B)}

    # ---- helpers ---------------------------------------------------------------
    def _acquire(self, side, kind):
        """One export request judged by §3.1 against the current model."""
        m = side.model
        cell = m.cell(kind)
        try:
            mv = bf.acquire(side.obj, KIND_FLAGS[kind])
        except BufferError as e:
            assert cell == REFUSED, ("refused but §3.1 grants", kind, m.mode,
                                     m.count, str(e))
            self.stats["acquire-refused"] += 1
            return
        try:
            assert cell != REFUSED, ("granted but §3.1 refuses", kind, m.mode,
                                     m.count)
            assert mv.readonly is (cell[0] == RO), (kind, m.mode)
            assert mv.tobytes() == bytes(m.data)
        except AssertionError:
            mv.release()
            raise
        m.grant(kind)
        immutable = mv.readonly and m.mode in ("IMMUTABLE", "EXCLUSIVE")
        side.held.append([mv, kind, mv.tobytes() if immutable else None])
        self.stats["acquire-granted"] += 1

    def _release(self, side, i):
        if side.held:
            mv = side.held.pop(i % len(side.held))[0]
            mv.release()
            side.model.release()

    def _own(self, side, category, op, new_data):
        """An own operation with plain arguments, inside a callback."""
        m = side.model
        allowed = m.allows(category)
        try:
            op()
        except BufferError:
            assert not allowed, ("own %s refused in" % category, m.mode, m.count)
            self.stats["callback-own-refused"] += 1
            return
        assert allowed, ("own %s allowed in" % category, m.mode, m.count)
        m.data[:] = new_data

    def _act(self, action):
        (what, which, param), boom = action
        side = self.sides[which]
        data = side.model.data
        self.stats["callback-" + what] += 1
        if what == "acquire":
            self._acquire(side, param)
        elif what == "release":
            self._release(side, param)
        elif what == "clear" and data:
            self._own(side, "resize", side.obj.clear, b"")
        elif what == "grow" and len(data) < MAX_LEN:
            self._own(side, "resize", lambda: side.obj.extend(GROW), data + GROW)
        elif what == "write" and data:
            self._own(side, "write", lambda: side.obj.__setitem__(0, param),
                      bytes([param]) + data[1:])
        if boom:
            self.stats["callback-raise"] += 1
            raise Boom()

    def _callback(self, action):
        """The hook: runs once, records an assertion error instead of letting
        the operation under test swallow or rewrite it."""
        def hook():
            self.fired += 1
            try:
                self._act(action)
            except AssertionError as e:
                self.failures.append(e)
        return hook

    def _check_callback(self):
        if self.failures:
            raise self.failures[0]

    def _outcome(self, call):
        try:
            return ("ok", norm(call()))
        except BufferError as e:
            return ("refused", str(e))
        except Exception as e:
            return ("raised", type(e))

    def _held_callback(self, side, action):
        """The hook of an argument converted while the read is held: the
        model counts that read while the hook runs."""
        hook = self._callback(action)

        def held():
            side.model.begin_read()
            try:
                hook()
            finally:
                side.model.end_read()
        return held

    def _run(self, side, category, op, action, others=(), must_fire=True,
             fail_fast=False, op_name=None, held=False):
        """Run op(obj, H) with a hostile argument whose callback does
        `action`; judge the outcome by "arguments first" (§3.2), or with
        `held` by "held while converted".  `others`: sides the operation
        reads too (a second locked object)."""
        self.fired = 0
        if held and not side.model.allows("read"):
            # the read is refused before its operand is converted
            hostile = _Hostile(self._callback(action))
            hostile.cleanups = []
            try:
                got = self._outcome(lambda: op(side.obj, hostile))
            finally:
                for cleanup in hostile.cleanups:
                    cleanup()
            assert not self.fired, "converted while an exclusive export is held"
            assert got[0] == "refused" and got[1] in side.read_refusals(), got
            self.stats["op-refused-before-converting"] += 1
            return
        hostile = _Hostile(self._held_callback(side, action) if held
                           else self._callback(action))
        hostile.cleanups = []
        before = bytes(side.model.data)
        resizable_before = side.model.allows("resize")
        refusal_before = side.modify_refusal()
        try:
            got = self._outcome(lambda: op(side.obj, hostile))
        finally:
            for cleanup in hostile.cleanups:
                cleanup()
        self._check_callback()
        self.stats["op-%s" % category] += 1
        if not self.fired and fail_fast and not resizable_before:
            # §3.2 "Failing fast": an iterable's items are not collected
            # (not even the first, on the shim) when no resize is possible.
            assert got == ("refused", refusal_before), got
            self.stats["op-failed-fast"] += 1
            return
        if (not self.fired and op_name in KNOWN_NOT_CONVERTED
                and not resizable_before):
            assert got == ("refused", refusal_before), got
            self.stats["known-discrepancy-not-converted"] += 1
            return
        assert self.fired or not must_fire, "the argument was not converted"
        (_, _, _), boom = action
        m = side.model
        reference = bytearray(m.data)
        if self.fired and boom:
            # An error-raising argument: the operation raises what a stock
            # bytearray raises for it (stock `in` turns a failing __index__
            # into TypeError), and nothing but what the callback did before
            # raising has changed (the invariants check it).
            def boom_hook():
                raise Boom()
            raising = _Hostile(boom_hook)
            raising.cleanups = []
            raising.eager = True        # a codec name is converted first too
            try:
                expected = self._outcome(lambda: op(reference, raising))
            finally:
                for cleanup in raising.cleanups:
                    cleanup()
            assert got == expected, ("raising argument", got, expected)
            assert reference == m.data
            self.stats["op-raised-by-callback"] += 1
            return
        # Arguments first: judge against the state after the callback.
        expected = self._outcome(lambda: op(reference, _Plain))
        if category is None or (category == "resize" and m.mode == "SHARED"):
            # decided by the lengths after the callback: in SHARED mode only
            # a size change is refused (§3.2, today's rule)
            category = "write" if len(reference) == len(m.data) else "resize"
        refusals = set()
        if not m.allows(category):
            refusals |= (side.read_refusals() if category == "read"
                         else {side.modify_refusal()})
        other_refused = False
        for other in others:
            if not other.model.allows("read"):
                refusals |= other.read_refusals()
                other_refused = True
        if refusals:
            if (op_name in BOTH_EXCLUSIVE_COMPARE and m.mode == "EXCLUSIVE"
                    and all(o.model.mode == "EXCLUSIVE" for o in others)):
                self.stats["known-bug-both-exclusive-compare"] += 1
                return
            if other_refused and got[0] == "raised" and got[1] in REWRITES:
                pass                    # §7.6 site on the shim
            else:
                assert got[0] == "refused" and got[1] in refusals, (
                    "expected a refusal", category, m.mode, m.count, got, refusals)
            self.stats["op-refused"] += 1
            return
        assert got == expected, ("arguments first", category, before,
                                 bytes(m.data), got, expected)
        self.stats["op-done"] += 1
        m.data[:] = reference

    # ---- exports held across steps -----------------------------------------------
    @rule(which=st.sampled_from("ab"), kind=st.sampled_from(KINDS))
    def hold(self, which, kind):
        self._acquire(self.sides[which], kind)

    @rule(which=st.sampled_from("ab"), i=st.integers(0, 3))
    def drop(self, which, i):
        self._release(self.sides[which], i)

    # ---- own operations with one hostile argument (arguments first) ------------------
    @rule(which=st.sampled_from("ab"), op=st.sampled_from(sorted(READS)),
          n=st.integers(-30, 30), cb=callbacks)
    def read_op(self, which, op, n, cb):
        needs688, fn = READS[op]
        if needs688 and not HAS_PEP688:
            return
        self.stats["read-" + op] += 1
        if op == "decode-lookup" and BACKEND.native:
            return      # natively the lookup runs inside the access (intended)
        self._run(self.sides[which], "read", lambda x, H: fn(x, H, n), cb,
                  op_name=op, held=op in HELD_READS)

    @rule(which=st.sampled_from("ab"), op=st.sampled_from(sorted(WRITES)),
          n=st.integers(-30, 30), v=st.integers(0, 255), cb=callbacks)
    def write_op(self, which, op, n, v, cb):
        fn = WRITES[op]
        side = self.sides[which]
        # an extended slice of the right length for the data BEFORE the call:
        # a callback that resizes makes it the wrong length (ValueError)
        width = len(range(*slice(n, None, 2).indices(len(side.model.data))))
        if op == "setslice-extended" and not width:
            # b[k::2] = b"" is a deletion for stock bytearray, which checks
            # that it may resize before it notices there is nothing to do
            return
        self.stats["write-" + op] += 1
        self._run(side, None if op == "setslice-extended" else "write",
                  lambda x, H: fn(x, H, n, v, width), cb, op_name=op)

    @rule(which=st.sampled_from("ab"), op=st.sampled_from(sorted(RESIZES)),
          n=st.integers(-30, 30), v=st.integers(0, 255), cb=callbacks)
    def resize_op(self, which, op, n, v, cb):
        needs688, category, fn = RESIZES[op]
        if needs688 and not HAS_PEP688:
            return
        self.stats["resize-" + op] += 1
        call = lambda x, H: fn(x, H, n, v)
        if op == "extend-buffer":
            # As upstream (gh-153578): the data lands at the end the object
            # had before the operand's __buffer__ ran, clamped to its size.
            end = len(self.sides[which].model.data)

            def call(x, H):
                if H is not _Plain:
                    return fn(x, H, n, v)
                at = min(end, len(x))
                x[at:at] = b"!!"
                return x, None
        self._run(self.sides[which], category, call, cb,
                  fail_fast=op == "extend-iterator", op_name=op)

    # ---- a second locked object -------------------------------------------------------
    @rule(which=st.sampled_from("ab"), op=st.sampled_from(sorted(CROSS)),
          n=st.integers(0, 30), cb=callbacks)
    def cross_op(self, which, op, n, cb):
        side = self.sides[which]
        other = self.sides["b" if which == "a" else "a"]
        category, fn = CROSS[op]
        if category != "read" and not other.model.data:
            return          # += / extend of nothing resizes nothing: not a rule
        self.stats["cross-" + op] += 1

        def call(x, H):
            o = bytearray(other.model.data) if H is _Plain else other.obj
            return fn(x, H, o, n)
        self._run(side, category, call, cb, others=(other,), op_name=op)

    # ---- iteration: every step is a read, checked at that step ------------------------
    @rule(which=st.sampled_from("ab"), k=st.integers(0, 30), cb=callbacks)
    def iterate(self, which, k, cb):
        side = self.sides[which]
        m = side.model
        hook = self._callback(cb)
        self.fired = 0
        self.stats["iterate"] += 1
        it = iter(side.obj)
        pos = 0
        while True:
            allowed = m.allows("read")
            try:
                x = next(it)
            except StopIteration:
                assert pos >= len(m.data), ("stopped early", pos, bytes(m.data))
                break
            except BufferError as e:
                assert not allowed, ("step refused in", m.mode, m.count)
                assert str(e) in side.read_refusals(), str(e)
                self.stats["iterate-refused"] += 1
                break
            assert allowed, ("step allowed in", m.mode)
            assert pos < len(m.data) and x == m.data[pos], (pos, x, bytes(m.data))
            if pos == k:
                try:
                    hook()
                except Boom:
                    break
                self._check_callback()
            pos += 1

    # ---- callbacks inside the access ----------------------------------------------------
    @rule(which=st.sampled_from("ab"), cb=callbacks)
    def decode_op(self, which, cb):
        """decode() through a Python codec: the codec's decode function runs
        inside the access (§3.2), on the object's memory.  (The codec
        *lookup* is an argument, converted first: read_op's
        "decode-lookup".)"""
        self._inside(self.sides[which], cb, "decode",
                     lambda x, enc: x.decode(enc),
                     lambda data: bytes(data).decode("latin-1"))

    @precondition(lambda self: not BACKEND.native)
    @rule(which=st.sampled_from("ab"), cb=callbacks)
    def percent_op(self, which, cb):
        """`%` holds an own read of its bytearray arguments while it formats
        the others (§3.2).  Natively that read starts at the argument's turn
        (tests/conformance/_support.READS_IN_PROGRESS_NATIVE_XFAIL, a strict
        xfail there): shim only."""
        self._inside(self.sides[which], cb, "percent",
                     lambda x, probe: type(x)(b"%s%s") % (probe, x),
                     lambda data: b"|" + bytes(data))

    def _inside(self, side, cb, name, op, expected):
        m = side.model
        hook = self._callback(cb)
        self.fired = 0
        self.stats["inside-" + name] += 1
        readable = m.allows("read")
        reading = []

        def inside():
            # the read is in progress: the model counts it while the hook runs
            m.begin_read()
            reading.append(1)
            try:
                hook()
            finally:
                m.end_read()

        if name == "decode":
            def decode(data, errors="strict"):
                inside()
                return bytes(data).decode("latin-1"), len(data)

            with _latin1_codec(decode) as unique:
                got = self._outcome(lambda: op(side.obj, unique))
        else:
            class Probe:
                def __bytes__(self):
                    inside()
                    return b"|"
            got = self._outcome(lambda: op(side.obj, Probe()))
        self._check_callback()
        if not readable:
            assert got[0] == "refused" and got[1] in side.read_refusals(), got
            assert not reading, "Python code ran inside a refused read"
            return
        if not m.data and not reading:
            return          # nothing to decode: no codec call
        assert reading, "the callback did not run"
        if cb[1]:
            assert got == ("raised", Boom), got
            return
        assert got == ("ok", norm(expected(m.data))), (got, bytes(m.data))

    # ---- invariants ------------------------------------------------------------------------
    @invariant()
    def both_match_their_models(self):
        if self.sides is None:
            return
        self.stats["steps"] += 1
        for side in self.sides.values():
            assert_matches_model(side.obj, side.model)
            for mv, kind, snapshot in side.held:
                if snapshot is not None:
                    assert mv.tobytes() == snapshot, "immutable export changed"
                assert mv.tobytes() == bytes(side.model.data)

    def teardown(self):
        if self.sides is None:
            return
        from tests.conformance._support import assert_fresh
        for side in self.sides.values():
            while side.held:
                self._release(side, 0)
            assert (side.model.mode, side.model.holds,
                    side.model.reads) == ("FREE", 0, 0)
            assert_fresh(side.obj, bytes(side.model.data))


Test_CallbackMachine = CallbackMachine.TestCase


# ---- the discrepancies the machine found, as fixed reproducers ------------------------


def test_decode_codec_sees_an_own_read():
    obj = BACKEND.locked_types[0](b"abc")
    held = []

    def decode(data, errors="strict"):
        held.append(bf.view(obj, immutable=True))     # §3.1 READING: granted
        return bytes(data).decode("latin-1"), len(data)

    try:
        with _latin1_codec(decode) as name:
            assert obj.decode(name) == "abc"
        assert len(held) == 1
    finally:
        for v in held:
            v.release()


def test_decode_codec_cannot_resize_through_the_base_class():
    """The codec runs while decode() reads the memory: a resize from it,
    even through bytearray's own method (which the shim does not guard),
    is refused, so the memory being decoded cannot move."""
    obj = BACKEND.locked_types[0](b"abc")
    refused = []

    def decode(data, errors="strict"):
        try:
            bytearray.append(obj, 0x78)
        except BufferError:
            refused.append(True)
        return bytes(data).decode("latin-1"), len(data)

    with _latin1_codec(decode) as name:
        assert obj.decode(name) == "abc"
    assert refused == [True]
    assert bytes(obj) == b"abc"


@pytest.mark.skipif(not HAS_PEP688, reason="Python-level __buffer__ is 3.12+")
def test_extend_buffer_converted_first():
    obj = BACKEND.locked_types[0](b"abc")
    v = bf.view(obj, immutable=True)

    class Operand:
        def __buffer__(self, flags):
            v.release()                 # the blocking export ends first
            return memoryview(b"!!")
    try:
        obj.extend(Operand())
    finally:
        v.release()
    assert bytes(obj) == b"abc!!"


@pytest.mark.exclusive
@pytest.mark.parametrize("index", [20, -20])
def test_index_checked_after_the_state(index):
    """§3.2: arguments, then the state, then indices: a refused operation is
    refused whatever the index; a granted one then checks it."""
    for tp in BACKEND.locked_types:
        obj = tp(b"abc")
        with bf.view(obj, immutable=True):
            for op in (lambda: obj.__setitem__(index, 0),
                       lambda: obj.__delitem__(index)):
                with pytest.raises(BufferError, match="immutable export"):
                    op()
            with pytest.raises(IndexError):
                obj[index]
        with bf.view(obj, exclusive=True):
            with pytest.raises(BufferError, match="exclusive export"):
                obj[index]
        assert bytes(obj) == b"abc"
        for op in (lambda: obj[index], lambda: obj.__setitem__(index, 0),
                   lambda: obj.__delitem__(index)):
            with pytest.raises(IndexError):
                op()


@pytest.mark.exclusive
def test_compare_two_exclusive_objects_refused():
    tp = BACKEND.locked_types[0]
    a, b = tp(b"xyz"), tp(b"xyz")
    with bf.view(a, exclusive=True), bf.view(b, exclusive=True):
        for op in (operator.eq, operator.ne, operator.lt):
            with pytest.raises(BufferError):
                op(a, b)
