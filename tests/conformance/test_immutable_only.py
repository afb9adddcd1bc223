"""An interpreter that implements PyBUF_IMMUTABLE only (the cpython-patch
series up to its IMMUTABLE part; bufferflags.IMPLEMENTED lacks EXCLUSIVE).

There 0x800 is an unknown bit: every request for PyBUF_EXCLUSIVE, in every
spelling of _support.REQUESTS, fails closed with a plain BufferError (not a
BufferConflictError: nothing held is the reason, and retrying cannot help),
before the exporter runs, on every route (PyObject_GetBuffer(), the checked
memoryview(obj, flags=...), a C type's __buffer__, and the package's
acquire() and view(), which say that the interpreter does not implement
it), and leaves the object as it was: the same data, the same state, an
immutable request granted and writes refused while it is held, as before.
Nothing here claims an exclusive promise that cannot be kept.

Marked ``immutable_only``: tests/conftest.py runs them only on such an
interpreter, where it skips the tests that need EXCLUSIVE; the rule it
applies for that is checked here on every backend.
"""
import array
import inspect

import pytest

import bufferflags as bf

from ..conftest import asks_for_exclusive
from ._support import (EXCLUSIVE, FULL_RO, IMMUTABLE, NEGATIVE, RAW_REQUESTS,
                       REQUESTS, TABLE_3_1, WRITABLE, count_of, hexflags,
                       mode_of)
from .conftest import DATA

EXCLUSIVE_REQUESTS = [(kind, flags) for kind, flags in RAW_REQUESTS
                      if flags & EXCLUSIVE]
EXCLUSIVE_IDS = ["%s-%s" % (kind, hexflags(flags))
                 for kind, flags in EXCLUSIVE_REQUESTS]

# The two locked builtins, the package's locked type (a plain bytearray
# subclass natively) and bytes, which supports IMMUTABLE without locking.
EXPORTERS = {
    "bytearray": bytearray,
    "array.array": lambda data: array.array("B", data),
    "LockingBytearray": bf.LockingBytearray,
    "bytes": bytes,
}
LOCKED_EXPORTERS = [name for name in EXPORTERS if name != "bytes"]

UNKNOWN_EXCLUSIVE = "unknown buffer request flags 0x800"


def _not_implemented_message(obj):
    return ("%s does not support PyBUF_EXCLUSIVE: this interpreter does not "
            "implement PyBUF_EXCLUSIVE (implemented: PyBUF_IMMUTABLE)"
            % type(obj).__name__)


def _interpreter_routes():
    """Requests that reach PyObject_GetBuffer() without the package."""
    return {
        # exactly the flags, as C code passes them
        "memoryview._from_flags": lambda o, f: memoryview._from_flags(o, f),
        # the checked entry point from Python (adds PyBUF_FULL_RO)
        "memoryview(flags=)": lambda o, f: memoryview(o, flags=f),
        # a C type's slot wrapper checks as PyObject_GetBuffer() does
        "__buffer__": lambda o, f: o.__buffer__(f),
    }


def _assert_behaves_as_before(obj, data):
    """After a refused exclusive request the object is as it was: its data,
    FREE, an immutable request granted read-only, writes (locked types)
    refused while that is held and allowed again after."""
    assert bytes(obj) == data
    if isinstance(obj, bytes):
        with bf.acquire(obj, IMMUTABLE) as m:
            assert m.readonly is True and m.tobytes() == data
        return
    assert mode_of(obj) == "FREE"
    with bf.acquire(obj, IMMUTABLE) as m:
        assert m.readonly is True and m.tobytes() == data
        with pytest.raises(bf.BufferConflictError):
            obj[0] = 0x21
        with pytest.raises(bf.BufferConflictError):
            obj.append(0x21)
    obj[0] = 0x21
    obj.append(0x21)
    assert bytes(obj) == b"!" + data[1:] + b"!"
    del obj[-1]
    obj[0] = data[0]
    assert bytes(obj) == data
    assert mode_of(obj) == "FREE"


# ---- what the interpreter says it implements -----------------------------

@pytest.mark.immutable_only
def test_implemented_is_immutable_only():
    assert bf.IMPLEMENTED == bf.IMMUTABLE
    assert bf.NATIVE is True
    assert not hasattr(inspect.BufferFlags, "EXCLUSIVE")
    assert inspect.BufferFlags.IMMUTABLE == 0x400
    # the package keeps the proposal's value, for code that names it
    assert bf.EXCLUSIVE == 0x800


@pytest.mark.immutable_only
@pytest.mark.parametrize("name", EXPORTERS)
def test_supported_flags_are_immutable_only(name):
    """§5 defaults here: the locked types and bytes promise IMMUTABLE and
    nothing else, whoever is asked (the type's declaration, the
    interpreter's inspect.get_buffer_flags(), the package)."""
    obj = EXPORTERS[name](DATA)
    assert bf.supported_flags(obj) == bf.IMMUTABLE
    assert bf.supported_flags(type(obj)) == bf.IMMUTABLE
    assert inspect.get_buffer_flags(obj) == 0x400
    assert type(obj).__buffer_flags__ == 0x400


@pytest.mark.immutable_only
def test_locking_bytearray_is_a_plain_bytearray_subclass():
    """Natively LockingBytearray adds nothing to bytearray: its promises
    are bytearray's, so here IMMUTABLE only."""
    assert bf.LockingBytearray.__mro__ == (bf.LockingBytearray, bytearray,
                                           object)
    assert bf.LockingBytearray.__buffer_flags__ == bytearray.__buffer_flags__


@pytest.mark.immutable_only
def test_a_class_body_declaring_exclusive_gets_nothing():
    """No class can keep a promise the interpreter cannot make.  Whether
    the interpreter refuses such a class body when the class is created or
    lets the class exist is its choice; if it exists, nothing reports
    EXCLUSIVE for it and register() refuses to confirm it, saying why."""
    try:
        Declared = type("Declared", (bytes,),
                        {"__buffer_flags__": IMMUTABLE | EXCLUSIVE})
    except (TypeError, ValueError) as e:
        assert "__buffer_flags__" in str(e), str(e)
        return
    assert not inspect.get_buffer_flags(Declared) & 0x800
    assert not bf.supported_flags(Declared) & bf.EXCLUSIVE
    with pytest.raises(TypeError) as info:
        bf.register(Declared, IMMUTABLE | EXCLUSIVE)
    assert str(info.value) == (
        "cannot register 'Declared' for PyBUF_IMMUTABLE|PyBUF_EXCLUSIVE: "
        "this interpreter does not implement PyBUF_EXCLUSIVE")


# ---- every exclusive request fails closed --------------------------------

@pytest.mark.immutable_only
@pytest.mark.parametrize("kind,flags", EXCLUSIVE_REQUESTS, ids=EXCLUSIVE_IDS)
@pytest.mark.parametrize("route", list(_interpreter_routes()))
@pytest.mark.parametrize("name", EXPORTERS)
def test_interpreter_refuses_every_exclusive_request(name, route, kind, flags):
    """PyObject_GetBuffer() refuses 0x800 as an unknown bit, naming it,
    with a plain BufferError; the object is as it was."""
    obj = EXPORTERS[name](DATA)
    request = _interpreter_routes()[route]
    with pytest.raises(BufferError) as info:
        request(obj, flags)
    assert info.type is BufferError, info.type
    assert str(info.value) == UNKNOWN_EXCLUSIVE
    del info
    _assert_behaves_as_before(obj, DATA)


@pytest.mark.immutable_only
@pytest.mark.parametrize("kind,flags", EXCLUSIVE_REQUESTS, ids=EXCLUSIVE_IDS)
@pytest.mark.parametrize("name", EXPORTERS)
def test_acquire_refuses_every_exclusive_request(name, kind, flags):
    """acquire() says why: the interpreter does not implement EXCLUSIVE."""
    obj = EXPORTERS[name](DATA)
    with pytest.raises(BufferError) as info:
        bf.acquire(obj, flags)
    assert info.type is BufferError, info.type
    assert str(info.value) == _not_implemented_message(obj)
    del info
    _assert_behaves_as_before(obj, DATA)


VIEW_REQUESTS = {
    "exclusive": {"exclusive": True},
    "exclusive-writable": {"exclusive": True, "writable": True},
    "immutable-exclusive": {"immutable": True, "exclusive": True},
    # a private copy cannot carry a guarantee nothing here implements
    "exclusive-fallback-copy": {"exclusive": True, "fallback": "copy"},
}


@pytest.mark.immutable_only
@pytest.mark.parametrize("kwargs", VIEW_REQUESTS.values(), ids=VIEW_REQUESTS)
@pytest.mark.parametrize("name", EXPORTERS)
def test_view_refuses_exclusive(name, kwargs):
    """view(exclusive=True) never falls back to a plain buffer or a copy:
    a plain BufferError naming the type, PyBUF_EXCLUSIVE and the
    interpreter, with no hint (no other type or fallback would help)."""
    obj = EXPORTERS[name](DATA)
    with pytest.raises(BufferError) as info:
        bf.view(obj, **kwargs)
    assert info.type is BufferError, info.type
    assert str(info.value) == _not_implemented_message(obj)
    del info
    _assert_behaves_as_before(obj, DATA)


@pytest.mark.immutable_only
def test_view_of_a_non_buffer_is_still_a_typeerror():
    with pytest.raises(TypeError):
        bf.view(42, exclusive=True)
    with pytest.raises(TypeError):
        bf.acquire(42, EXCLUSIVE)


@pytest.mark.immutable_only
@pytest.mark.parametrize("held", ["immutable", "shared"])
@pytest.mark.parametrize("name", LOCKED_EXPORTERS)
def test_refusal_under_a_held_export_is_not_a_conflict(name, held):
    """While an immutable or a plain export is held, where the whole series
    raises BufferConflictError (§3.1), this interpreter refuses the request
    for what it is: an unknown bit, checked before the state, which it
    leaves as it was (the same mode and count)."""
    obj = EXPORTERS[name](DATA)
    holder = (bf.acquire(obj, IMMUTABLE) if held == "immutable"
              else memoryview(obj))
    mode = mode_of(obj)
    assert mode == held.upper()
    for _, flags in EXCLUSIVE_REQUESTS:
        with pytest.raises(BufferError) as info:
            memoryview._from_flags(obj, flags)
        assert info.type is BufferError, (hexflags(flags), info.type)
        assert str(info.value) == UNKNOWN_EXCLUSIVE
        with pytest.raises(BufferError) as info:
            bf.view(obj, exclusive=True)
        assert info.type is BufferError, info.type
        assert mode_of(obj) == mode
        assert count_of(obj) == 1
    del info
    holder.release()
    _assert_behaves_as_before(obj, DATA)


@pytest.mark.immutable_only
def test_immutable_requests_still_granted():
    """Control for the refusals above: the same exporters grant IMMUTABLE
    in every spelling, read-only, on every route."""
    for name, make in EXPORTERS.items():
        obj = make(DATA)
        for flags in REQUESTS["immutable"]:
            for route, request in _interpreter_routes().items():
                with request(obj, flags) as m:
                    assert m.readonly is True, (name, route)
                    assert m.tobytes() == DATA
            with bf.acquire(obj, flags) as m:
                assert m.readonly is True
        with bf.view(obj, immutable=True) as m:
            assert m.readonly is True and m.tobytes() == DATA
        _assert_behaves_as_before(obj, DATA)


# ---- the skip rule of tests/conftest.py, on every backend ----------------

def test_skip_rule_finds_every_exclusive_request_kind():
    """The parametrizations of the §3.1 table: the exclusive kinds are
    found by their name and by their flags; the others never are, so their
    rows run on an interpreter that implements only IMMUTABLE."""
    for kind, flags in RAW_REQUESTS:
        wanted = kind.startswith("exclusive")
        assert asks_for_exclusive("kind", kind) is wanted, kind
        assert asks_for_exclusive("flags", flags) is wanted, hexflags(flags)
    for state in TABLE_3_1:
        assert asks_for_exclusive("state", state) is (state == "EXCLUSIVE")


def test_skip_rule_on_other_arguments():
    assert asks_for_exclusive("kwargs", {"exclusive": True, "writable": True})
    assert not asks_for_exclusive("kwargs", {"immutable": True})
    assert not asks_for_exclusive("kwargs", {"exclusive": False})
    assert asks_for_exclusive("how", "view-exclusive-writable")
    # invalid requests are refused for what they are, on every interpreter
    for flags in NEGATIVE:
        assert not asks_for_exclusive("flags", flags)
    # only a flags argument's 0x800 bit counts, not any number's
    assert not asks_for_exclusive("size", 0x800)
    assert not asks_for_exclusive("flags", True)
    assert asks_for_exclusive("flags", EXCLUSIVE | FULL_RO | WRITABLE)
