"""bufferflags.h used from a C extension (issue 11), on every interpreter.

tests/capi/_bfcheck.c is built during the session from one unchanged
source: on stock CPython it binds to the shim's capsule, on the patched
interpreter to PyObject_GetBuffer().  Its answers must be the Python API's:
supported flags, the fail-closed refusals of §2 (which stock
PyObject_GetBuffer() does not make), grants and conflicts of §3.1, and the
guarantee itself: a reader hashing with the GIL released while writer
threads hammer the object never sees a byte change.
"""
import array
import ctypes
import gc
import mmap
import sys
import threading
import time

import pytest

import bufferflags as bf

from tests.conformance._support import REQUESTS, assert_nothing_held
from tests.conftest import EXCLUSIVE_IMPLEMENTED

WRITABLE = 0x1
FULL_RO = 0x11C
IMMUTABLE = 0x400
EXCLUSIVE = 0x800
DATA = b"hello world, abc ABC 123 xyz"
LOCKED = (bytearray, bf.LockingBytearray) if bf.NATIVE else (bf.LockingBytearray,)


class Registered:
    """A Python exporter that declares IMMUTABLE (3.12+: __buffer__)."""

    __buffer_flags__ = IMMUTABLE

    def __init__(self, data=DATA):
        self.data = bytes(data)

    def __buffer__(self, flags):
        # A memoryview forwards IMMUTABLE only if it was granted it (§5).
        return bf.view(self.data, immutable=True)


bf.register(Registered, IMMUTABLE)


class LockedSubclass(bf.LockingBytearray):
    pass


def _mmap():
    m = mmap.mmap(-1, len(DATA))
    m.write(DATA)
    return m


OBJECTS = {
    "bytes": lambda: DATA,
    "bytearray": lambda: bytearray(DATA),
    "array": lambda: array.array("B", DATA),
    "LockingBytearray": lambda: bf.LockingBytearray(DATA),
    "LockingBytearray-subclass": lambda: LockedSubclass(DATA),
    "memoryview-plain": lambda: memoryview(bytearray(DATA)),
    "memoryview-immutable": lambda: bf.view(DATA, immutable=True),
    "mmap": _mmap,
    "int": lambda: 42,
    "registered": Registered,
}


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_flag_values(ext):
    assert (ext.PyBUF_IMMUTABLE, ext.PyBUF_EXCLUSIVE) == (IMMUTABLE, EXCLUSIVE)


def test_header_compiles_without_warnings(built):
    """-Wall -Wextra on bufferflags.h and its user, full and limited API."""
    assert "warning" not in built.warnings, built.warnings


@pytest.mark.parametrize("make", OBJECTS.values(), ids=OBJECTS)
def test_supported_flags_match_python(ext, make):
    obj = make()
    assert ext.supported(obj) == int(bf.supported_flags(obj))
    assert ext.supported(type(obj)) == int(bf.supported_flags(type(obj)))


def test_supported_flags_defaults(ext):
    """§5 defaults, asked from C: a locked type supports both flags, or
    IMMUTABLE alone where the interpreter implements only IMMUTABLE."""
    locked = IMMUTABLE | EXCLUSIVE if EXCLUSIVE_IMPLEMENTED else IMMUTABLE
    assert ext.supported(DATA) == IMMUTABLE
    assert ext.supported(bf.LockingBytearray()) == locked
    assert ext.supported(bytearray()) == (locked if bf.NATIVE else 0)
    assert ext.supported(_mmap()) == 0
    assert ext.supported(object()) == 0


def test_supported_flags_error_propagates(ext):
    mv = memoryview(DATA)
    mv.release()
    with pytest.raises(ValueError):
        bf.supported_flags(mv)
    with pytest.raises(ValueError):
        ext.supported(mv)


def _python_refusal(obj, flags):
    with pytest.raises(BufferError) as info:
        bf.acquire(obj, flags)
    return type(info.value), str(info.value)


REFUSALS = {
    "bytes-exclusive": (lambda: DATA, EXCLUSIVE),
    "mmap-immutable": (_mmap, IMMUTABLE),
    "plain-memoryview-immutable": (lambda: memoryview(bytearray(DATA)),
                                   IMMUTABLE),
    "unknown-bit": (lambda: DATA, 0x1000),
    "old-PyBUF_LOCK": (lambda: bf.LockingBytearray(DATA), 0x2),
    "contradictory": (lambda: bf.LockingBytearray(DATA), IMMUTABLE | WRITABLE),
}
if not bf.NATIVE:       # natively array.array supports both (§5)
    REFUSALS["array-exclusive"] = (lambda: array.array("B", DATA),
                                             EXCLUSIVE)


@pytest.mark.parametrize("make,flags", REFUSALS.values(),
                         ids=REFUSALS)
def test_refusals_are_the_python_apis(ext, make, flags):
    """§2 rules 1-3: the same exception class and message as acquire(),
    and nothing is left held."""
    obj = make()
    expected = _python_refusal(obj, flags)
    gc.collect()        # the traceback cycle above holds obj until collected
    before = sys.getrefcount(obj)
    with pytest.raises(BufferError) as info:
        ext.request(obj, flags)
    refusal = (type(info.value), str(info.value))
    del info
    gc.collect()
    assert sys.getrefcount(obj) == before
    assert refusal == expected
    assert refusal[0] is BufferError            # not a conflict (§6)
    if isinstance(obj, bytearray):
        obj.append(1)                           # nothing left exported


def test_plain_bytearray_fails_closed(ext):
    """The issue's hazard: stock PyObject_GetBuffer(bytearray,
    PyBUF_IMMUTABLE) grants a *writable* buffer; BufferFlags_GetBuffer()
    refuses it on stock and, natively, gets the guarantee."""
    ba = bytearray(DATA)
    if bf.NATIVE:
        assert ext.raw_request(ba, IMMUTABLE) == (1, len(DATA))
        assert ext.request(ba, IMMUTABLE) == (1, len(DATA))
    else:
        assert ext.raw_request(ba, IMMUTABLE) == (0, len(DATA))
        with pytest.raises(BufferError) as info:
            ext.request(ba, IMMUTABLE)
        assert type(info.value) is BufferError
        assert str(info.value) == (
            "bytearray does not support PyBUF_IMMUTABLE (supported: none)")
    ba.append(1)


def test_non_buffer_is_a_typeerror(ext):
    with pytest.raises(TypeError):
        ext.request(42, IMMUTABLE)
    with pytest.raises(TypeError):
        ext.request(42, 0)


EXCLUSIVE_SPELLINGS = REQUESTS["exclusive_read"] + REQUESTS["exclusive_write"]


@pytest.mark.immutable_only
@pytest.mark.parametrize("request_", ["BufferFlags_GetBuffer",
                                      "PyObject_GetBuffer"])
@pytest.mark.parametrize("name", ["bytes", "bytearray", "array",
                                  "LockingBytearray"])
def test_exclusive_fails_closed_from_c(ext, name, request_):
    """Where the interpreter implements only PyBUF_IMMUTABLE, every
    exclusive request from C is refused as an unknown bit, a plain
    BufferError (nothing held is the reason), and leaves the object as it
    was: an immutable export granted, writes refused while it is held and
    allowed after."""
    obj = OBJECTS[name]()
    request = ext.request if request_ == "BufferFlags_GetBuffer" \
        else ext.raw_request
    for flags in EXCLUSIVE_SPELLINGS:
        with pytest.raises(BufferError) as info:
            request(obj, flags)
        assert type(info.value) is BufferError, hex(flags)
        assert str(info.value) == "unknown buffer request flags 0x800"
    del info
    assert bytes(obj) == DATA
    held = ext.Held(obj, IMMUTABLE)
    assert held.readonly is True
    assert held.hashes(1) == [fnv1a(DATA)]
    if name != "bytes":
        with pytest.raises(bf.BufferConflictError):
            obj[0] = 0
    held.release()
    if name != "bytes":
        obj[0] = ord("H")
        obj.append(ord("!"))
        assert bytes(obj) == b"H" + DATA[1:] + b"!"


GRANTS = {
    "bytes-immutable": (lambda: DATA, IMMUTABLE, 1),
    "bytes-immutable-full-ro": (lambda: DATA, IMMUTABLE | FULL_RO, 1),
    "bytes-plain": (lambda: DATA, 0, 1),
    "forwarded-view-immutable": (lambda: bf.view(DATA, immutable=True),
                                 IMMUTABLE, 1),
    "locked-immutable": (lambda: bf.LockingBytearray(DATA), IMMUTABLE, 1),
    "locked-exclusive-read": (lambda: bf.LockingBytearray(DATA), EXCLUSIVE, 1),
    "locked-exclusive-write": (lambda: bf.LockingBytearray(DATA),
                               EXCLUSIVE | WRITABLE, 0),
    "locked-plain": (lambda: bf.LockingBytearray(DATA), 0, 0),
}
if sys.version_info >= (3, 12):     # PEP 688: a Python class can export
    GRANTS["registered-immutable"] = (Registered, IMMUTABLE, 1)


@pytest.mark.parametrize("make,flags,readonly", GRANTS.values(), ids=GRANTS)
def test_grants(ext, make, flags, readonly):
    obj = make()
    assert ext.request(obj, flags) == (readonly, len(DATA))
    with bf.acquire(obj, flags) as mv:       # the Python API agrees
        assert mv.readonly == bool(readonly)


@pytest.mark.exclusive
@pytest.mark.parametrize("locked_type", LOCKED, ids=lambda t: t.__name__)
def test_conflicts_from_c(ext, locked_type):
    """§3.1 through the C API: refused while an exclusive export is held,
    with the §6 message; granted again after the release."""
    obj = locked_type(DATA)
    name = locked_type.__name__
    with bf.view(obj, exclusive=True):
        with pytest.raises(BufferError) as info:
            ext.request(obj, IMMUTABLE)
        assert str(info.value) == (
            f"{name}: cannot export PyBUF_IMMUTABLE while an exclusive "
            "export is held")
    held = ext.Held(obj, IMMUTABLE)
    assert held.readonly is True
    with pytest.raises(BufferError, match="while 1 immutable export is held"):
        bf.acquire(obj, WRITABLE)
    with pytest.raises(BufferError, match="while 1 immutable export is held"):
        obj[0] = 0
    held.release()
    with pytest.raises(ValueError):
        held.hashes(1)
    obj[0] = ord("H")
    obj.append(ord("!"))
    assert bytes(obj) == b"H" + DATA[1:] + b"!"


def _writers(obj):
    """Writes stock CPython allows on a bytearray with exports held (the
    in-place ones) and some it does not (resizes)."""
    def setitem():
        obj[0] ^= 0xFF

    def setslice():
        obj[1:3] = b"XY"

    def reverse():
        obj.reverse()

    def writable_export():
        bf.acquire(obj, WRITABLE).release()

    def append():
        obj.append(0x21)

    return [setitem, setslice, reverse, writable_export, append]


@pytest.mark.parametrize("locked_type", LOCKED, ids=lambda t: t.__name__)
def test_reader_keeps_its_bytes_while_writers_hammer(ext, locked_type):
    """The issue's scenario: a C reader holds an IMMUTABLE export and hashes
    the bytes many times with the GIL released while writer threads try to
    change them.  Every hash is the same, every write is refused, and
    writes succeed again after the release."""
    data = bytes(range(256)) * 256          # 64 KiB
    obj = locked_type(data)
    expected = fnv1a(data)
    held = ext.Held(obj, IMMUTABLE)
    stop = threading.Event()
    writers = _writers(obj)
    refused = [0] * len(writers)
    succeeded = [0] * len(writers)
    unexpected = []

    def hammer(i, write):
        while not stop.is_set():
            try:
                write()
            except BufferError as e:
                if "while 1 immutable export is held" not in str(e):
                    unexpected.append(e)
                refused[i] += 1
            except Exception as e:              # noqa: BLE001 - reported
                unexpected.append(e)
            else:
                succeeded[i] += 1

    threads = [threading.Thread(target=hammer, args=(i, w))
               for i, w in enumerate(writers)]
    hashes = set()
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            hashes.update(held.hashes(50))
            if min(refused) >= 20 or time.monotonic() > deadline:
                break
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not unexpected, unexpected
    assert succeeded == [0] * len(writers)
    assert min(refused) >= 20, refused
    assert hashes == {expected}
    assert bytes(obj) == data
    held.release()
    for write in writers:
        write()
    assert bytes(obj) != data
    assert_nothing_held(obj)


class _CAPI(ctypes.Structure):
    _fields_ = [("version", ctypes.c_int), ("size", ctypes.c_ssize_t),
                ("supported_flags", ctypes.c_void_p),
                ("get_buffer", ctypes.c_void_p)]


_CAPSULE_NAME = b"bufferflags._C_API"


def _capsule(struct, name=_CAPSULE_NAME):
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return new(ctypes.addressof(struct), name, None)


@pytest.mark.skipif(bf.NATIVE, reason="natively there is no capsule")
@pytest.mark.parametrize("version,size", [(0, ctypes.sizeof(_CAPI)), (1, 8)],
                         ids=["old-version", "short-struct"])
def test_import_refuses_an_older_capsule(ext, monkeypatch, version, size):
    """The capsule's version and size are checked: an extension built for a
    newer API fails to import instead of calling past the struct."""
    old = _CAPI(version, size, None, None)
    monkeypatch.setattr(bf, "_C_API", _capsule(old))
    with pytest.raises(ImportError, match=r"bufferflags\._C_API has version"):
        ext.reimport()
    monkeypatch.undo()
    ext.reimport()
    assert ext.request(DATA, IMMUTABLE) == (1, len(DATA))


@pytest.mark.skipif(bf.NATIVE, reason="natively there is no capsule")
def test_import_refuses_a_foreign_capsule(ext, monkeypatch):
    other = _CAPI(1, ctypes.sizeof(_CAPI), None, None)
    monkeypatch.setattr(bf, "_C_API", _capsule(other, b"other._C_API"))
    with pytest.raises(AttributeError):
        ext.reimport()
    monkeypatch.undo()
    ext.reimport()


def test_reimport_binds_again(ext):
    ext.reimport()
    assert ext.supported(DATA) == IMMUTABLE
