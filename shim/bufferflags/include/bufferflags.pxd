# cython: language_level=3
"""bufferflags.h for Cython: ``from bufferflags cimport ...``.

Found by cythonize(..., include_path=[bufferflags.get_include()]); the C
compiler needs the same directory in include_dirs for bufferflags.h.  Call
BufferFlags_Import() once at module level before the other functions, and
release every buffer BufferFlags_GetBuffer() fills with PyBuffer_Release()
(``from cpython.buffer cimport PyBuffer_Release``).
"""

cdef extern from "bufferflags.h":
    enum:
        PyBUF_IMMUTABLE     # 0x400: nothing can change the memory while held
        PyBUF_EXCLUSIVE     # 0x800: nothing else can read or write it either
        BUFFERFLAGS_API_VERSION

    # 0, or -1 with ImportError/RuntimeError set (raised here).
    int BufferFlags_Import() except -1

    # The subset of PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE obj (or a type)
    # honours, as bufferflags.supported_flags(obj).
    int BufferFlags_SupportedFlags(object obj) except -1

    # PyObject_GetBuffer() that refuses a flag obj's type cannot promise
    # (BufferError) and conflicts with what is held (BufferConflictError).
    int BufferFlags_GetBuffer(object obj, Py_buffer *view, int flags) except -1
