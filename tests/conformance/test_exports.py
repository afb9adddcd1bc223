"""§3.1: every cell of (held state x export request), with raw PyBUF_* flags
through bufferflags.acquire() (as a C consumer's PyObject_GetBuffer()),
readonly asserted, the new state observed through what is granted next, and
the object fresh again once everything is released (§3: sticky mode)."""
import pytest

import bufferflags as bf

from ._support import (ACTION, EXCLUSIVE, FULL_RO, IMMUTABLE, KINDS,
                       RAW_REQUESTS, REFUSED, REQUESTS, RO, SIMPLE, TABLE_3_1,
                       TABLE_3_1_READING, WRITABLE, assert_fresh,
                       conflict_class, conflict_message, count_of, hexflags,
                       mode_of, while_reading)
from .conftest import DATA, HAS_PEP688

# How each held state is reached: raw requests and the other public routes.
HOLDERS = [
    ("SHARED", "acquire-0x0", lambda o: bf.acquire(o, SIMPLE)),
    ("SHARED", "acquire-0x11d", lambda o: bf.acquire(o, 0x11D)),
    ("SHARED", "memoryview()", memoryview),
    ("SHARED", "view-writable", lambda o: bf.view(o, writable=True)),
    ("IMMUTABLE", "acquire-0x400", lambda o: bf.acquire(o, IMMUTABLE)),
    ("IMMUTABLE", "view-immutable", lambda o: bf.view(o, immutable=True)),
    ("EXCLUSIVE", "acquire-0x800", lambda o: bf.acquire(o, EXCLUSIVE)),
    ("EXCLUSIVE", "acquire-0xc00", lambda o: bf.acquire(o, EXCLUSIVE | IMMUTABLE)),
    ("EXCLUSIVE", "acquire-0x801", lambda o: bf.acquire(o, EXCLUSIVE | WRITABLE)),
    ("EXCLUSIVE", "view-exclusive", lambda o: bf.view(o, exclusive=True)),
    ("EXCLUSIVE", "view-exclusive-writable",
     lambda o: bf.view(o, exclusive=True, writable=True)),
]
HOLDER_IDS = ["%s-by-%s" % (state, how) for state, how, _ in HOLDERS]
REQUEST_IDS = ["%s-%s" % (kind, hexflags(flags)) for kind, flags in RAW_REQUESTS]


def _check_granted(obj, m, expected_readonly, expected_mode):
    assert m.readonly is (expected_readonly == RO)
    assert m.tobytes() == DATA
    assert mode_of(obj) == expected_mode


@pytest.mark.parametrize("kind,flags", RAW_REQUESTS, ids=REQUEST_IDS)
def test_s3_1_free_row(locked, kind, flags):
    """§3.1 row FREE: every request granted, readonly and new mode per table."""
    expected_readonly, expected_mode = TABLE_3_1["FREE"][kind]
    m = bf.acquire(locked, flags)
    _check_granted(locked, m, expected_readonly, expected_mode)
    m.release()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("kind,flags", RAW_REQUESTS, ids=REQUEST_IDS)
@pytest.mark.parametrize("state,how,hold", HOLDERS, ids=HOLDER_IDS)
def test_s3_1_held_rows(locked, state, how, hold, kind, flags):
    """§3.1 rows SHARED / IMMUTABLE / EXCLUSIVE x every request kind.

    Granted: readonly per table, mode unchanged (sticky).  Refused:
    BufferError with the §6 message (type, flag, what is held), and the
    state unchanged: same mode and count afterwards; releasing the holder
    returns the object to a fresh bytearray."""
    holder = hold(locked)
    assert mode_of(locked) == state
    expected = TABLE_3_1[state][kind]
    if expected == REFUSED:
        with pytest.raises(BufferError) as info:
            bf.acquire(locked, flags)
        assert str(info.value) == conflict_message(
            type(locked), ACTION[kind], state, 1)
        assert info.type is bf.BufferConflictError
        assert mode_of(locked) == state
        if state != "EXCLUSIVE":
            assert count_of(locked) == 1
        assert holder.tobytes() == DATA
    else:
        expected_readonly, expected_mode = expected
        m = bf.acquire(locked, flags)
        _check_granted(locked, m, expected_readonly, expected_mode)
        assert count_of(locked) == 2
        m.release()
        assert mode_of(locked) == state
        assert count_of(locked) == 1
    holder.release()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("kind", KINDS)
def test_s3_1_free_with_reads_in_progress(locked, kind):
    """§3.1 last paragraph: in FREE mode with in-progress own reads only, the
    FREE row applies except the exclusive requests, refused with
    '... while 1 read is in progress' (§6).  The request is made while `%`
    reads the object as an argument (_support.while_reading)."""
    expected = TABLE_3_1_READING[kind]
    flags = REQUESTS[kind][0]
    seen = []

    def request():
        if expected == REFUSED:
            with pytest.raises(BufferError) as info:
                bf.acquire(locked, flags)
            seen.append(str(info.value))
            assert info.type is bf.BufferConflictError
        else:
            m = bf.acquire(locked, flags)
            seen.append((m.readonly, mode_of(locked)))
            m.release()

    assert while_reading(locked, request) == b"|" + DATA
    if expected == REFUSED:
        assert seen == [conflict_message(type(locked), ACTION[kind], "FREE", 1)]
    else:
        readonly, mode = expected
        assert seen == [(readonly == RO, mode)]
    assert_fresh(locked, DATA)


def test_s3_sticky_immutable_mode(locked):
    """§3: the mode is sticky.  A plain read granted while an immutable reader
    is held is read-only and keeps the memory immutable after the immutable
    reader is gone; FREE only when the count returns to 0."""
    imm = bf.acquire(locked, IMMUTABLE)
    plain = memoryview(locked)
    assert plain.readonly is True
    imm.release()
    assert mode_of(locked) == "IMMUTABLE"
    with pytest.raises(BufferError):
        bf.acquire(locked, WRITABLE)
    with pytest.raises(BufferError):
        locked[0] = 0
    with pytest.raises(BufferError):
        locked.append(0)
    assert bytes(locked) == DATA
    # a new plain read is still read-only
    with bf.acquire(locked, FULL_RO) as again:
        assert again.readonly is True
    plain.release()
    assert_fresh(locked, DATA)
    # a fresh plain read is writable again: the mode was reset
    with memoryview(locked) as m:
        assert m.readonly is False


def test_s3_sticky_shared_mode(locked):
    """§3: SHARED stays while any export of it is held, even after the
    writable one that set it is released."""
    w = bf.acquire(locked, WRITABLE)
    p = bf.acquire(locked, SIMPLE)
    assert p.readonly is False
    w.release()
    assert mode_of(locked) == "SHARED"
    with pytest.raises(BufferError):
        bf.acquire(locked, IMMUTABLE)
    p.release()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_s3_count_is_exact(locked, n):
    """§3: every release is count - 1; releasing n-1 of n readers keeps the
    mode; the last one frees it."""
    views = [bf.acquire(locked, IMMUTABLE) for _ in range(n)]
    assert count_of(locked) == n
    for i, v in enumerate(views[:-1]):
        v.release()
        v.release()                        # a double release changes nothing
        assert mode_of(locked) == "IMMUTABLE"
        assert count_of(locked) == n - i - 1
    views[-1].release()
    assert_fresh(locked, DATA)


@pytest.mark.exclusive
def test_s3_exclusive_write_holder_writes(locked):
    """§2 exclusive write: readonly=0 and the holder alone writes; what it
    wrote is there after release."""
    with bf.acquire(locked, EXCLUSIVE | WRITABLE) as m:
        assert m.readonly is False
        m[0:5] = b"HELLO"
        with pytest.raises(BufferError):
            bytes(locked)
    expected = b"HELLO" + DATA[5:]
    assert bytes(locked) == expected
    assert_fresh(locked, expected)


@pytest.mark.exclusive
def test_s3_exclusive_read_is_immutable(locked):
    """§2: an exclusive read is granted readonly=1 (EXCLUSIVE|IMMUTABLE)."""
    with bf.acquire(locked, EXCLUSIVE) as m:
        assert m.readonly is True
        with pytest.raises(TypeError):
            m[0] = 1
        assert m.tobytes() == DATA
    assert_fresh(locked, DATA)


# ---- §3: a release ends exactly the export it pairs with ----------------------
def _base_buffer_calls():
    """Acquisitions through a base class's buffer hook, called directly on a
    locked object (PEP 688, 3.12+): bytearray.__buffer__(obj, flags) runs
    bytearray's slot, but the memoryview it returns releases through the
    object's own type.  Natively bytearray's slot is the locked one; on the
    shim it is stock bytearray's, which takes nothing (§7.3)."""
    if not HAS_PEP688:
        return []
    return [
        ("bytearray.__buffer__-0", lambda o: bytearray.__buffer__(o, SIMPLE)),
        ("bytearray.__buffer__-FULL_RO", lambda o: bytearray.__buffer__(o, FULL_RO)),
    ]


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
@pytest.mark.parametrize("name,acquire_base", _base_buffer_calls(),
                         ids=[n for n, _ in _base_buffer_calls()])
@pytest.mark.parametrize("ending", ["release", "del", "release-twice"])
def test_s3_release_pairs_with_its_own_acquisition(locked, name, acquire_base,
                                                   ending):
    """§3: every release is count - 1 *of the export it ends*.  An export
    taken through bytearray's own hook, then released through the locked
    type, must not end another holder's export: the immutable reader's
    guarantee stays (a write is refused, the data unchanged, count 1)."""
    reader = bf.view(locked, immutable=True)
    m = acquire_base(locked)
    assert m.tobytes() == DATA
    if ending == "del":
        del m
    else:
        m.release()
        if ending == "release-twice":
            m.release()
    assert mode_of(locked) == "IMMUTABLE"
    assert count_of(locked) == 1
    with pytest.raises(BufferError) as info:
        locked[0] = 0
    assert str(info.value) == conflict_message(type(locked), "modify",
                                               "IMMUTABLE", 1)
    with pytest.raises(BufferError):
        locked.append(0)
    assert reader.tobytes() == DATA and bytes(locked) == DATA
    reader.release()
    assert_fresh(locked, DATA)


@pytest.mark.exclusive
@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
@pytest.mark.parametrize("name,acquire_base", _base_buffer_calls(),
                         ids=[n for n, _ in _base_buffer_calls()])
def test_s3_release_pairs_with_its_own_acquisition_exclusive(locked, name,
                                                             acquire_base):
    """The same under an exclusive holder: natively bytearray's hook is
    refused; on the shim it bypasses the state (§7.3), and releasing what it
    acquired must leave the exclusive holder the only one."""
    with bf.view(locked, exclusive=True, writable=True) as mine:
        try:
            m = acquire_base(locked)
        except BufferError as e:
            assert bf.NATIVE, e
        else:
            assert not bf.NATIVE
            m.release()
        with pytest.raises(BufferError) as info:
            bytes(locked)
        assert str(info.value) == conflict_message(
            type(locked), "export a buffer", "EXCLUSIVE")
        with pytest.raises(BufferError):
            bf.view(locked, immutable=True)
        mine[0] = ord("H")
    assert_fresh(locked, b"H" + DATA[1:])
