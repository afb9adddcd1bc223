"""Which types honour which guarantees.

On a stock interpreter the answer is this module's registry; on a native one
it is the interpreter's ``__buffer_flags__`` declarations.
"""
from __future__ import annotations

import inspect
import operator
import sys
from typing import TYPE_CHECKING

from bufferflags._backend import NATIVE, native
from bufferflags._flags import GUARANTEES, IMMUTABLE, BufferFlags

__all__ = ["supported_flags", "register", "unregister", "LockingBytearray"]

_NONE = BufferFlags(0)
_GUARANTEE_BITS = int(GUARANTEES)
# PEP 688: from 3.12 a class can export through Python-level hooks.
_PYTHON_HOOKS = sys.version_info >= (3, 12)

if TYPE_CHECKING:

    class LockingBytearray(bytearray):
        """A bytearray that keeps the promises of IMMUTABLE and EXCLUSIVE.

        While an immutable export is held, every write and writable export
        is refused with BufferConflictError; while an exclusive export is
        held, every other export and the object's own reads are refused
        too (repr() and str() then say "exclusively held" instead).  With
        nothing held it behaves exactly as a bytearray."""

elif NATIVE:

    class LockingBytearray(bytearray):
        """A bytearray: on this interpreter every bytearray is locked."""

        __slots__ = ()

if NATIVE:
    _declared: dict[type, BufferFlags] = {}
    _declared_bits: dict[type, int] = {}
    # Declared by bytearray, which it exports as: a declaration of its own
    # would replace bytearray's for every LockingBytearray, as on the shim.
    _BUILTIN: frozenset[type] = frozenset({LockingBytearray})
else:
    if not TYPE_CHECKING:
        LockingBytearray = native.LockingBytearray
    # Exact types and what they honour; subclasses follow the inheritance
    # rule in _type_flags().  memoryview's entry is per instance (forwarding).
    _declared = {
        bytes: IMMUTABLE,
        memoryview: IMMUTABLE,
        LockingBytearray: GUARANTEES,
    }
    # The same as plain ints, for view()'s exact-type fast path; memoryview
    # is left out because it forwards per instance.
    _declared_bits = {
        tp: int(flags) for tp, flags in _declared.items() if tp is not memoryview
    }
    # Declarations of this implementation, not of the registry's users: they
    # can be neither replaced nor withdrawn (natively they live in the dicts
    # of immutable types, which refuse both with TypeError).
    _BUILTIN = frozenset(_declared)

# Py_TPFLAGS_IMMUTABLETYPE: static builtin types and immutable heap types.
_IMMUTABLETYPE = 1 << 8


def _lookup(tp: type, name: str) -> object:
    for klass in tp.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _exports_like(tp: type, declarer: type) -> bool:
    """Whether tp acquires and releases buffers exactly as declarer does."""
    return native.same_buffer_procs(tp, declarer) and (
        not _PYTHON_HOOKS
        or all(
            _lookup(tp, hook) is _lookup(declarer, hook)
            for hook in ("__buffer__", "__release_buffer__")
        )
    )


def _type_flags(tp: type) -> BufferFlags:
    for klass in tp.__mro__:
        flags = _declared.get(klass)
        if flags is not None:
            return flags if klass is tp or _exports_like(tp, klass) else _NONE
    return _NONE


def _forwarded(mv: memoryview) -> BufferFlags:
    """A memoryview grants IMMUTABLE only if its export was granted it."""
    exporter = mv.obj  # a released view raises ValueError, as memoryview does
    if type(exporter) is native.Export:
        return BufferFlags(exporter.granted & IMMUTABLE)
    return _NONE


def supported_flags(obj_or_type: object) -> BufferFlags:
    """The guarantees (IMMUTABLE, EXCLUSIVE) a type, or an object, honours.

    0 means "no information": requesting either flag is refused, because an
    exporter that predates them would silently ignore the bits.  A
    memoryview honours IMMUTABLE only if its own export was granted it
    (view(obj, immutable=True), not memoryview(obj)).  Asking costs no
    acquisition; view() and acquire() check the same answer themselves.
    """
    if NATIVE:
        return BufferFlags(_native_supported(obj_or_type))
    if isinstance(obj_or_type, type):
        return _type_flags(obj_or_type)
    if type(obj_or_type) is memoryview:
        return _forwarded(obj_or_type)
    return _type_flags(type(obj_or_type))


def _native_supported(obj: object) -> int:
    get_buffer_flags = getattr(inspect, "get_buffer_flags", None)
    if get_buffer_flags is not None:
        return int(get_buffer_flags(obj))
    tp = obj if isinstance(obj, type) else type(obj)
    return int(getattr(tp, "__buffer_flags__", 0))


def _builtin_declaration_error(tp: type, action: str) -> TypeError:
    return TypeError(
        f"cannot {action} {tp.__name__!r}: its supported flags are built in"
    )


def _flag_names(flags: int) -> str:
    return "|".join(
        f"PyBUF_{flag.name}" for flag in BufferFlags(_GUARANTEE_BITS) if flags & flag
    ) or "no flags"


def _check_declaration(tp: object, flags: int) -> BufferFlags:
    if not isinstance(tp, type):
        raise TypeError(f"register() needs a type, not {type(tp).__name__!r}")
    flags = operator.index(flags)
    if tp in _BUILTIN:
        raise TypeError(
            f"cannot register {tp.__name__!r} for {_flag_names(flags)}: "
            "its supported flags are built in"
        )
    if tp.__flags__ & _IMMUTABLETYPE:
        # A built-in or other immutable type (bytearray, array.array, mmap,
        # int, io.BytesIO, ...) exports as its implementation does: only
        # that implementation can promise a guarantee for it.  Natively its
        # __buffer_flags__ cannot be set for the same reason.
        raise TypeError(
            f"cannot register {tp.__name__!r} for {_flag_names(flags)}: "
            "it is an immutable type, whose buffers only its implementation "
            "can vouch for"
        )
    if flags & ~_GUARANTEE_BITS:
        raise ValueError(
            f"register() takes only IMMUTABLE and EXCLUSIVE, not {flags:#x}"
        )
    return BufferFlags(flags)


def register(tp: type, flags: int) -> None:
    """Declare that instances of tp honour flags when asked for them.

    flags is IMMUTABLE, EXCLUSIVE or both.  The declaration is a promise by
    tp's author: acquisitions through view()/acquire() still verify that
    what was granted is read-only.  Subclasses inherit it only if they
    export exactly as tp does.  Built-in and other immutable types
    (bytearray, array.array, mmap, ...) cannot be registered (TypeError):
    only their implementation can vouch for their buffers.  Natively this
    sets tp.__buffer_flags__.
    """
    flags = _check_declaration(tp, flags)
    if NATIVE:
        tp.__buffer_flags__ = int(flags)
    else:
        _declared[tp] = flags
        _declared_bits[tp] = int(flags)


def unregister(tp: type) -> None:
    """Withdraw tp's own declaration.

    A type that declares nothing of its own raises KeyError; a built-in
    declaration (bytes, memoryview, ...) cannot be withdrawn: TypeError.
    Either way nothing changes.
    """
    if not isinstance(tp, type):
        raise TypeError(f"unregister() needs a type, not {type(tp).__name__!r}")
    if NATIVE:
        if tp in _BUILTIN:
            raise _builtin_declaration_error(tp, "unregister")
        if "__buffer_flags__" not in tp.__dict__:
            raise KeyError(tp)
        if tp.__flags__ & _IMMUTABLETYPE:
            raise _builtin_declaration_error(tp, "unregister")
        del tp.__buffer_flags__
    else:
        if tp in _BUILTIN:
            raise _builtin_declaration_error(tp, "unregister")
        if tp not in _declared:
            raise KeyError(tp)
        del _declared[tp]
        del _declared_bits[tp]
