"""Which mechanism implements the flags on this interpreter, and which flags.

On an interpreter built from the cpython-patch series the flags are native
(``inspect.BufferFlags.IMMUTABLE`` exists) and everything delegates to it;
elsewhere the cffi-built extension emulates them.  An interpreter built from
the series up to its IMMUTABLE part implements PyBUF_IMMUTABLE only, and
refuses a request with 0x800 as an unknown bit: ``IMPLEMENTED`` says which.
"""
from __future__ import annotations

import importlib
import inspect
from types import SimpleNamespace

from bufferflags._flags import GUARANTEES, BufferFlags

__all__ = ["IMPLEMENTED", "NATIVE", "native"]

NATIVE: bool = hasattr(getattr(inspect, "BufferFlags", None), "IMMUTABLE")


def _implemented() -> BufferFlags:
    """The new flags this implementation provides at all, whatever a type
    declares: the shim emulates both; natively, the members the
    interpreter's inspect.BufferFlags has, because a flag it lacks is an
    unknown bit to PyObject_GetBuffer() there, refused for every type."""
    if not NATIVE:
        return GUARANTEES
    interpreter_flags = getattr(inspect, "BufferFlags")  # not on 3.11
    flags = BufferFlags(0)
    for flag in GUARANTEES:
        if getattr(interpreter_flags, str(flag.name), None) == flag:
            flags |= flag
    return flags


#: The guarantees (IMMUTABLE, EXCLUSIVE) this implementation provides:
#: both on the shim and the whole patch series, IMMUTABLE alone on an
#: interpreter built from the series up to its IMMUTABLE part.  A request
#: for a flag outside it fails closed with BufferError for every object.
IMPLEMENTED: BufferFlags = _implemented()


def _in_main_interpreter() -> bool:
    for name in ("_interpreters", "_xxsubinterpreters"):  # 3.13, 3.11/3.12
        try:
            interpreters = importlib.import_module(name)
        except ImportError:
            continue
        current, main = interpreters.get_current(), interpreters.get_main()
        if isinstance(current, tuple):  # 3.13: (id, whence)
            current, main = current[0], main[0]
        return current == main
    return True


def _load_extension() -> SimpleNamespace:
    # The extension is a single-phase module (cffi builds no other): its
    # types, registry and view() wiring exist once per process, made in the
    # main interpreter, whose objects another interpreter must not use or
    # replace.  CPython refuses the import in an isolated subinterpreter;
    # refuse it in a legacy one too, before the extension is touched (its
    # init runs under PyGILState_Ensure(), which would put it in the main
    # interpreter's thread state).
    if not _in_main_interpreter():
        raise ImportError(
            "bufferflags: the shim cannot be imported in a subinterpreter: "
            "its C extension keeps one set of types and one registry per "
            "process, owned by the main interpreter"
        )
    from bufferflags._native import lib

    namespace: dict = {}
    if lib.bufferflags_init(id(namespace)) != 0:
        raise namespace.get("error") or ImportError(
            "bufferflags._native failed to initialise"
        )
    return SimpleNamespace(**namespace)


#: The extension's functions and types (None on a native interpreter).
native = None if NATIVE else _load_extension()
