"""PyBUF_IMMUTABLE and PyBUF_EXCLUSIVE for today's CPython.

``view(obj, immutable=True)`` gives a memoryview whose memory nothing can
change while it is held; ``LockingBytearray`` is a bytearray that keeps that
promise against every consumer.  On an interpreter that implements the flags
natively (``NATIVE``) both delegate to it; ``IMPLEMENTED`` says which of
the two flags the running implementation provides (an interpreter with only
the IMMUTABLE part of the series refuses every EXCLUSIVE request).  C
extensions include ``bufferflags.h`` from ``get_include()``.

``BufferConflictError`` (a ``BufferError``) means someone holds the object:
retry after they release.  A plain ``BufferError`` means the type cannot
promise the flag at all: use another type or ``view(..., fallback="copy")``.
``supported_flags(obj)`` tells in advance; ``register(tp, flags)`` declares
a Python exporter's guarantees; ``acquire(obj, flags)`` takes raw PyBUF_*
flags as C code would.  ``python -m bufferflags`` prints the backend and
what the builtin types support.
"""
from bufferflags._backend import IMPLEMENTED, NATIVE
from bufferflags._c_api import _C_API, BufferConflictError, get_include
from bufferflags._flags import EXCLUSIVE, IMMUTABLE, BufferFlags
from bufferflags._registry import (
    LockingBytearray,
    register,
    supported_flags,
    unregister,
)
from bufferflags._version import __version__
from bufferflags._view import acquire, view

__all__ = [
    "BufferConflictError",
    "BufferFlags",
    "EXCLUSIVE",
    "IMMUTABLE",
    "IMPLEMENTED",
    "LockingBytearray",
    "NATIVE",
    "__version__",
    "acquire",
    "get_include",
    "register",
    "supported_flags",
    "unregister",
    "view",
]
