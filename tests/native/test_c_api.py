"""PyObject_GetBuffer() itself, called from C through ctypes (issue 3).

Only the patched interpreter fails closed for every exporter; the shim
cannot change how stock CPython treats bytes or memoryview.
"""
import array
import ctypes
import sys

import pytest

import bufferflags

pytestmark = pytest.mark.skipif(
    not bufferflags.NATIVE, reason="needs the patched interpreter"
)


class Py_buffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get = ctypes.pythonapi.PyObject_GetBuffer
_get.argtypes = [ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int]
_get.restype = ctypes.c_int
_release = ctypes.pythonapi.PyBuffer_Release
_release.argtypes = [ctypes.POINTER(Py_buffer)]
_release.restype = None

EXPORTERS = {
    "bytes": lambda: b"abcdef",
    "bytearray": lambda: bytearray(b"abcdef"),
    "array": lambda: array.array("B", b"abcdef"),
    "memoryview": lambda: memoryview(b"abcdef"),
}
REFUSED = {
    "unknown bit 0x1000": (0x1000, "unknown buffer request flags 0x1000"),
    "old PyBUF_LOCK 0x2": (0x2, "unknown buffer request flags 0x2"),
    "negative": (-1, "unknown buffer request flags"),
    "IMMUTABLE|WRITABLE": (0x401, "PyBUF_IMMUTABLE and PyBUF_WRITABLE cannot be combined"),
    "IMMUTABLE|EXCLUSIVE|WRITABLE": (
        0xC01, "PyBUF_IMMUTABLE and PyBUF_WRITABLE cannot be combined"),
}


@pytest.mark.parametrize("flags, message", REFUSED.values(), ids=REFUSED)
@pytest.mark.parametrize("make", EXPORTERS.values(), ids=EXPORTERS)
def test_bad_requests_raise_buffererror_and_leak_nothing(make, flags, message):
    obj = make()
    before = sys.getrefcount(obj)
    view = Py_buffer()
    with pytest.raises(BufferError, match=message.replace("|", r"\|")):
        _get(obj, ctypes.byref(view), flags)
    assert view.obj is None
    assert sys.getrefcount(obj) == before
    if isinstance(obj, bytearray):
        obj.append(1)  # no export left behind: resizing works
        assert obj == bytearray(b"abcdef\x01")


@pytest.mark.parametrize("flags", [0x100, 0x200], ids=["PyBUF_READ", "PyBUF_WRITE"])
@pytest.mark.parametrize("make", EXPORTERS.values(), ids=EXPORTERS)
def test_read_write_alone_stay_a_systemerror(make, flags):
    # Exactly PyBUF_READ or PyBUF_WRITE: SystemError, as stock 3.13
    # (gh-114685), not a BufferError; nothing is exported.
    obj = make()
    view = Py_buffer()
    with pytest.raises(SystemError):
        _get(obj, ctypes.byref(view), flags)
    assert view.obj is None


@pytest.mark.parametrize(
    "make, flags, readonly",
    [
        (EXPORTERS["bytes"], 0x400, 1),
        (EXPORTERS["bytearray"], 0x400, 1),
        (EXPORTERS["bytearray"], 0x801, 0),
        (EXPORTERS["array"], 0x400, 1),
    ],
    ids=["bytes-immutable", "bytearray-immutable", "bytearray-exclusive-write",
         "array-immutable"],
)
def test_granted_request_from_c_keeps_its_guarantee(make, flags, readonly):
    obj = make()
    view = Py_buffer()
    assert _get(obj, ctypes.byref(view), flags) == 0
    try:
        assert view.readonly == readonly
        if isinstance(obj, (bytearray, array.array)):
            with pytest.raises(BufferError, match="while"):
                obj[0] = 0x5A
            if flags & 0x400:  # readers may still read; nothing changed
                assert bytes(obj[:1]) == b"a"
    finally:
        _release(ctypes.byref(view))
    if isinstance(obj, (bytearray, array.array)):
        obj[0] = 0x5A
        assert obj[0] == 0x5A


@pytest.mark.exclusive
def test_unsupported_flag_refused_before_the_exporter_runs():
    view = Py_buffer()
    with pytest.raises(BufferError,
                       match=r"bytes does not support PyBUF_EXCLUSIVE"):
        _get(b"abc", ctypes.byref(view), 0x800)
    with pytest.raises(BufferError, match=r"mmap does not support PyBUF_IMMUTABLE"):
        import mmap
        _get(mmap.mmap(-1, 16), ctypes.byref(view), 0x400)
