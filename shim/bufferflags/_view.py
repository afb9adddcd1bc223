"""Acquiring buffers with guarantees: view() for users, acquire() for raw flags."""
from __future__ import annotations

import inspect
import operator
import sys
from typing import TYPE_CHECKING, Literal, NoReturn

if TYPE_CHECKING:
    if sys.version_info >= (3, 12):
        from collections.abc import Buffer
    else:
        from typing_extensions import Buffer

from bufferflags._backend import IMPLEMENTED, NATIVE, native
from bufferflags._flags import EXCLUSIVE, GUARANTEES, IMMUTABLE, BufferFlags
from bufferflags._registry import LockingBytearray, _declared_bits, supported_flags

__all__ = ["view", "acquire"]

_WRITABLE = int(BufferFlags.WRITABLE)
_IMMUTABLE = int(IMMUTABLE)
_EXCLUSIVE = int(EXCLUSIVE)
_GUARANTEES = int(GUARANTEES)
_IMPLEMENTED = int(IMPLEMENTED)
# The new flags this interpreter does not implement at all (EXCLUSIVE on one
# built from the IMMUTABLE part of the series alone; 0 elsewhere).
_UNIMPLEMENTED = _GUARANTEES & ~_IMPLEMENTED
_FULL_RO = int(BufferFlags.FULL_RO)
_KNOWN = 0x0FFD
_HINT = (
    "; use bufferflags.LockingBytearray for a bytearray that honours it, "
    "or view(..., fallback='copy') to read a private copy"
)
# A memoryview forwards IMMUTABLE only if its own export was granted it: what
# it views may well be immutable (memoryview(b"xy")), but memoryview() asked
# for a plain buffer, and a plain export of bytes promises nothing.
_MEMORYVIEW_HINT = (
    " (this memoryview's export was not granted PyBUF_IMMUTABLE: "
    "memoryview(obj) asks for a plain buffer, even of bytes); "
    "take the view from the object itself with "
    "bufferflags.view(obj, immutable=True), "
    "or pass fallback='copy' to read a private copy"
)


def _flag_names(flags: int) -> str:
    return "|".join(
        f"PyBUF_{flag.name}" for flag in (IMMUTABLE, EXCLUSIVE) if flags & flag
    )


def _well_formed(flags: int) -> bool:
    """No unknown bits, not READ/WRITE alone, not IMMUTABLE with WRITABLE;
    otherwise the acquisition itself refuses."""
    return not (
        flags & ~_KNOWN
        or flags in (0x100, 0x200)
        or (flags & _IMMUTABLE and flags & _WRITABLE)
    )


def _not_implemented(obj: object, wanted: int) -> BufferError:
    """The refusal for a guarantee this interpreter does not implement: no
    type has it here, so the message names the interpreter, not the type's
    declaration, and offers no alternative type."""
    return BufferError(
        f"{type(obj).__name__} does not support "
        f"{_flag_names(wanted & _UNIMPLEMENTED)}: this interpreter does not "
        f"implement {_flag_names(wanted & _UNIMPLEMENTED)} "
        f"(implemented: {_flag_names(_IMPLEMENTED) or 'none'})"
    )


def _unsupported(obj: object, wanted: int) -> BufferError | None:
    """The refusal for a guarantee obj's type does not declare, or None if
    obj honours wanted."""
    if wanted & _UNIMPLEMENTED:
        return _not_implemented(obj, wanted)
    supported = supported_flags(obj)
    missing = wanted & ~int(supported)
    if not missing:
        return None
    if type(obj) is memoryview and not missing & EXCLUSIVE:
        return BufferError(
            "memoryview: cannot export PyBUF_IMMUTABLE: "
            "the underlying export is not immutable"
        )
    return BufferError(
        f"{type(obj).__name__} does not support {_flag_names(missing)} "
        f"(supported: {_flag_names(supported) or 'none'})"
    )


def _require_buffer(obj: object) -> None:
    if not _is_buffer(obj):
        raise TypeError(
            f"a bytes-like object is required, not '{type(obj).__name__}'"
        )


if NATIVE:

    def _is_buffer(obj: object) -> bool:
        return hasattr(type(obj), "__buffer__")

    # The interpreter's checked entry point, memoryview(obj, flags=...),
    # requests PyBUF_FULL_RO | flags; memoryview._from_flags() (older
    # patched builds, and acquire()'s raw flags) exactly flags.  Both are
    # PyObject_GetBuffer() itself, fail-closed checks included;
    # obj.__buffer__ would skip them for Python classes.
    _FLAGS_KEYWORD = "flags=" in (memoryview.__text_signature__ or "")

    def _acquire(obj: object, flags: int, readonly: bool) -> memoryview:
        if _FLAGS_KEYWORD and flags & _FULL_RO == _FULL_RO:
            mv = memoryview(obj, flags=flags)
        else:
            mv = memoryview._from_flags(obj, flags)
        if readonly and not mv.readonly:
            readonly_mv = mv.toreadonly()
            mv.release()
            return readonly_mv
        return mv

else:
    _is_buffer = native.is_buffer
    _acquire = native.acquire


def acquire(obj: Buffer, flags: int) -> memoryview:
    """Request a buffer with raw PyBUF_* flags, as PyObject_GetBuffer() would.

    flags is any combination of BufferFlags (IMMUTABLE and EXCLUSIVE
    included).  The result's ``readonly`` is what the exporter granted; the
    memoryview holds the export until it is released.  A request for a
    guarantee obj's type does not declare (see supported_flags()) fails
    closed with BufferError instead of reaching an exporter that would
    ignore the bit; unknown bits and IMMUTABLE with WRITABLE are a
    BufferError too; a conflict with what is held is a BufferConflictError.
    No hint and no fallback: view() is the friendlier call.
    """
    flags = operator.index(flags)
    if flags & _GUARANTEES and _well_formed(flags):
        _require_buffer(obj)
        if _unsupported(obj, flags & _GUARANTEES) is not None:
            _raise_without_cycle(_unsupported(obj, flags & _GUARANTEES))
    return _acquire(obj, flags, False)


def view(
    obj: Buffer,
    *,
    immutable: bool = False,
    exclusive: bool = False,
    writable: bool = False,
    fallback: Literal["copy"] | None = None,
) -> memoryview:
    """A memoryview of obj that carries the requested guarantees.

    immutable: nothing can change the memory while the view is held.
    exclusive: nothing else can read or write it while the view is held.
    writable: the view may write (not with immutable).
    fallback="copy": if obj's type cannot give the guarantee, view a private
    copy instead (a conflict with views already held still raises).

    The view is read-only unless writable=True; release it with .release()
    or a with block (garbage collection releases it too).  On a stock
    interpreter the view's .obj is the shim's record of the acquisition,
    not obj: keep obj yourself if you need it.

    Refusals: BufferConflictError (a BufferError) while someone holds obj
    in a way the request conflicts with: retry after they release.  Plain
    BufferError, with a hint, when obj's type cannot promise the guarantee
    at all (supported_flags(obj) lacks it): use another type (bytes,
    LockingBytearray) or fallback="copy".  TypeError for a non-buffer,
    ValueError for contradictory arguments.
    """
    if immutable and writable:
        raise ValueError("view(): immutable=True and writable=True contradict")
    if fallback not in (None, "copy"):
        raise ValueError(f"view(): fallback must be None or 'copy', not {fallback!r}")
    if fallback == "copy" and writable:
        raise ValueError("view(): fallback='copy' cannot give a writable view")
    # Plain ints: IntFlag arithmetic costs microseconds on this hot path.
    flags = _FULL_RO
    if writable:
        flags |= _WRITABLE
    if immutable:
        flags |= _IMMUTABLE
    if exclusive:
        flags |= _EXCLUSIVE
    wanted = flags & _GUARANTEES
    if NATIVE:
        if wanted & _UNIMPLEMENTED:
            # Refused here, not left to the interpreter's unknown-bits check,
            # so that the message says why, and before fallback="copy": no
            # copy can carry a guarantee this interpreter does not implement.
            _require_buffer(obj)
            _raise_without_cycle(_not_implemented(obj, wanted))
        # The interpreter fails closed by itself; ask why only when it refused.
        try:
            return _acquire(obj, flags, not writable)
        except BufferError:
            if not wanted or _unsupported(obj, wanted) is None:
                raise  # a conflict with what is held, not a missing declaration
        return _unsupported_view(obj, flags, wanted, fallback)
    if wanted and _declared_bits.get(type(obj), 0) & wanted != wanted:
        if _unsupported(obj, wanted) is not None:
            return _unsupported_view(obj, flags, wanted, fallback)
    return _acquire(obj, flags, not writable)


def _unsupported_view(
    obj: object, flags: int, wanted: int, fallback: str | None
) -> memoryview:
    _require_buffer(obj)
    if fallback == "copy":
        return _view_of_copy(obj, flags)
    _raise_without_cycle(_with_hint(_unsupported(obj, wanted), obj))


def _with_hint(refusal: BufferError, obj: object) -> BufferError:
    hint = _MEMORYVIEW_HINT if type(obj) is memoryview else _HINT
    refusal.args = (refusal.args[0] + hint,)
    return refusal


def _raise_without_cycle(exc: BaseException) -> NoReturn:
    # A local naming the exception would put the raising frame, and with it
    # the refused object, in a cycle with the traceback: keep none.
    try:
        raise exc
    finally:
        del exc


def _text_signature(func) -> str:
    """func's signature and docstring in the form CPython reads a C
    function's from (its __text_signature__ takes no annotations)."""
    sig = inspect.signature(func)
    plain = sig.replace(
        parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
        return_annotation=sig.empty,
    )
    return f"{func.__name__}{plain}\n--\n\n{inspect.getdoc(func)}"


if not NATIVE and not TYPE_CHECKING:
    # The exact-type fast path runs in C; this function stays the reference
    # implementation and handles every other case, and lends the C function
    # its signature and docstring.
    native.configure_view(_declared_bits, view, _text_signature(view))
    view = native.view  # noqa: F811


def _view_of_copy(obj: object, flags: int) -> memoryview:
    """A view of a private copy of obj's buffer, exactly: the same bytes (in
    C order), format, itemsize and shape.  Not bytes(obj), which for an int
    or an object with __bytes__ is not the buffer, and which flattens the
    layout.  A format that memoryview.cast() cannot express is refused
    rather than flattened."""
    with memoryview(obj) as source:
        contents = source.tobytes()
        layout = (source.format, source.shape)
    private = LockingBytearray(contents) if flags & _EXCLUSIVE else contents
    flat = _acquire(private, flags, True)
    if layout == ("B", (len(contents),)):
        return flat
    try:
        return flat.cast(*layout)
    except (TypeError, ValueError):
        _raise_without_cycle(BufferError(
            f"view(): fallback='copy' cannot keep the layout of "
            f"{type(obj).__name__} (format {layout[0]!r}, shape {layout[1]})"
        ))
    finally:
        flat.release()
