"""Which types honour which guarantees.

On a stock interpreter the answer is this module's registry; on a native one
it is the interpreter's ``__buffer_flags__`` declarations.
"""
from __future__ import annotations

import inspect
import operator
import sys
from typing import TYPE_CHECKING

from bufferflags._backend import IMPLEMENTED, NATIVE, native
from bufferflags._flags import GUARANTEES, IMMUTABLE, BufferFlags

__all__ = ["supported_flags", "register", "unregister", "LockingBytearray"]

_NONE = BufferFlags(0)
_GUARANTEE_BITS = int(GUARANTEES)
_IMPLEMENTED_BITS = int(IMPLEMENTED)
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
        """A bytearray: on this interpreter every bytearray is locked, and
        supports what bytearray does (only IMMUTABLE where the interpreter
        implements only IMMUTABLE: see IMPLEMENTED)."""

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
_HEAPTYPE = 1 << 9


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


def _own_declaration(klass: type) -> BufferFlags | None:
    """klass's own declaration: the registry's, or for an immutable type
    the __buffer_flags__ its implementation wrote into its dict (nothing
    else can write there: stock refuses assignment to immutable types)."""
    flags = _declared.get(klass)
    if flags is not None:
        return flags
    if klass.__flags__ & _IMMUTABLETYPE:
        value = klass.__dict__.get("__buffer_flags__")
        if type(value) is int and not value & ~_GUARANTEE_BITS:
            return BufferFlags(value)
    return None


def _c_base(tp: type) -> type:
    """The first class of tp's MRO made by C code: what tp exports through
    unless it defines __buffer__ itself."""
    return next(k for k in tp.__mro__ if native.created_in_c(k))


def _cap(tp: type) -> int:
    """What tp's C-level base lets a declaration promise (§5): a class that
    exports through that base's buffer procs cannot promise more than the
    base does; one with its own __buffer__ answers for itself, but never
    for EXCLUSIVE (its memoryview never re-exports it)."""
    base = _c_base(tp)
    if base is tp:
        return _GUARANTEE_BITS
    if not native.same_buffer_procs(tp, base):
        return int(IMMUTABLE)
    return int(_own_declaration(base) or 0)


def _type_flags(tp: type) -> BufferFlags:
    # A class body's __buffer_flags__ that register() has not confirmed can
    # only narrow what is inherited: on a stock interpreter it may have been
    # assigned after the class was created, so it never grants.
    narrowed = _GUARANTEE_BITS
    for klass in tp.__mro__:
        flags = _own_declaration(klass)
        if flags is not None:
            if klass is not tp and not _exports_like(tp, klass):
                return _NONE
            return BufferFlags(flags & _cap(tp) & narrowed)
        if native.created_in_c(klass):
            # A type made in C inherits nothing it did not declare (§5).
            return _NONE
        body = klass.__dict__.get("__buffer_flags__")
        if type(body) is int:
            narrowed &= body
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
        # Masked so that no answer names a flag the interpreter would refuse
        # as an unknown bit.
        return BufferFlags(_native_supported(obj_or_type) & _IMPLEMENTED_BITS)
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


_PYTHON_BUFFER_CAP = (
    "its __buffer__ is defined in Python and returns a memoryview, which "
    "never re-exports PyBUF_EXCLUSIVE"
)


def _cap_of(tp: type) -> tuple[int, str]:
    """(what tp may promise, why no more), on either backend: natively the
    interpreter applies the same rule (§5)."""
    hook = _lookup(tp, "__buffer__")
    if _PYTHON_HOOKS and hook is not None and type(hook).__name__ != "wrapper_descriptor":
        return int(IMMUTABLE), _PYTHON_BUFFER_CAP
    if NATIVE:
        base = next(
            k for k in tp.__mro__
            if not k.__flags__ & _HEAPTYPE or k.__flags__ & _IMMUTABLETYPE
        )
        cap = (_GUARANTEE_BITS
               if _native_supported(tp) == tp.__dict__.get("__buffer_flags__")
               else _native_supported(base))
    else:
        base, cap = _c_base(tp), _cap(tp)
    return cap, (f"it exports through {base.__name__!r}, which supports "
                 f"{_flag_names(cap) if cap else 'none'}")


def register(tp: type, flags: int) -> None:
    """Confirm that tp honours flags, as its class body declares.

    A type's supported flags are fixed when it is created: its class body
    says ``__buffer_flags__ = IMMUTABLE`` (or EXCLUSIVE, or both), and
    register(tp, the same flags) makes the declaration count on a stock
    interpreter, where the shim cannot read class bodies as they are
    created.  Natively the interpreter already honours the class body and
    register() only checks it.  TypeError, changing nothing, if the class
    body declares something else or nothing, for a flag this interpreter
    does not implement (see IMPLEMENTED), if tp exports through a base
    that cannot keep the flags (an mmap.mmap or bytes subclass), or for a
    built-in or other immutable type (bytearray, array.array, mmap, ...),
    whose declaration only its implementation can make.  Subclasses
    defined in Python inherit it only if they export exactly as tp does.
    """
    flags = _check_declaration(tp, flags)
    names = _flag_names(flags)
    own = tp.__dict__.get("__buffer_flags__")
    if own is None:
        raise TypeError(
            f"cannot register {tp.__name__!r} for {names}: its class body "
            f"does not declare it (__buffer_flags__ = {names}); a type's "
            "supported flags are fixed when it is created"
        )
    if own != flags:
        raise TypeError(
            f"cannot register {tp.__name__!r} for {names}: its class body "
            f"declares {_flag_names(own) if type(own) is int else repr(own)}"
        )
    if flags & ~_IMPLEMENTED_BITS:
        # No class can keep a promise the interpreter cannot make.
        raise TypeError(
            f"cannot register {tp.__name__!r} for {names}: this interpreter "
            f"does not implement {_flag_names(flags & ~_IMPLEMENTED_BITS)}"
        )
    cap, why = _cap_of(tp)
    if flags & ~cap:
        raise TypeError(f"cannot register {tp.__name__!r} for {names}: {why}")
    if not NATIVE:
        _declared[tp] = flags
        _declared_bits[tp] = int(flags)


def unregister(tp: type) -> None:
    """Refused: a type's supported flags are fixed when it is created.

    Kept so that code written for bufferflags 0.x gets a clear TypeError
    instead of an AttributeError; nothing changes.
    """
    if not isinstance(tp, type):
        raise TypeError(f"unregister() needs a type, not {type(tp).__name__!r}")
    raise TypeError(
        f"cannot unregister {tp.__name__!r}: a type's supported flags are "
        "fixed when it is created"
    )
