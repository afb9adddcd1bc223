"""Which mechanism implements the flags on this interpreter.

On an interpreter built from the cpython-patch series the flags are native
(``inspect.BufferFlags.IMMUTABLE`` exists) and everything delegates to it;
elsewhere the cffi-built extension emulates them.
"""
from __future__ import annotations

import inspect
from types import SimpleNamespace

__all__ = ["NATIVE", "native"]

NATIVE: bool = hasattr(getattr(inspect, "BufferFlags", None), "IMMUTABLE")


def _load_extension() -> SimpleNamespace:
    from bufferflags._native import lib

    namespace: dict = {}
    if lib.bufferflags_init(id(namespace)) != 0:
        raise namespace.get("error") or ImportError(
            "bufferflags._native failed to initialise"
        )
    return SimpleNamespace(**namespace)


#: The extension's functions and types (None on a native interpreter).
native = None if NATIVE else _load_extension()
