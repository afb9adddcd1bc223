"""Shim-only behaviour (stock CPython 3.11-3.13, bufferflags.NATIVE False):
the registry, plain bytearray unsupported, 3.11 without PEP 688, and the
documented limits of semantics.md §7 (document-by-test: these assert the
limit as documented, so a change of behaviour shows up here)."""
import array
import hashlib
import inspect
import sys

import pytest

import bufferflags as bf

from ..conformance._support import (EXCLUSIVE, IMMUTABLE, RESIZE_SHARED_MESSAGE,
                                    WRITABLE, assert_fresh, conflict_message,
                                    mode_of)

pytestmark = pytest.mark.skipif(bf.NATIVE, reason="shim-only behaviour")

DATA = b"shim data 0123456789"
IMM = bf.BufferFlags.IMMUTABLE
EXC = bf.BufferFlags.EXCLUSIVE
NONE = bf.BufferFlags(0)


def test_not_native_on_stock():
    assert bf.NATIVE is False


# ---- the registry (§5: "in the shim the registry") ---------------------------
@pytest.mark.parametrize("not_a_type", [b"x", bytearray(b"x"), 5, None, "bytes",
                                        bf.LockingBytearray(b"x")], ids=repr)
def test_register_non_type_typeerror(not_a_type):
    with pytest.raises(TypeError):
        bf.register(not_a_type, IMM)
    with pytest.raises(TypeError):
        bf.unregister(not_a_type)


@pytest.mark.parametrize("flags", [WRITABLE, 0x2, 0x1000, 0x100, 0x11C, -1,
                                   IMMUTABLE | WRITABLE, IMMUTABLE | 0x1000],
                         ids=hex)
def test_register_unknown_bits_valueerror(flags):
    class T(bytes):
        pass
    with pytest.raises(ValueError):
        bf.register(T, flags)
    assert bf.supported_flags(T) == IMM          # nothing was registered


def test_register_confirms_the_class_body_and_fixes_it():
    """On the shim a class body's declaration counts once register()
    confirms it; until then it can only narrow what the class inherits
    (stock lets anyone assign the attribute later, so it never grants)."""
    class RegBytes(bytes):
        __buffer_flags__ = int(IMMUTABLE)

    class Child(RegBytes):
        pass

    class Narrow(bytes):
        __buffer_flags__ = 0

    class RegBytearray(bytearray):
        __buffer_flags__ = int(IMMUTABLE)

    assert bf.supported_flags(Narrow) == NONE         # narrows bytes' IMMUTABLE
    assert bf.supported_flags(RegBytes) == IMM        # bytes' and the body's
    bf.register(RegBytes, int(IMMUTABLE))             # a plain int works too
    assert bf.supported_flags(RegBytes(b"x")) == IMM
    assert bf.supported_flags(Child) == IMM           # inherited (§5)
    with bf.acquire(Child(b"ab"), IMMUTABLE) as m:
        assert m.tobytes() == b"ab" and m.readonly
    with pytest.raises(BufferError):
        bf.acquire(RegBytes(b"ab"), EXCLUSIVE)
    with pytest.raises(TypeError):                    # not what the body says
        bf.register(RegBytes, IMM | EXC)
    with pytest.raises(TypeError):                    # fixed
        bf.unregister(RegBytes)
    assert bf.supported_flags(RegBytes) == IMM
    with pytest.raises(TypeError) as info:            # stock bytearray: none
        bf.register(RegBytearray, IMM)
    assert str(info.value).endswith("'bytearray', which supports none")
    assert bf.supported_flags(RegBytearray) == NONE
    with pytest.raises(BufferError):
        bf.acquire(RegBytearray(b"ab"), IMMUTABLE)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 688 hooks are 3.12+")
def test_registered_flags_not_inherited_by_overriding_subclass():
    class Reg(bytes):
        __buffer_flags__ = int(IMMUTABLE)

    class Override(Reg):
        def __buffer__(self, flags):
            return super().__buffer__(0)

    bf.register(Reg, IMM)
    assert bf.supported_flags(Reg) == IMM
    assert bf.supported_flags(Override) == NONE


# ---- plain bytearray / array.array are not locked on stock (§5, §7.3) ---------
@pytest.mark.parametrize("make", [bytearray, lambda d: array.array("B", d)],
                         ids=["bytearray", "array.array"])
def test_stock_types_unsupported(make):
    obj = make(DATA)
    name = type(obj).__name__
    assert bf.supported_flags(type(obj)) == NONE
    for kwargs, flag in (({"immutable": True}, "PyBUF_IMMUTABLE"),
                         ({"exclusive": True}, "PyBUF_EXCLUSIVE")):
        with pytest.raises(BufferError) as info:
            bf.view(obj, **kwargs)
        msg = str(info.value)
        assert msg.startswith("%s does not support %s" % (name, flag)), msg
        assert "LockingBytearray" in msg and "fallback" in msg, msg
        with pytest.raises(BufferError) as info:
            bf.acquire(obj, {"PyBUF_IMMUTABLE": IMMUTABLE,
                             "PyBUF_EXCLUSIVE": EXCLUSIVE}[flag])
        assert str(info.value).startswith("%s does not support %s" % (name, flag))


def test_plain_bytearray_keeps_stock_behaviour():
    """§7.3: plain bytearray is not locked: in-place writes while exported
    succeed exactly as on stock CPython (only resizes fail)."""
    b = bytearray(DATA)
    m = memoryview(b)
    assert m.readonly is False
    b[0] = ord("S")
    b.reverse()
    m[0] = ord("!")
    with pytest.raises(BufferError) as info:
        b.append(1)
    assert str(info.value) == RESIZE_SHARED_MESSAGE
    m.release()
    assert b[0] == ord("!")


# ---- 3.11: no PEP 688 -----------------------------------------------------------
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.11 only")
def test_311_works_without_pep688():
    assert not hasattr(bytearray, "__buffer__")
    assert not hasattr(inspect, "BufferFlags")
    lb = bf.LockingBytearray(DATA)
    with bf.view(lb, immutable=True) as v:
        assert v.readonly and v.tobytes() == DATA
        assert memoryview(lb).readonly is True
        assert bytes(lb) == DATA
        assert hashlib.sha256(lb).digest() == hashlib.sha256(DATA).digest()
        with pytest.raises(BufferError):
            bf.acquire(lb, WRITABLE)
        with pytest.raises(BufferError):
            bf.view(lb, writable=True)
        with pytest.raises(BufferError):
            lb[0] = 0
    with bf.view(b"abc", immutable=True) as v:
        assert v.readonly
    assert_fresh(lb, DATA)


# ---- §7.3 base-class calls skip the shim's guards ----------------------------------
def test_s7_3_base_class_in_place_write_bypasses_guard():
    """§7.3 (document-by-test): bytearray.__setitem__(lb, ...) and friends
    skip LockingBytearray's guard: the data changes under an immutable view.
    The guarded spelling is refused."""
    lb = bf.LockingBytearray(DATA)
    with bf.view(lb, immutable=True) as v:
        with pytest.raises(BufferError):
            lb[0] = ord("X")
        bytearray.__setitem__(lb, 0, ord("X"))
        assert v[0] == ord("X")                 # the documented limit
        bytearray.reverse(lb)
        assert v.tobytes() == (b"X" + DATA[1:])[::-1]


def test_s7_3_base_class_extend_bypasses_guard():
    """§7.3 (document-by-test): bytearray.extend(lb, b"x") does not consult
    the shim's guard.  While the export is held stock's own resize rule still
    refuses it, with stock's message instead of the §6 one; with nothing held
    it simply extends."""
    lb = bf.LockingBytearray(DATA)
    with bf.view(lb, immutable=True):
        with pytest.raises(BufferError) as guarded:
            lb.extend(b"x")
        assert str(guarded.value) == conflict_message(
            type(lb), "modify", "IMMUTABLE", 1)
        with pytest.raises(BufferError) as base:
            bytearray.extend(lb, b"x")
        assert str(base.value) == RESIZE_SHARED_MESSAGE
    bytearray.extend(lb, b"x")
    assert bytes(lb) == DATA + b"x"
    assert mode_of(lb) == "FREE"


@pytest.mark.parametrize("assign", ["to-bytearray", "to-other-subclass", "from-bytearray"])
def test_s7_3_class_assignment_refused(assign):
    """§7.3: __class__ assignment to or from LockingBytearray is refused by
    CPython (the layout differs), so it cannot shed the guard."""
    class Other(bytearray):
        pass

    lb = bf.LockingBytearray(DATA)
    with pytest.raises(TypeError):
        if assign == "to-bytearray":
            lb.__class__ = bytearray
        elif assign == "to-other-subclass":
            lb.__class__ = Other
        else:
            Other(DATA).__class__ = bf.LockingBytearray
    assert type(lb) is bf.LockingBytearray


# ---- §7.2 consumers that ignore readonly ------------------------------------------
cffi = pytest.importorskip("cffi")


def test_s7_2_ffi_from_buffer_without_require_writable_writes_anyway():
    """§7.2 (document-by-test): ffi.from_buffer(obj) makes a plain read,
    granted read-only under an immutable view -- and cffi writes through it
    anyway.  With require_writable=True the request is writable and refused."""
    ffi = cffi.FFI()
    lb = bf.LockingBytearray(DATA)
    with bf.view(lb, immutable=True) as v:
        with pytest.raises(BufferError):
            ffi.from_buffer(lb, require_writable=True)
        p = ffi.from_buffer(lb)
        p[0] = b"Z"                               # the documented limit
        ffi.release(p)
        assert v[0] == ord("Z")
    with bf.view(lb, exclusive=True):
        with pytest.raises(BufferError):
            ffi.from_buffer(lb)                    # a plain read: refused
    assert_fresh(lb, b"Z" + DATA[1:])


# ---- §7.1 direct memory access by stock CPython code ------------------------------
@pytest.mark.parametrize("read", [
    lambda lb: bytes(_assign_into(bytearray(len(lb)), lb)),
    lambda lb: b"%s" % lb,
], ids=["bytearray-slice-assignment-source", "bytes-percent-s"])
def test_s7_1_stock_code_reads_ob_bytes_directly(read):
    """§7.1 (document-by-test): stock CPython code that reads a bytearray's
    memory through PyByteArray_AS_STRING skips the shim's checks, so it reads
    a LockingBytearray even while an exclusive export is held (the patched
    interpreter checks these two)."""
    lb = bf.LockingBytearray(DATA)
    with bf.view(lb, exclusive=True, writable=True):
        with pytest.raises(BufferError):
            bytes(lb)                          # the guarded spelling
        assert read(lb) == DATA                # the documented limit
    assert_fresh(lb, DATA)


def _assign_into(dest, src):
    dest[:] = src
    return dest


# ---- subinterpreters ---------------------------------------------------------------
_SUBINTERPRETER_SCRIPT = r'''
import gc
import bufferflags as bf
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters

def create(legacy):
    if interpreters.__name__ == "_interpreters":          # 3.13
        return interpreters.create("legacy" if legacy else "isolated")
    try:
        return interpreters.create(isolated=not legacy)   # 3.12
    except TypeError:
        return interpreters.create()                      # 3.11: shared GIL

lb = bf.LockingBytearray(b"main data")
held = bf.view(lb, immutable=True)
for legacy in (True, False):
    interp = create(legacy)
    try:
        result = interpreters.run_string(
            interp, "import bufferflags\nbufferflags.register(type('T', (), {'__buffer_flags__': 1024}), 1024)")
    except Exception as e:                                 # 3.11/3.12
        result = e
    print("sub", legacy, repr(result))
    interpreters.destroy(interp)
    gc.collect()
try:
    lb.append(1)
except BufferError as e:
    print("main refused", e)
held.release()
with bf.view(lb, exclusive=True, writable=True) as v:
    v[0] = ord("M")
print("main", bytes(lb), int(bf.supported_flags(bf.LockingBytearray)))
print("fast path", bf.view(bf.LockingBytearray(b"x"), immutable=True).tobytes())
'''


def test_subinterpreter_import_refused_main_unaffected():
    """The shim's C extension (single-phase init: cffi builds no other)
    keeps one set of types, registry and view() wiring per process, made in
    the main interpreter.  Importing the package in a subinterpreter is
    refused with ImportError (natively: CPython's own refusal of
    single-phase modules in isolated interpreters; here also in legacy
    ones), and the main interpreter's view() and LockingBytearray keep
    working, before and after the subinterpreter is destroyed."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", _SUBINTERPRETER_SCRIPT],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    subs = [line for line in lines if line.startswith("sub ")]
    assert len(subs) == 2, out.stdout
    for line in subs:
        assert "ImportError" in line and "subinterpreter" in line, line
    assert ("main refused LockingBytearray: cannot modify while 1 immutable "
            "export is held") in lines, out.stdout
    assert "main b'Main data' %d" % (IMMUTABLE | EXCLUSIVE) in lines, out.stdout
    assert "fast path b'x'" in lines, out.stdout
