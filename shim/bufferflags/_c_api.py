"""What C extensions build against: bufferflags.h, its capsule, and the
class of conflict refusals.

``get_include()`` is the directory of ``bufferflags.h`` (and of
``bufferflags.pxd`` for Cython).  On stock CPython the header binds to the
capsule ``bufferflags._C_API`` made here by the extension; where the flags
are native it binds to the interpreter and there is no capsule.
``BufferConflictError`` is raised for every refusal caused by what is held:
the builtin where the interpreter has one, so that
``except bufferflags.BufferConflictError`` catches the interpreter's own
refusals too.
"""
from __future__ import annotations

import builtins
from pathlib import Path
from typing import TYPE_CHECKING

from bufferflags._backend import NATIVE
from bufferflags._registry import supported_flags

__all__ = ["BufferConflictError", "get_include"]

_INCLUDE = str(Path(__file__).resolve().parent / "include")


def get_include() -> str:
    """The directory that holds bufferflags.h and bufferflags.pxd.

    Add it to an Extension's include_dirs (and, for Cython, to cythonize()'s
    include_path)."""
    return _INCLUDE


_C_API: object
if TYPE_CHECKING:
    # One class to type checkers on every backend (at run time the builtin
    # or the class the extension makes, below).

    class BufferConflictError(BufferError):
        """A buffer request or operation refused because of what is held:
        an export, or an operation in progress.  Retrying after the holder
        releases may succeed; a BufferError that is not a
        BufferConflictError will not (unsupported or invalid request)."""

elif NATIVE:
    _C_API = None

    if hasattr(builtins, "BufferConflictError"):
        BufferConflictError = builtins.BufferConflictError
    else:

        class BufferConflictError(BufferError):
            """A buffer request or operation refused because of what is held.

            An interpreter without the builtin raises plain BufferError for
            conflicts, so nothing raises this class there yet.
            """

            __module__ = "bufferflags"

else:
    from bufferflags._native import lib

    def _init_c_api() -> dict:
        namespace: dict = {}
        if lib.bufferflags_init_c_api(id(namespace), id(supported_flags)) != 0:
            raise namespace.get("error") or ImportError(
                "bufferflags._native failed to make its C API"
            )
        return namespace

    _namespace = _init_c_api()
    BufferConflictError = _namespace["BufferConflictError"]
    #: The capsule that bufferflags.h imports (BufferFlags_Import()).
    _C_API = _namespace["_C_API"]
    del _namespace
