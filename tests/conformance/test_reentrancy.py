"""§3.2 "input first", for reads: an own operation converts its arguments
(``__index__`` of an index, a bound or a count, an operand's ``__buffer__``,
``__bool__``, a codec lookup) before it takes the state, and holds the state
for its whole access -- except the operands that upstream CPython converts
while it pins the bytearray (3.13.12+: gh-142560, gh-143195, gh-151295),
which are converted while the read is held (HELD_READS below).  Each case
of READS runs one read with one argument whose Python code, on its first
conversion:

* ``exclusive``: takes an exclusive view of the object and keeps it.  It is
  granted (nothing is held yet), and the read is then refused with the §6
  own-read message (or, for an operation that exports the object, the plain
  export message); data and state stay as they were;
* ``clear`` / ``grow``: empties the object, or grows it past a reallocation.
  The read then sees the new contents, exactly as if the callback had run
  before the call (never the old memory, never a crash).

The expected result is the same call on a stock bytearray holding the new
contents, with plain arguments.
"""
import codecs
import itertools
import operator
import sys

import pytest

import bufferflags as bf

from . import _ops
from ._support import assert_fresh, conflict_message
from .conftest import DATA, HAS_PEP688

GROWN = DATA + b"#" * 4096


class _Hostile:
    """Builds arguments whose conversion runs `hook` once (the first
    conversion of any of them), then behaves as the plain value."""

    def __init__(self, hook):
        self.hook = hook
        self.fired = 0

    def fire(self):
        if not self.fired:
            self.fired += 1
            self.hook()

    def idx(self, value):
        outer = self

        class Index:
            def __index__(self):
                outer.fire()
                return value
        return Index()

    def truth(self, value):
        outer = self

        class Truth:
            def __bool__(self):
                outer.fire()
                return value

            def __index__(self):          # 3.11's bool(accept={int})
                outer.fire()
                return int(value)
        return Truth()

    def sep(self, value):
        outer = self
        base = str if isinstance(value, str) else bytes

        class Sep(base):
            def __len__(self):
                outer.fire()
                return base.__len__(self)
        return Sep(value)

    def buf(self, value):
        outer = self

        class Buffer:
            def __buffer__(self, flags):
                outer.fire()
                return memoryview(value)
        return Buffer()

    def iter(self, items):
        def gen():
            self.fire()
            yield from items
        return gen()

    def encoding(self, name):
        """A codec name found by a search function that fires on lookup."""
        unique = "bufferflags_test_%d" % next(_CODEC_NAMES)

        def search(asked):
            if asked != unique:
                return None
            self.fire()
            return codecs.lookup(name)
        codecs.register(search)
        self.cleanups.append(lambda: codecs.unregister(search))
        return unique


_CODEC_NAMES = itertools.count()


class _Plain:
    """The same builders, returning the plain values (the reference)."""

    @staticmethod
    def idx(value):
        return value

    truth = sep = buf = idx

    @staticmethod
    def iter(items):
        return iter(items)

    @staticmethod
    def encoding(name):
        return name


TABLE = bytes.maketrans(b"abc", b"xyz")

# (id, op(b, H), needs PEP 688 for a Python-level __buffer__)
READS = [
    ("getitem-index", lambda b, H: b[H.idx(3)], False),
    ("getitem-negative-index", lambda b, H: b[H.idx(-1)], False),
    ("getitem-slice", lambda b, H: b[H.idx(1):H.idx(9):H.idx(2)], False),
    ("getitem-slice-stop", lambda b, H: b[:H.idx(7)], False),
    ("find-start", lambda b, H: b.find(b"l", H.idx(4)), False),
    ("find-end", lambda b, H: b.find(b"l", 0, H.idx(20)), False),
    ("rfind-start", lambda b, H: b.rfind(b"l", H.idx(1)), False),
    ("index-start", lambda b, H: b.index(b"l", H.idx(1)), False),
    ("rindex-end", lambda b, H: b.rindex(b"l", 0, H.idx(20)), False),
    ("count-start", lambda b, H: b.count(b"l", H.idx(3)), False),
    ("startswith-start", lambda b, H: b.startswith(b"llo", H.idx(2)), False),
    ("endswith-end", lambda b, H: b.endswith(b"o", 0, H.idx(5)), False),
    ("center", lambda b, H: b.center(H.idx(40)), False),
    ("ljust", lambda b, H: b.ljust(H.idx(40), b"*"), False),
    ("rjust", lambda b, H: b.rjust(H.idx(40)), False),
    ("zfill", lambda b, H: b.zfill(H.idx(40)), False),
    ("expandtabs", lambda b, H: b.expandtabs(H.idx(4)), False),
    ("expandtabs-keyword", lambda b, H: b.expandtabs(tabsize=H.idx(4)), False),
    ("hex-bytes_per_sep", lambda b, H: b.hex(":", H.idx(2)), False),
    ("hex-keywords", lambda b, H: b.hex(sep=":", bytes_per_sep=H.idx(3)), False),
    ("split-maxsplit", lambda b, H: b.split(b" ", H.idx(1)), False),
    ("rsplit-maxsplit-keyword", lambda b, H: b.rsplit(maxsplit=H.idx(1)), False),
    ("splitlines", lambda b, H: b.splitlines(H.truth(True)), False),
    ("partition", lambda b, H: b.partition(H.buf(b" ")), True),
    ("rpartition", lambda b, H: b.rpartition(H.buf(b" ")), True),
    ("removeprefix", lambda b, H: b.removeprefix(H.buf(b"hello")), True),
    ("removesuffix", lambda b, H: b.removesuffix(H.buf(b"xyz")), True),
    ("replace-count", lambda b, H: b.replace(b"l", b"L", H.idx(2)), False),
    ("replace-old-buffer", lambda b, H: b.replace(H.buf(b"l"), b"L"), True),
    ("replace-new-buffer", lambda b, H: b.replace(b"l", H.buf(b"LL")), True),
    ("translate-table", lambda b, H: b.translate(H.buf(TABLE)), True),
    ("translate-delete", lambda b, H: b.translate(None, H.buf(b"l")), True),
    ("strip", lambda b, H: b.strip(H.buf(b"hz")), True),
    ("lstrip", lambda b, H: b.lstrip(H.buf(b"h")), True),
    ("rstrip", lambda b, H: b.rstrip(H.buf(b"z")), True),
    ("__reduce_ex__", lambda b, H: b.__reduce_ex__(H.idx(2))[1], False),
    ("concat-buffer", lambda b, H: b + H.buf(b"!"), True),
    ("eq-buffer", lambda b, H: b == H.buf(DATA), True),
    ("lt-buffer", lambda b, H: b < H.buf(b"zzz"), True),
    ("repeat", lambda b, H: b * H.idx(2), False),
]
# The operands upstream converts while the bytearray is pinned (its
# export count raised): a search's sub (find, count, index, rfind, rindex,
# startswith, endswith, in), split()'s and rsplit()'s separator, hex()'s
# separator (its __len__) and join()'s iterable and items.  Natively and on
# the shim they are converted while an own read is held (§3.2).
HELD_READS = [
    ("contains-int", lambda b, H: H.idx(ord("l")) in b, False),
    ("contains-buffer", lambda b, H: H.buf(b"lo") in b, True),
    ("find-sub-int", lambda b, H: b.find(H.idx(ord("o"))), False),
    ("find-sub-buffer", lambda b, H: b.find(H.buf(b"wor")), True),
    ("count-sub-int", lambda b, H: b.count(H.idx(ord("l"))), False),
    ("startswith-tuple-buffer",
     lambda b, H: b.startswith((b"x", H.buf(b"hel"))), True),
    ("split-sep-buffer", lambda b, H: b.split(H.buf(b",")), True),
    ("join-iterator", lambda b, H: b.join(H.iter([b"1", b"2", b"3"])), False),
    ("join-buffer-item", lambda b, H: b.join([b"1", H.buf(b"2")]), True),
    ("rsplit-sep-buffer", lambda b, H: b.rsplit(H.buf(b",")), True),
    ("endswith-tuple-buffer",
     lambda b, H: b.endswith((b"x", H.buf(b"rld"))), True),
    ("index-sub-int", lambda b, H: b.index(H.idx(ord("o"))), False),
    ("hex-sep-str", lambda b, H: b.hex(H.sep(":"), 2), False),
    ("hex-sep-bytes", lambda b, H: b.hex(H.sep(b":")), False),
]
# Operations that report any error of converting that operand as an error
# of their own, as stock does: `in` searches for the value as bytes when its
# __index__ fails, join() raises TypeError when an item's buffer fails.
WRAPPED = {"contains-int": TypeError, "join-buffer-item": TypeError}


def _params(cases, extra=lambda name: ()):
    return [pytest.param(op, *extra(name), id=name,
                         marks=pytest.mark.skipif(
                             needs688 and not HAS_PEP688,
                             reason="Python-level __buffer__ is 3.12+"))
            for name, op, needs688 in cases]


HELD_READ_PARAMS = _params(HELD_READS)
HELD_READ_WRAPPED_PARAMS = _params(HELD_READS,
                                   lambda name: (WRAPPED.get(name),))
READ_PARAMS = _params(READS)

MUTATIONS = {
    "clear": (lambda b: b.clear(), b""),
    "grow": (lambda b: b.extend(b"#" * 4096), GROWN),
}


def _outcome(call):
    try:
        return ("ok", _ops.norm(call()))
    except Exception as e:          # the same exception type on both sides
        return ("raised", type(e))


def _run(op, b, hostile):
    hostile.cleanups = []
    try:
        return op(b, hostile)
    finally:
        for cleanup in hostile.cleanups:
            cleanup()


def _granted_then_refused(locked, op, messages):
    """Run op with an argument whose code takes an exclusive view of locked
    and keeps it: the view is granted on the old contents, op is refused
    with one of messages, and nothing is left behind.  Returns the hostile
    argument builder (for its fired count)."""
    held = []
    hostile = _Hostile(lambda: held.append(bf.view(locked, exclusive=True)))
    try:
        with pytest.raises(BufferError) as info:
            _run(op, locked, hostile)
        assert len(held) == 1, "the argument's request was not granted"
        assert str(info.value) in messages, str(info.value)
        assert held[0].tobytes() == DATA
    finally:
        for v in held:
            v.release()
    assert_fresh(locked, DATA)
    return hostile


@pytest.mark.exclusive
@pytest.mark.parametrize("op", READ_PARAMS)
def test_s3_2_read_arguments_first_exclusive_granted_then_read_refused(locked, op):
    """The argument's exclusive request is granted; the read is refused."""
    hostile = _granted_then_refused(locked, op, {
        conflict_message(type(locked), "read", "EXCLUSIVE"),
        conflict_message(type(locked), "export a buffer", "EXCLUSIVE"),
    })
    assert hostile.fired == 1


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("op", READ_PARAMS)
def test_s3_2_read_arguments_first_mutation_seen_whole(locked, op, mutation):
    """A callback that empties or grows the object runs before the read: the
    result is the read of the new contents."""
    mutate, after = MUTATIONS[mutation]
    hostile = _Hostile(lambda: mutate(locked))
    got = _outcome(lambda: _run(op, locked, hostile))
    assert hostile.fired == 1
    expected = _outcome(lambda: op(bytearray(after), _Plain))
    assert got == expected
    assert_fresh(locked, after)


@pytest.mark.exclusive
@pytest.mark.parametrize("op, wrapped", HELD_READ_WRAPPED_PARAMS)
def test_s3_2_held_read_refuses_exclusive_to_its_operand(locked, op, wrapped):
    """The operand's code runs while the read is held: its exclusive request
    is refused (§6, a read in progress), the refusal ends the read, and data
    and state stay as they were."""
    held = []
    hostile = _Hostile(lambda: held.append(bf.view(locked, exclusive=True)))
    try:
        with pytest.raises(wrapped or bf.BufferConflictError) as info:
            _run(op, locked, hostile)
        assert hostile.fired == 1
        assert held == []
        if wrapped is None:
            assert str(info.value) == conflict_message(
                type(locked), "export PyBUF_EXCLUSIVE", "FREE")
    finally:
        for v in held:
            v.release()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("op, wrapped", HELD_READ_WRAPPED_PARAMS)
def test_s3_2_held_read_refuses_a_resize_by_its_operand(locked, op, wrapped,
                                                         mutation):
    """As upstream (test_search_methods_reentrancy_raises_buffererror,
    test_hex_use_after_free): a resize by the operand's code is refused with
    BufferError, the read ends with it, and nothing changed."""
    mutate, _ = MUTATIONS[mutation]
    hostile = _Hostile(lambda: mutate(locked))
    with pytest.raises(wrapped or BufferError):
        _run(op, locked, hostile)
    assert hostile.fired == 1
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("op", HELD_READ_PARAMS)
def test_s3_2_held_read_lets_its_operand_take_immutable(locked, op):
    """A read in progress grants PyBUF_IMMUTABLE (§3.1): the operand's code
    may take an immutable view, and the read completes as if it had not."""
    held = []
    hostile = _Hostile(lambda: held.append(bf.view(locked, immutable=True)))
    try:
        assert _outcome(lambda: _run(op, locked, hostile)) == \
            _outcome(lambda: op(bytearray(DATA), _Plain))
        assert hostile.fired == 1 and len(held) == 1
        assert held[0].tobytes() == DATA
    finally:
        for v in held:
            v.release()
    assert_fresh(locked, DATA)


@pytest.mark.exclusive
@pytest.mark.parametrize("op", HELD_READ_PARAMS)
def test_s3_a_mode_ends_with_its_last_hold_inside_a_held_read(locked, op):
    """§3: a mode lasts as long as the holds that keep it.  The operand's
    code takes an immutable view and releases it while the read is held:
    that leaves FREE with one read in progress, so a plain export is
    writable again, an in-place write is allowed and EXCLUSIVE is refused
    because of the read, not of a mode that outlived its hold."""
    seen = []

    def hook():
        with bf.view(locked, immutable=True) as v:
            seen.append(v.readonly)
        with memoryview(locked) as m:
            seen.append(m.readonly)
        locked[0] = locked[0]
        try:
            bf.view(locked, exclusive=True).release()
        except BufferError as e:
            seen.append(str(e))

    hostile = _Hostile(hook)
    assert _outcome(lambda: _run(op, locked, hostile)) == \
        _outcome(lambda: op(bytearray(DATA), _Plain))
    assert hostile.fired == 1
    assert seen == [True, False, conflict_message(
        type(locked), "export PyBUF_EXCLUSIVE", "FREE", 1)]
    assert_fresh(locked, DATA)


# ---- writes and resizes (§3.2: they already ran their input first) ----------
def _set(key, value):
    def op(b, H):
        b[key(H)] = value(H)
        return b
    return op


def _del(key):
    def op(b, H):
        del b[key(H)]
        return b
    return op


def _call(name, *args):
    def op(b, H):
        result = getattr(b, name)(*(a(H) for a in args))
        return b, result
    return op


def _inplace(operator_, arg):
    def op(b, H):
        return operator_(b, arg(H))
    return op


def _const(value):
    return lambda H: value


WRITES = [
    ("setitem-index", _set(lambda H: H.idx(3), _const(65)), False),
    ("setitem-value", _set(_const(3), lambda H: H.idx(65)), False),
    ("setslice-bounds", _set(lambda H: slice(H.idx(0), H.idx(2)), _const(b"HE")),
     False),
    ("setslice-extended-bounds",
     _set(lambda H: slice(H.idx(0), None, 2), _const(b"." * len(DATA[::2]))),
     False),
    ("setslice-value-iterator", _set(_const(slice(0, 2)),
                                     lambda H: H.iter([72, 69])), False),
    ("setslice-value-buffer", _set(_const(slice(0, 2)),
                                   lambda H: H.buf(b"HE")), True),
    ("delitem-index", _del(lambda H: H.idx(0)), False),
    ("delslice-bounds", _del(lambda H: slice(H.idx(0), H.idx(3))), False),
    ("append", _call("append", lambda H: H.idx(33)), False),
    ("insert-index", _call("insert", lambda H: H.idx(0), _const(33)), False),
    ("insert-value", _call("insert", _const(0), lambda H: H.idx(33)), False),
    ("pop-index", _call("pop", lambda H: H.idx(0)), False),
    ("remove", _call("remove", lambda H: H.idx(ord("w"))), False),
    ("extend-iterator", _call("extend", lambda H: H.iter([33, 34])), False),
    ("extend-buffer", _call("extend", lambda H: H.buf(b"!!")), True),
    ("__init__-iterator", _call("__init__", lambda H: H.iter(b"new")), False),
    ("__init__-index", _call("__init__", lambda H: H.idx(3)), False),
    ("__init__-buffer", _call("__init__", lambda H: H.buf(b"new")), True),
    ("iadd-buffer", _inplace(operator.iadd, lambda H: H.buf(b"!!")), True),
    ("imul", _inplace(operator.imul, lambda H: H.idx(2)), False),
]
WRITE_PARAMS = _params(WRITES)
# extend(exporter) follows upstream (below), not "the new contents".
WRITE_MUTATION_PARAMS = _params([w for w in WRITES if w[0] != "extend-buffer"])


@pytest.mark.exclusive
@pytest.mark.parametrize("op", WRITE_PARAMS)
def test_s3_2_write_arguments_first_exclusive_granted_then_write_refused(locked, op):
    """A write's input runs first: its exclusive request is granted, and the
    write is then refused without a trace."""
    _granted_then_refused(locked, op, {
        conflict_message(type(locked), "modify", "EXCLUSIVE")})


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("op", WRITE_MUTATION_PARAMS)
def test_s3_2_write_arguments_first_mutation_seen_whole(locked, op, mutation):
    """A write's input that empties or grows the object runs before the
    write: the write applies to the new contents."""
    mutate, after = MUTATIONS[mutation]
    hostile = _Hostile(lambda: mutate(locked))
    got = _outcome(lambda: _run(op, locked, hostile))
    assert hostile.fired == 1
    reference = bytearray(after)
    expected = _outcome(lambda: op(reference, _Plain))
    assert got == expected
    assert_fresh(locked, bytes(reference))


@pytest.mark.skipif(not HAS_PEP688, reason="Python-level __buffer__ is 3.12+")
@pytest.mark.parametrize("mutation, expected", [
    ("clear", b"!!"),
    ("shrink", DATA[:5] + b"!!"),
    ("grow", DATA + b"!!" + b"#" * 4096),
])
def test_s3_2_extend_lands_where_the_end_was(locked, mutation, expected):
    """As upstream (gh-153578): extend(x) appends at the end the object had
    before x.__buffer__ ran, clamped to its size after it -- a shrink never
    copies freed memory in, a growth does not move the data."""
    mutate = {"clear": lambda: locked.clear(),
              "shrink": lambda: locked.__delitem__(slice(5, None)),
              "grow": lambda: locked.extend(b"#" * 4096)}[mutation]

    class Operand:
        def __buffer__(self, flags):
            mutate()
            return memoryview(b"!!")
    assert locked.extend(Operand()) is None
    assert_fresh(locked, expected)


# ---- `%`: the format decides how each argument converts ------------------------
PERCENT = [
    ("percent-d", lambda fmt, H: fmt % (H.idx(5), b"x")),
    ("percent-c", lambda fmt, H: fmt % (H.idx(65), b"x")),
]
FORMATS = {"percent-d": b"<%d|%s>", "percent-c": b"<%c|%s>"}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("name,op", PERCENT, ids=[n for n, _ in PERCENT])
def test_s3_2_percent_format_changed_by_an_argument(locked_type, name, op,
                                                    mutation):
    """A locked format whose argument's __index__ empties or grows the
    format: the result formats either the old contents (read first) or the
    new ones (arguments first), or the change is refused; never the freed
    memory."""
    fmt = locked_type(FORMATS[name])
    mutate, _ = MUTATIONS[mutation]
    hostile = _Hostile(lambda: mutate(fmt))
    try:
        got = op(fmt, hostile)
    except BufferError:
        assert bytes(fmt) == FORMATS[name]          # refused without a trace
        assert_fresh(fmt, FORMATS[name])
        return
    after = bytes(fmt)
    candidates = [op(bytearray(FORMATS[name]), _Plain)]
    try:
        candidates.append(op(bytearray(after), _Plain))
    except TypeError:
        pass
    assert type(got) is bytearray and got in candidates, got
    assert_fresh(fmt, after)


@pytest.mark.parametrize("name,op", PERCENT, ids=[n for n, _ in PERCENT])
def test_s3_2_percent_argument_takes_the_format_exclusively(locked_type, name, op):
    """An argument that takes the format exclusively: either the request is
    refused (the format is being read) or the result formats the contents
    read before it was granted; the exclusive holder's data is never
    changed."""
    fmt = locked_type(FORMATS[name])
    held = []
    hostile = _Hostile(lambda: held.append(bf.view(fmt, exclusive=True)))
    try:
        got = op(fmt, hostile)
    except BufferError:
        got = None
    try:
        if got is not None:
            assert held, "formatted while the format was held exclusively"
            assert got == op(bytearray(FORMATS[name]), _Plain)
        for v in held:
            assert v.tobytes() == FORMATS[name]
    finally:
        for v in held:
            v.release()
    assert_fresh(fmt, FORMATS[name])


@pytest.mark.skipif(sys.version_info < (3, 12), reason="3.12+ __buffer__")
def test_s3_2_read_operand_buffer_is_taken_once(locked):
    """An operand's __buffer__ runs once per operation, before the state is
    taken (not again inside the read)."""
    calls = []

    class Operand:
        def __buffer__(self, flags):
            calls.append(flags)
            return memoryview(b"wor")

    assert locked.find(Operand()) == DATA.find(b"wor")
    assert len(calls) == 1
    assert operator.contains(locked, Operand())
    assert len(calls) == 2
    assert_fresh(locked, DATA)


def _join_list(mutate):
    """[b"a", Item(), b"c"] where Item's __buffer__ runs mutate(the list);
    the list holds the only reference to the Item (CPython's
    test_join_concurrent_buffer_mutation, gh-151295)."""
    class Item:
        def __buffer__(self, flags):
            mutate(seq)
            return memoryview(b"x")
    seq = [b"a", Item(), b"c"]
    return seq


@pytest.mark.skipif(not HAS_PEP688, reason="Python-level __buffer__ is 3.12+")
@pytest.mark.parametrize("sep", [b"", b"::"], ids=["empty-sep", "sep"])
def test_s3_2_join_list_changed_size_by_an_items_buffer(locked_type, sep):
    """join() follows upstream (3.13.15+, gh-151295): an item's __buffer__
    that changes the length of the joined list makes join raise
    RuntimeError("sequence changed size during iteration"); one that only
    replaces an item joins the buffer that item's __buffer__ returned.
    Nothing is left held, on the separator or elsewhere."""
    locked = locked_type(sep)
    seq = _join_list(lambda seq: seq.clear())
    with pytest.raises(RuntimeError,
                       match=r"^sequence changed size during iteration$"):
        locked.join(seq)
    assert seq == []
    assert_fresh(locked, sep)

    def replace(seq):
        seq[1] = b"z"
    seq = _join_list(replace)
    assert locked.join(seq) == sep.join([b"a", b"x", b"c"])
    assert seq == [b"a", b"z", b"c"]
    assert_fresh(locked, sep)

    grown = _join_list(lambda seq: seq.append(b"d"))
    with pytest.raises(RuntimeError,
                       match=r"^sequence changed size during iteration$"):
        locked.join(grown)
    assert_fresh(locked, sep)
