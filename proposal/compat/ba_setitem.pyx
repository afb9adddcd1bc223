# cython: language_level=3, freethreading_compatible=True
"""What Cython emits for ordinary bytearray code, and whether the flags see it.

Each function is one line of everyday Cython; proposal/compatibility.md shows
the C they compile to and what happens on the patched interpreter while
another holder keeps an immutable or exclusive export of the same bytearray.
"""


def set_typed(bytearray ba, Py_ssize_t i, int v):
    """ba[i] = v with ba typed as bytearray and a C index."""
    ba[i] = v


def set_untyped(ba, Py_ssize_t i, int v):
    """The same line with ba an untyped object."""
    ba[i] = v


def set_annotated(ba: bytearray, Py_ssize_t i, int v):
    """The same line with ba annotated as bytearray (Cython types it)."""
    ba[i] = v


def set_newline(out: bytearray, Py_ssize_t pos):
    """A one-byte literal stored at a C index, as output-buffer code does."""
    out[pos] = b"\n"


def get_typed(bytearray ba, Py_ssize_t i):
    """ba[i] read with ba typed as bytearray and a C index."""
    return ba[i]


def get_untyped(ba, Py_ssize_t i):
    """The same read with ba untyped."""
    return ba[i]


def read_char_ptr(bytearray ba, Py_ssize_t i):
    """A read through Cython's implicit bytearray -> char* coercion."""
    cdef char *p = ba
    return <unsigned char>p[i]


def write_char_ptr(bytearray ba, Py_ssize_t i, char v):
    """A write through the same coercion."""
    cdef char *p = ba
    p[i] = v


def write_char_ptr_untyped(ba, Py_ssize_t i, char v):
    """The coercion applied to an untyped object (any bytearray subclass passes)."""
    cdef char *p = ba
    p[i] = v


def to_bytes(bytearray ba):
    """bytes(ba) on a typed bytearray."""
    return bytes(ba)
