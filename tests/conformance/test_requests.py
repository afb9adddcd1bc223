"""§2: requests refused before any exporter runs (fail closed), and old
flags never checked against supported flags.  Raw flags go through
bufferflags.acquire(), which requests exactly as PyObject_GetBuffer()."""
import pytest

import bufferflags as bf

from ._support import (CONTRADICTORY, CONTRADICTORY_MESSAGE, EXCLUSIVE, FULL,
                       FULL_RO, IMMUTABLE, NEGATIVE, UNKNOWN, WRITABLE,
                       assert_fresh, hexflags, mode_of,
                       unsupported_message_prefix)
from .conftest import DATA


def _all_exporters(locked_type, unsupported):
    return [b"bytes", locked_type(DATA), unsupported]


@pytest.mark.parametrize("flags,bad", UNKNOWN, ids=[hexflags(f) for f, _ in UNKNOWN])
def test_s2_rule1_unknown_bits_refused(locked_type, unsupported, flags, bad):
    """§2 rule 1, §6 'unknown bits': BufferError naming the unknown bits,
    for every exporter, supported or not; a locked exporter stays FREE."""
    for obj in _all_exporters(locked_type, unsupported):
        with pytest.raises(BufferError) as info:
            bf.acquire(obj, flags)
        assert str(info.value) == "unknown buffer request flags %s" % hexflags(bad), obj
    lb = locked_type(DATA)
    with pytest.raises(BufferError):
        bf.acquire(lb, flags)
    assert_fresh(lb, DATA)


@pytest.mark.parametrize("flags", NEGATIVE, ids=str)
def test_s2_rule1_negative_flags_refused(locked_type, unsupported, flags):
    """§2 rule 1: a negative int has bits outside the known mask."""
    for obj in _all_exporters(locked_type, unsupported):
        with pytest.raises(BufferError) as info:
            bf.acquire(obj, flags)
        assert str(info.value).startswith("unknown buffer request flags 0x")
    lb = locked_type(DATA)
    with pytest.raises(BufferError):
        bf.acquire(lb, flags)
    assert_fresh(lb, DATA)


@pytest.mark.parametrize("flags", CONTRADICTORY, ids=hexflags)
def test_s2_rule2_contradictory_refused(locked_type, unsupported, flags):
    """§2 rule 2, §6 'contradictory': IMMUTABLE|WRITABLE (with or without
    EXCLUSIVE), checked before support (rule 3) -- also for unsupported types."""
    for obj in _all_exporters(locked_type, unsupported):
        with pytest.raises(BufferError) as info:
            bf.acquire(obj, flags)
        assert str(info.value) == CONTRADICTORY_MESSAGE
    lb = locked_type(DATA)
    held = bf.acquire(lb, IMMUTABLE)
    with pytest.raises(BufferError) as info:
        bf.acquire(lb, flags)
    assert str(info.value) == CONTRADICTORY_MESSAGE
    assert mode_of(lb) == "IMMUTABLE"
    held.release()
    assert_fresh(lb, DATA)


def test_s2_rule_order_unknown_before_contradictory():
    """§2: rule 1 fires before rule 2."""
    with pytest.raises(BufferError) as info:
        bf.acquire(b"x", 0x1000 | IMMUTABLE | WRITABLE)
    assert str(info.value) == "unknown buffer request flags 0x1000"


@pytest.mark.parametrize("flags,flagname", [
    (IMMUTABLE, "PyBUF_IMMUTABLE"),
    (IMMUTABLE | FULL_RO, "PyBUF_IMMUTABLE"),
    (EXCLUSIVE, "PyBUF_EXCLUSIVE"),
    (EXCLUSIVE | WRITABLE, "PyBUF_EXCLUSIVE"),
], ids=["immutable", "immutable|full_ro", "exclusive", "exclusive|writable"])
def test_s2_rule3_unsupported_type_refused(unsupported, flags, flagname):
    """§2 rule 3, §6 'unsupported': a type that declares nothing gets
    BufferError naming the type and the flag, before its exporter runs
    (so a stock exporter cannot silently 'grant' the flag)."""
    with pytest.raises(BufferError) as info:
        bf.acquire(unsupported, flags)
    assert str(info.value).startswith(
        unsupported_message_prefix(type(unsupported), flagname)), str(info.value)
    # nothing was exported: the object can still be resized/closed freely
    if isinstance(unsupported, bytearray):
        unsupported.append(1)
        assert unsupported.pop() == 1


@pytest.mark.parametrize("flags", [EXCLUSIVE, EXCLUSIVE | IMMUTABLE,
                                   EXCLUSIVE | WRITABLE, EXCLUSIVE | FULL],
                         ids=hexflags)
def test_s2_rule3_bytes_never_exclusive(flags):
    """§5 defaults: bytes supports IMMUTABLE, never EXCLUSIVE; §6 message.
    (EXCLUSIVE|FULL is not contradictory: no IMMUTABLE bit.)"""
    with pytest.raises(BufferError) as info:
        bf.acquire(b"abc", flags)
    assert str(info.value) == \
        "bytes does not support PyBUF_EXCLUSIVE (supported: PyBUF_IMMUTABLE)"


def test_s2_bytes_immutable_granted_readonly():
    """§2 immutable row for bytes: ro, contents as exported."""
    with bf.acquire(b"abc", IMMUTABLE) as m:
        assert m.readonly is True
        assert m.tobytes() == b"abc"
    with bf.acquire(b"abc", IMMUTABLE | FULL_RO) as m:
        assert m.readonly is True
        assert m.format == "B" and m.shape == (3,)


@pytest.mark.parametrize("flags,readonly", [(0, False), (FULL_RO, False),
                                            (WRITABLE, False), (FULL, False)],
                         ids=hexflags)
def test_s2_old_flags_never_checked_against_support(unsupported, flags, readonly):
    """§5: 'Old flags are never checked against it': an unsupported exporter
    still serves plain and writable requests exactly as today."""
    if isinstance(unsupported, bytes):
        # bytes subclasses export read-only: a writable request fails as today
        if flags & WRITABLE:
            with pytest.raises(BufferError):
                bf.acquire(unsupported, flags)
            return
        readonly = True
    m = bf.acquire(unsupported, flags)
    try:
        assert m.readonly is readonly
        assert m.tobytes() == DATA
    finally:
        m.release()


def test_s2_bytes_writable_request_refused_as_today():
    with pytest.raises(BufferError):
        bf.acquire(b"abc", WRITABLE)


@pytest.mark.parametrize("obj", [object(), "text", 12, None, [1, 2]], ids=repr)
@pytest.mark.parametrize("flags", [0, IMMUTABLE, EXCLUSIVE], ids=hexflags)
def test_s2_acquire_non_buffer_is_typeerror(obj, flags):
    """§6: a non-buffer is a TypeError."""
    with pytest.raises(TypeError):
        bf.acquire(obj, flags)


def test_acquire_accepts_bufferflags_members(locked):
    F = bf.BufferFlags
    with bf.acquire(locked, F.IMMUTABLE | F.FULL_RO) as m:
        assert m.readonly is True and m.format == "B"
        with pytest.raises(BufferError):
            locked.append(0)
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("flags", ["0x400", 1.0, None, b"\x04"], ids=repr)
def test_acquire_non_int_flags_typeerror(locked, flags):
    """A Python-level argument error: flags must be an int (§6: TypeError for
    a wrong argument type, nothing acquired)."""
    with pytest.raises(TypeError):
        bf.acquire(locked, flags)
    assert_fresh(locked, DATA)
