# cython: language_level=3
"""The checksum example in Cython: bufferflags.h through the bufferflags.pxd
that ships next to it (cythonize's include_path=[bufferflags.get_include()])."""
from cpython.buffer cimport PyBuffer_Release
from libc.stdint cimport uint64_t

from bufferflags cimport (
    PyBUF_IMMUTABLE,
    BufferFlags_GetBuffer,
    BufferFlags_Import,
    BufferFlags_SupportedFlags,
)

BufferFlags_Import()


def supported_flags(obj):
    """BufferFlags_SupportedFlags(obj): what obj's type can promise."""
    return BufferFlags_SupportedFlags(obj)


def checksum(obj):
    """64-bit FNV-1a of obj's bytes, which nothing can change while they
    are read (with the GIL released)."""
    cdef Py_buffer view
    cdef uint64_t h = 0xcbf29ce484222325ULL
    cdef const unsigned char *p
    cdef Py_ssize_t i
    BufferFlags_GetBuffer(obj, &view, PyBUF_IMMUTABLE)
    try:
        p = <const unsigned char *>view.buf
        with nogil:
            for i in range(view.len):
                h = (h ^ p[i]) * 0x100000001b3ULL
    finally:
        PyBuffer_Release(&view)
    return h
