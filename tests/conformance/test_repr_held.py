"""repr() and str() of a locked object while another holder's exclusive
export is held (issue 17): a text that reads no contents, names the type and
the length (len() is allowed in every state, §3.2) and says it is held,

    <LockingBytearray of 5 bytes, exclusively held>
    <bytearray of 1 byte, exclusively held>          (natively)
    <array of 3 items, exclusively held>             (natively, array.array)

exactly that: ``<{type name} of {len} {unit}, exclusively held>`` with the
type's short name (as §6 messages name it: a subclass its own), unit "byte"
or "bytes" for the bytearray types and "item"/"items" for array.array
(singular for a length of 1).  So tracebacks, loggers and debuggers keep
working exactly when someone holds the object, as Rust's RefCell prints
``RefCell { value: <borrowed> }``.  In every other state repr() and str()
are the stock ones, and nothing about the state changes.

Runs on both backends: the locked types of conftest.py, natively also
array.array (on the shim an array cannot be held exclusively).
"""
import array
import io
import logging
import pprint
import reprlib
import traceback

import pytest

import bufferflags as bf

from . import _support as S
from .conftest import BACKEND, DATA

# Every test holds or requests an exclusive export (tests/conftest.py).
pytestmark = pytest.mark.exclusive

EXCLUSIVE_REQUESTS = {
    "exclusive": dict(exclusive=True),
    "exclusive-writable": dict(exclusive=True, writable=True),
}


def _kinds():
    kinds = {t.__name__: t for t in BACKEND.locked_types}
    if BACKEND.native:
        kinds["array-B"] = lambda data: array.array("B", data)
        kinds["array-i"] = lambda data: array.array("i", list(data))
    return kinds


KINDS = _kinds()


def held_text(obj):
    """The one format, spelled out (the native patch series matches it)."""
    unit = "item" if isinstance(obj, array.array) else "byte"
    n = len(obj)
    return "<%s of %d %s%s, exclusively held>" % (
        type(obj).__name__, n, unit, "" if n == 1 else "s")


@pytest.fixture(params=list(KINDS))
def make(request):
    return KINDS[request.param]


def _data(obj):
    return obj.tobytes() if isinstance(obj, array.array) else bytes(obj)


def _fresh(obj, data):
    if isinstance(obj, array.array):
        assert S.mode_of(obj) == "FREE"
        obj.append(obj[0] if len(obj) else 0)   # resizable again
        obj.pop()
        assert obj.tobytes() == data
    else:
        S.assert_fresh(obj, data)


@pytest.mark.parametrize("request_kind", list(EXCLUSIVE_REQUESTS))
@pytest.mark.parametrize("data", [b"", b"x", b"hello", DATA],
                         ids=["empty", "one", "five", "DATA"])
def test_repr_and_str_under_exclusive_export(make, data, request_kind):
    obj = make(data)
    before = _data(obj)
    with bf.view(obj, **EXCLUSIVE_REQUESTS[request_kind]):
        expected = held_text(obj)
        assert repr(obj) == expected
        assert str(obj) == expected
        assert "%r" % (obj,) == "%s" % (obj,) == expected
        assert f"{obj!r}" == f"{obj}" == format(obj) == expected
        assert S.mode_of(obj) == "EXCLUSIVE"       # still held, unchanged
    _fresh(obj, before)


def test_exact_format_examples():
    """The format's words, independent of held_text() above."""
    lb = bf.LockingBytearray(b"hello")
    with bf.view(lb, exclusive=True):
        assert repr(lb) == "<LockingBytearray of 5 bytes, exclusively held>"
    one = bf.LockingBytearray(b"x")
    with bf.view(one, exclusive=True):
        assert str(one) == "<LockingBytearray of 1 byte, exclusively held>"
    if BACKEND.native:
        ba = bytearray(b"")
        with bf.view(ba, exclusive=True):
            assert repr(ba) == "<bytearray of 0 bytes, exclusively held>"
        arr = array.array("i", [1, 2, 3])
        with bf.view(arr, exclusive=True):
            assert repr(arr) == "<array of 3 items, exclusively held>"
            assert str(arr) == "<array of 3 items, exclusively held>"


def test_reads_no_contents(make):
    secret = b"s3cr3t-contents"
    obj = make(secret)
    stock = repr(obj)
    with bf.view(obj, exclusive=True, writable=True) as mine:
        mine[0] = ord("S")                           # the holder may write
        text = repr(obj) + str(obj)
        assert "3cr3t" not in text and "115" not in text
    assert repr(obj) != stock                        # the holder's write shows


def test_subclass_named(make):
    base = type(make(b""))
    sub = type("Sub" + base.__name__.capitalize(), (base,), {})
    obj = sub(b"abc") if not issubclass(sub, array.array) else sub("B", b"abc")
    with bf.view(obj, exclusive=True):
        assert repr(obj) == held_text(obj)
        assert repr(obj).startswith("<Sub")


@pytest.mark.parametrize("how", ["FREE", "plain", "writable", "immutable"])
def test_stock_repr_in_every_other_state(make, how):
    """Only an exclusive export changes the text; under a plain, writable
    or immutable export the contents are readable and shown as ever."""
    obj = make(b"abc")
    stock_repr, stock_str = repr(obj), str(obj)
    views = []
    if how == "plain":
        views.append(memoryview(obj))
    elif how == "writable":
        views.append(bf.view(obj, writable=True))
    elif how == "immutable":
        views.append(bf.view(obj, immutable=True))
    try:
        assert repr(obj) == stock_repr
        assert str(obj) == stock_str
        assert "exclusively held" not in repr(obj)
    finally:
        S.release_all(views)
    with bf.view(obj, exclusive=True):
        pass
    assert repr(obj) == stock_repr                   # after the release too
    _fresh(obj, _data(make(b"abc")))


def test_other_reads_stay_refused(make):
    """repr() is not a way around the lock: every other read is refused."""
    obj = make(b"abc")
    with bf.view(obj, exclusive=True):
        repr(obj)
        with pytest.raises(bf.BufferConflictError,
                           match="cannot read while an exclusive export is held"):
            obj[0]
        with pytest.raises(bf.BufferConflictError):
            bytes(obj)
        assert len(obj) == 3


def test_tracebacks_loggers_debuggers(make):
    """What breaks today: an exception message, a logger, pprint, reprlib,
    a formatted traceback with the object in its locals."""
    obj = make(b"abc")
    expected = held_text(obj)
    stream = io.StringIO()
    logger = logging.getLogger("bufferflags.test_repr_held")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with bf.view(obj, exclusive=True):
            logger.warning("held: %r / %s", obj, obj)
            assert pprint.pformat(obj) == expected
            shortened = reprlib.Repr()
            shortened.maxother = 100
            if isinstance(obj, array.array):
                # reprlib formats an array by iterating it (repr_array), a
                # read that is refused (§3.2); only repr() itself is exempt.
                with pytest.raises(bf.BufferConflictError, match="cannot read"):
                    shortened.repr(obj)
            else:
                assert shortened.repr(obj) == expected
            try:
                raise ValueError(f"bad object {obj!r}")
            except ValueError as e:
                te = traceback.TracebackException.from_exception(
                    e, capture_locals=True)
                text = "".join(te.format())
                assert f"bad object {expected}" in text
                assert f"obj = {expected}" in text
                assert any(expected in str(frame.locals)
                           for frame in te.stack if frame.locals)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == f"held: {expected} / {expected}\n"
