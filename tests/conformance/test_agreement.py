"""issue 19 item 5: both backends decide the same way, in the same order,
with the same message.

Each test is one decision of the issue, written once and run on the shim
(stock CPython 3.11-3.13, LockingBytearray) and natively (bytearray,
LockingBytearray and, where the decision names it, array.array):

* §5: a registered exporter whose __buffer__ returns a memoryview whose
  export was not granted IMMUTABLE (a plain memoryview(b"...")) is refused
  IMMUTABLE with the memoryview message, as a plain BufferError;
* §3.2: __init__ with the object itself as argument gives what stock
  bytearray gives (b'');
* §3.2 "Arguments first": an invalid argument of an own operation raises
  its ValueError/TypeError before the state is checked;
* §6: an own operation that reads (operators, comparisons, copy, pickling)
  says "cannot read" under another holder's EXCLUSIVE, also when the locked
  object is the right operand;
* §3.2: iteration checks the state when it starts, so iterating an empty
  object under another holder's EXCLUSIVE is refused like obj[0];
* §3.2 "Callbacks inside the access": the view a Python codec gets from
  decode() is released when decode() returns, with every view derived from
  it (on the shim str(obj, codec) is stock code: §7.3, asserted as such);
* §3.2: an extended-slice assignment of the wrong length checks the state
  before the length.
"""
import array
import codecs
import copy
import operator
import pickle

import pytest

import bufferflags as bf

from ._support import (EXCLUSIVE, FULL_RO, IMMUTABLE, MEMORYVIEW_MESSAGE,
                       WRITABLE, assert_fresh, conflict_message, count_of,
                       is_released, mode_of, refusal_types)
from .conftest import BACKEND, DATA, HAS_PEP688

RELEASED_MESSAGE = "operation forbidden on released memoryview object"


def _types_with_array():
    """The locked types, and natively array.array too (a locked exporter
    there, §3; on the shim it supports no new flag)."""
    types = list(BACKEND.locked_types)
    if BACKEND.native:
        types.append(array.array)
    return types


def _make(tp, data=DATA):
    if tp is array.array:
        return array.array("B", data)
    return tp(data)


HOLDS = {
    "immutable": lambda o: bf.view(o, immutable=True),
    "acquire-exclusive-read": lambda o: bf.acquire(o, EXCLUSIVE),
    "view-exclusive-writable": lambda o: bf.view(o, exclusive=True,
                                                 writable=True),
}
EXCLUSIVE_HOLDS = [h for h in HOLDS if h != "immutable"]


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as e:      # noqa: BLE001 - compared, not swallowed
        return (type(e), str(e))


# ---- §5: a registered Python exporter returning a plain view ---------------
def _plain_views():
    """__buffer__ results whose export was not granted IMMUTABLE."""
    return [
        ("memoryview(bytes)", lambda data, flags: memoryview(data)),
        ("memoryview(bytes-literal)", lambda data, flags: memoryview(b"abcd")),
        ("memoryview(bytes)[1:]", lambda data, flags: memoryview(data)[1:]),
        ("memoryview(bytes).cast", lambda data, flags: memoryview(data).cast("B")),
        ("memoryview(bytes).toreadonly",
         lambda data, flags: memoryview(data).toreadonly()),
        ("memoryview(view-plain)",
         lambda data, flags: memoryview(bf.view(data))),
    ]


def _exporter(returned, flags=IMMUTABLE):
    class Exporter:
        __buffer_flags__ = flags     # declared in the class body (§5)

        def __init__(self, data):
            self.data = data
            self.views = []

        def __buffer__(self, flags):
            mv = returned(self.data, flags)
            self.views.append(mv)
            return mv
    return Exporter


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
@pytest.mark.parametrize("name,returned", _plain_views(),
                         ids=[n for n, _ in _plain_views()])
@pytest.mark.parametrize("request_", [
    lambda o: bf.view(o, immutable=True),
    lambda o: bf.acquire(o, IMMUTABLE),
    lambda o: bf.acquire(o, IMMUTABLE | FULL_RO),
], ids=["view", "acquire-raw", "acquire-full-ro"])
def test_s5_registered_exporter_of_a_plain_view_is_refused(name, returned,
                                                           request_):
    """§5: the request reaches the memoryview __buffer__ returned, which
    forwards IMMUTABLE only if its own export was granted it: a plain
    memoryview of bytes was not (even though bytes never change), so the
    request is refused with the memoryview message as a plain BufferError
    (nothing is held: §6), whatever the exporter declared."""
    tp = _exporter(returned)
    obj = tp(b"abcd")
    bf.register(tp, IMMUTABLE)
    try:
        with pytest.raises(BufferError) as info:
            request_(obj)
        assert info.type is BufferError
        assert str(info.value) == MEMORYVIEW_MESSAGE
        with memoryview(obj) as plain:          # a plain request still works
            assert plain.tobytes() == obj.views[-1].tobytes()
    finally:
        for mv in obj.views:
            mv.release()


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
def test_s5_registered_exporter_of_an_immutable_view_is_granted():
    """The control: a view that was granted IMMUTABLE forwards it."""
    tp = _exporter(lambda data, flags: bf.view(data, immutable=True))
    obj = tp(b"abcd")
    bf.register(tp, IMMUTABLE)
    try:
        with bf.view(obj, immutable=True) as v:
            assert v.readonly and v.tobytes() == b"abcd"
        with bf.acquire(obj, IMMUTABLE) as v:
            assert v.readonly
    finally:
        for mv in obj.views:
            mv.release()


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
def test_s5_bytes_buffer_passed_through_shim_limit():
    """`bytes.__buffer__(flags)` with the consumer's IMMUTABLE request:
    natively the memoryview records the grant and forwards it.  A stock
    memoryview does not record what it was asked for, so on the shim it
    looks exactly like memoryview(b"...") and is refused (fail closed,
    §2 rule 3); bf.acquire(data, flags) is the shim-portable spelling."""
    tp = _exporter(lambda data, flags: data.__buffer__(flags))
    portable = _exporter(lambda data, flags: bf.acquire(data, flags))
    obj, portable_obj = tp(b"abcd"), portable(b"abcd")
    bf.register(tp, IMMUTABLE)
    bf.register(portable, IMMUTABLE)
    try:
        if BACKEND.native:
            with bf.view(obj, immutable=True) as v:
                assert v.readonly and v.tobytes() == b"abcd"
        else:
            with pytest.raises(BufferError) as info:
                bf.view(obj, immutable=True)
            assert info.type is BufferError
            assert str(info.value) == MEMORYVIEW_MESSAGE
        with bf.view(portable_obj, immutable=True) as v:
            assert v.readonly and v.tobytes() == b"abcd"
    finally:
        for mv in obj.views + portable_obj.views:
            mv.release()


# ---- §3.2: __init__ from the object itself ---------------------------------
def test_s3_2_reinit_from_itself(locked):
    """obj.__init__(obj): as bytearray.__init__(ba, ba), which empties the
    object before it reads its argument (stock and natively: b'')."""
    reference = bytearray(DATA)
    reference.__init__(reference)
    assert reference == b""
    assert locked.__init__(locked) is None
    assert bytes(locked) == bytes(reference)
    assert_fresh(locked, b"")


# ---- §3.2 "Arguments first" ------------------------------------------------
INVALID_ARGUMENTS = [
    ("setitem-256", lambda b: b.__setitem__(0, 256)),
    ("setitem-negative", lambda b: b.__setitem__(0, -1)),
    ("setitem-str", lambda b: b.__setitem__(0, "x")),
    ("setitem-float", lambda b: b.__setitem__(0, 1.5)),
    ("setitem-bad-key", lambda b: b.__setitem__("k", 1)),
    ("setitem-negative-index-256", lambda b: b.__setitem__(-1, 256)),
    ("slice-assign-str", lambda b: b.__setitem__(slice(0, 1), "x")),
    ("slice-assign-int", lambda b: b.__setitem__(slice(0, 1), 5)),
    ("append-256", lambda b: b.append(256)),
    ("append-negative", lambda b: b.append(-1)),
    ("append-str", lambda b: b.append("x")),
    ("insert-256", lambda b: b.insert(0, 256)),
    ("insert-str-index", lambda b: b.insert("x", 1)),
    ("insert-str-value", lambda b: b.insert(0, "x")),
    ("remove-256", lambda b: b.remove(256)),
    ("remove-str", lambda b: b.remove("x")),
    ("pop-str", lambda b: b.pop("x")),
    ("imul-str", lambda b: operator.imul(b, "x")),
    ("too-many-arguments", lambda b: b.append(1, 2)),
]


@pytest.mark.parametrize("name,op", INVALID_ARGUMENTS,
                         ids=[n for n, _ in INVALID_ARGUMENTS])
@pytest.mark.parametrize("how", list(HOLDS))
def test_s3_2_invalid_argument_before_the_state(locked, how, name, op):
    """§3.2 "Arguments first": the operation converts its arguments before
    it checks the state, so an invalid one raises its own error (exactly
    stock bytearray's) while an immutable or exclusive export is held; the
    data and the state stay as they were."""
    expected = _outcome(lambda: op(bytearray(DATA)))
    assert expected[0] in (ValueError, TypeError), expected
    holder = HOLDS[how](locked)
    mode = mode_of(locked)
    got = _outcome(lambda: op(locked))
    assert got == expected
    assert holder.tobytes() == DATA
    assert mode_of(locked) == mode
    if mode == "IMMUTABLE":
        assert count_of(locked) == 1
    holder.release()
    assert_fresh(locked, DATA)


# ---- §6: an own read says "cannot read" ------------------------------------
def _other(tp):
    """A second, free object of the locked type."""
    return tp(b"xyz")


OWN_READS = [
    ("add-bytes", lambda b: b + b"x"),
    ("add-bytearray", lambda b: b + bytearray(b"x")),
    ("add-self", lambda b: b + b),
    ("add-other-locked", lambda b: b + _other(type(b))),
    ("radd-other-locked", lambda b: _other(type(b)) + b),
    ("mul", lambda b: b * 2),
    ("rmul", lambda b: 2 * b),
    ("eq", lambda b: b == b"x"),
    ("ne", lambda b: b != b"x"),
    ("lt", lambda b: b < b"x"),
    ("le", lambda b: b <= b"x"),
    ("gt", lambda b: b > b"x"),
    ("ge", lambda b: b >= b"x"),
    ("eq-self", lambda b: b == b),
    ("eq-other-locked", lambda b: b == _other(type(b))),
    ("eq-reflected-other-locked", lambda b: _other(type(b)) == b),
    ("lt-reflected-other-locked", lambda b: _other(type(b)) < b),
    ("eq-reflected-bytes", lambda b: b"x" == b),
    ("ne-reflected-bytes", lambda b: b"x" != b),
    ("lt-reflected-bytes", lambda b: b"x" < b),
    ("ge-reflected-bytes", lambda b: b"x" >= b),
    ("eq-reflected-bytearray", lambda b: bytearray(b"x") == b),
    ("copy-method", lambda b: b.copy()),
    ("copy.copy", copy.copy),
    ("copy.deepcopy", copy.deepcopy),
    ("reduce", lambda b: b.__reduce__()),
    ("reduce_ex-2", lambda b: b.__reduce_ex__(2)),
] + [("pickle-%d" % p, (lambda p: lambda b: pickle.dumps(b, p))(p))
     for p in range(pickle.HIGHEST_PROTOCOL + 1)]

# The right operand of bytes/bytearray concatenation.  bytes' own `+`
# exports its operand ("cannot export a buffer"); bytearray's `+` reads a
# second bytearray as its own operation ("cannot read").  On the shim both
# left operands are stock code, which rewrites the refusal as a TypeError
# (§7.6 sites).
CONCAT_ONTO_STOCK = [
    ("read:concat-onto-bytes(export)", lambda b: b"x" + b,
     "export a buffer"),
    ("read:concat-onto-bytearray(export)", lambda b: bytearray(b"x") + b,
     "read"),
]


@pytest.mark.parametrize("name,op", OWN_READS, ids=[n for n, _ in OWN_READS])
@pytest.mark.parametrize("how", EXCLUSIVE_HOLDS)
def test_s6_own_reads_say_cannot_read(locked, how, name, op):
    """§6: '<type>: cannot read while an exclusive export is held' for every
    own operation that reads the locked object, whichever side of the
    operator it is on; data and state unchanged."""
    holder = HOLDS[how](locked)
    with pytest.raises(BufferError) as info:
        op(locked)
    assert info.type is bf.BufferConflictError
    assert str(info.value) == conflict_message(type(locked), "read",
                                               "EXCLUSIVE")
    assert holder.tobytes() == DATA
    assert mode_of(locked) == "EXCLUSIVE"
    holder.release()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("site,op,action", CONCAT_ONTO_STOCK,
                         ids=[s for s, _, _ in CONCAT_ONTO_STOCK])
@pytest.mark.parametrize("how", EXCLUSIVE_HOLDS)
def test_s6_concat_onto_stock(locked, how, site, op, action):
    """`b"x" + obj` says "cannot export a buffer", `bytearray(b"x") + obj`
    "cannot read" natively; on the shim the stock left operand's TypeError
    (§7.6)."""
    holder = HOLDS[how](locked)
    with pytest.raises(refusal_types(site)) as info:
        op(locked)
    if issubclass(info.type, BufferError):
        assert info.type is bf.BufferConflictError
        assert str(info.value) == conflict_message(type(locked), action,
                                                   "EXCLUSIVE")
    else:
        assert not BACKEND.native
    assert holder.tobytes() == DATA
    holder.release()
    assert_fresh(locked, DATA)


# ---- §3.2: iteration checks when it starts ---------------------------------
ITERATIONS = [
    ("list", list),
    ("tuple", tuple),
    ("for", lambda o: [x for x in o]),
    ("next-iter", lambda o: next(iter(o))),
    ("enumerate", lambda o: list(enumerate(o))),
    ("index-0", lambda o: o[0]),        # the reference refusal
]


@pytest.mark.parametrize("name,iterate", ITERATIONS,
                         ids=[n for n, _ in ITERATIONS])
@pytest.mark.parametrize("how", EXCLUSIVE_HOLDS)
@pytest.mark.parametrize("tp", _types_with_array(),
                         ids=[t.__name__ for t in _types_with_array()])
def test_s3_2_iterating_an_empty_object_is_a_read(tp, how, name, iterate):
    """§3.2: iteration is a read checked when it starts, even with nothing
    to yield: under another holder's EXCLUSIVE, iterating an empty object
    is refused as obj[0] is (not an empty list, not an IndexError)."""
    obj = _make(tp, b"")
    holder = HOLDS[how](obj)
    with pytest.raises(BufferError) as info:
        iterate(obj)
    assert info.type is bf.BufferConflictError
    assert str(info.value) == conflict_message(tp, "read", "EXCLUSIVE")
    holder.release()
    assert list(obj) == []
    assert mode_of(obj) == "FREE"


# ---- §3.2: a codec's view of decode() ends with decode() -------------------
class _KeepingCodec:
    """A registered text codec whose decoder keeps the memoryview it gets
    and views derived from it, made inside the call."""

    name = "bufferflags_test_agreement_keeper"

    def __init__(self):
        self.kept = []
        self.search = self._search      # one object: unregister() compares by identity
        codecs.register(self.search)

    def _search(self, name):
        if name == self.name:
            return codecs.CodecInfo(codecs.latin_1_encode, self._decode,
                                    name=self.name)
        return None

    def _decode(self, data, errors="strict"):
        assert isinstance(data, memoryview) and data.readonly
        self.kept.append(("view", data))
        self.kept.append(("memoryview(view)", memoryview(data)))
        self.kept.append(("view[1:]", data[1:]))
        self.kept.append(("view.cast", data.cast("B")))
        return data.tobytes().decode("latin-1"), len(data)

    def close(self):
        codecs.unregister(self.search)


@pytest.fixture
def keeper():
    codec = _KeepingCodec()
    yield codec
    codec.close()


def _assert_unusable(view):
    for access in (bytes, len, operator.itemgetter(0),
                   lambda v: v.tobytes(), memoryview, lambda v: v[1:],
                   lambda v: v.cast("B")):
        with pytest.raises(ValueError) as info:
            access(view)
        assert str(info.value) == RELEASED_MESSAGE


DECODES = [
    ("decode", lambda b, name: b.decode(name), False),
    ("decode-keyword", lambda b, name: b.decode(encoding=name), False),
    ("str", lambda b, name: str(b, name), True),
]


@pytest.mark.exclusive
@pytest.mark.parametrize("name,decode,stock_on_shim", DECODES,
                         ids=[n for n, _, _ in DECODES])
def test_s3_2_a_kept_codec_view_is_released(locked, keeper, name, decode,
                                            stock_on_shim):
    """§3.2 "Callbacks inside the access": the decoder reads a view of the
    contents that is not an export, released when decode() returns with
    every view derived from it: it never reads the object afterwards, under
    another holder's EXCLUSIVE or after clear().

    On the shim str(obj, codec) is stock code (PyUnicode_FromEncodedObject
    decodes a plain export through a view over raw memory that stock never
    releases, §7.3): the kept views stay usable and read the object's
    current bytes, even under an exclusive export.  Asserted as that limit;
    the views are released before the object is cleared."""
    assert decode(locked, keeper.name) == DATA.decode("latin-1")
    assert len(keeper.kept) == 4
    assert mode_of(locked) == "FREE"
    if stock_on_shim and not BACKEND.native:
        locked[0] = ord("H")
        with bf.view(locked, exclusive=True):
            for _, view in keeper.kept:
                assert not is_released(view)
            assert bytes(keeper.kept[0][1])[:1] == b"H"     # the §7.3 limit
        for _, view in reversed(keeper.kept):
            view.release()
        keeper.kept.clear()
        locked[0] = DATA[0]
        assert_fresh(locked, DATA)
        return
    for _, view in keeper.kept:
        assert is_released(view)
        _assert_unusable(view)
    with bf.view(locked, exclusive=True, writable=True) as holder:
        holder[0] = ord("X")
        for _, view in keeper.kept:
            _assert_unusable(view)
    locked.clear()
    for _, view in keeper.kept:
        _assert_unusable(view)
        view.release()                          # harmless, as for any view
    keeper.kept.clear()
    assert_fresh(locked, b"")


def test_s3_2_a_codec_view_is_released_when_decoding_fails(locked):
    """The same when the decoder raises: its view is released on the error
    path too."""
    kept = []

    def decode(data, errors="strict"):
        kept.append(data)
        raise UnicodeDecodeError("bufferflags_test_failing", b"", 0, 1, "no")

    def search(name):
        if name == "bufferflags_test_failing":
            return codecs.CodecInfo(codecs.latin_1_encode, decode, name=name)
        return None

    codecs.register(search)
    try:
        with pytest.raises(UnicodeDecodeError):
            locked.decode("bufferflags_test_failing")
    finally:
        codecs.unregister(search)
    assert len(kept) == 1
    _assert_unusable(kept[0])
    assert_fresh(locked, DATA)


# ---- §3.2: extended-slice assignment: the state before the length ----------
@pytest.mark.parametrize("how", list(HOLDS))
@pytest.mark.parametrize("tp", _types_with_array(),
                         ids=[t.__name__ for t in _types_with_array()])
def test_s3_2_extended_slice_checks_the_state_before_the_length(tp, how):
    """obj[::2] = <wrong length> while an immutable or exclusive export is
    held: refused for the state (§6 'cannot modify'), not a ValueError for
    the length; while only a plain view is held (in-place writes allowed)
    stock's own outcome."""
    obj = _make(tp)
    value = _make(tp, b"xy")
    holder = HOLDS[how](obj)
    mode = mode_of(obj)
    with pytest.raises(BufferError) as info:
        obj[::2] = value
    assert info.type is bf.BufferConflictError
    expected = (conflict_message(tp, "modify", "EXCLUSIVE")
                if mode == "EXCLUSIVE"
                else conflict_message(tp, "modify", "IMMUTABLE", 1))
    assert str(info.value) == expected
    assert holder.tobytes() == DATA
    holder.release()
    with memoryview(obj):
        # stock's own rule while a plain view is held: bytearray checks the
        # length; array refuses any extended-slice assignment while it is
        # exported ("cannot resize an array that is exporting buffers")
        with pytest.raises(BufferError if tp is array.array else ValueError):
            obj[::2] = value
    assert bytes(obj) == DATA
    assert mode_of(obj) == "FREE"


# ---- issue 19 item 4: behaviour changes listed in the PEP ------------------
# (Backwards Compatibility, "Arguments that refer to the object itself"):
# __init__ and extend consume their argument before they change the object.

def _raising_after_two():
    yield 1
    yield 2
    raise RuntimeError("half-way")


def test_reinit_from_an_iterator_over_itself_keeps_the_contents(locked_type):
    b = locked_type(b"abc")
    b.__init__(iter(b))             # stock bytearray: b"" (emptied first)
    assert bytes(b) == b"abc"
    assert_fresh(b, b"abc")


@pytest.mark.parametrize("call", ["__init__", "extend"])
def test_a_failing_iterable_changes_nothing(locked_type, call):
    b = locked_type(b"abc")
    with pytest.raises(RuntimeError, match="half-way"):
        getattr(b, call)(_raising_after_two())
    assert_fresh(b, b"abc")        # stock bytearray.__init__: b"\x01\x02"


def test_array_extend_with_a_failing_iterable():
    a = array.array("i", [1])
    with pytest.raises(RuntimeError, match="half-way"):
        a.extend(_raising_after_two())
    # Natively all or nothing; on the shim array is stock (§5: not locked)
    # and keeps the items before the error.
    assert a.tolist() == ([1] if BACKEND.native else [1, 1, 2])
