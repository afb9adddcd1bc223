"""Issue 2 §2 / semantics §3.1-§3.2: under an immutable view (and under an
exclusive one) every mutation path is refused and the data is unchanged --
for every consumer, not only the object's own methods: writes through a
memoryview, io readinto, struct.pack_into, socket recv_into, ctypes."""
import ctypes
import io
import socket
import struct

import pytest

import bufferflags as bf

from . import _ops
from ._support import (WRITABLE, assert_fresh, conflict_message, count_of, refusal_types,
                       mode_of)
from .conftest import DATA

HOLDS = [
    ("IMMUTABLE", "view-immutable", lambda o: bf.view(o, immutable=True)),
    ("EXCLUSIVE", "view-exclusive", lambda o: bf.view(o, exclusive=True)),
]
HOLD_IDS = [how for _, how, _ in HOLDS]


def _recv_into(b):
    a, c = socket.socketpair()
    try:
        c.sendall(b"NET")
        try:
            return a.recv_into(b)
        finally:
            # the bytes were not consumed by the refused call
            a.settimeout(5)
            assert a.recv(3) == b"NET"
    finally:
        a.close()
        c.close()


def _readinto_bytesio(b):
    return io.BytesIO(b"READ").readinto(b)


def _readinto_fileio(b):
    import os
    import tempfile
    fd, path = tempfile.mkstemp()
    try:
        os.write(fd, b"FILE")
        os.close(fd)
        with open(path, "rb", buffering=0) as f:
            return f.readinto(b)
    finally:
        os.unlink(path)


def _readinto_buffered(b):
    return io.BufferedReader(io.BytesIO(b"BUF")).readinto(b)


# Consumers that request a writable buffer (PyBUF_WRITABLE): §3.1 'writable'
# is refused in IMMUTABLE and EXCLUSIVE mode with BufferError (§6).
WRITABLE_CONSUMERS = [
    ("acquire-writable", lambda b: bf.acquire(b, WRITABLE)),
    ("view-writable", lambda b: bf.view(b, writable=True)),
    ("struct.pack_into", lambda b: struct.pack_into("3s", b, 0, b"PCK")),
    ("io.BytesIO.readinto", _readinto_bytesio),
    ("io.FileIO.readinto", _readinto_fileio),
    ("io.BufferedReader.readinto", _readinto_buffered),
    ("socket.recv_into", _recv_into),
]

MUTATIONS = ([("own-write:" + n, f) for n, f in _ops.WRITES]
             + [("own-resize:" + n, f) for n, f in _ops.RESIZES]
             + [("own-resize:" + n, f) for n, f in _ops.SIZE_PRESERVING_RESIZES])


@pytest.mark.parametrize("name,consumer", WRITABLE_CONSUMERS,
                         ids=[n for n, _ in WRITABLE_CONSUMERS])
@pytest.mark.parametrize("state,how,hold", HOLDS, ids=HOLD_IDS)
def test_writable_consumer_refused(locked, state, how, hold, name, consumer):
    """§3.1: 'writable' request refused (BufferError naming PyBUF_WRITABLE
    and what is held, §6); data and state unchanged."""
    holder = hold(locked)
    with pytest.raises(refusal_types(name)) as info:
        consumer(locked)
    if issubclass(info.type, BufferError):
        assert str(info.value) == conflict_message(
            type(locked), "export PyBUF_WRITABLE", state, 1)
        assert info.type is bf.BufferConflictError
    assert holder.tobytes() == DATA
    assert mode_of(locked) == state
    if state == "IMMUTABLE":
        assert count_of(locked) == 1
    holder.release()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("name,consumer", WRITABLE_CONSUMERS,
                         ids=[n for n, _ in WRITABLE_CONSUMERS])
def test_writable_consumer_refused_data_unchanged(locked, name, consumer):
    """Issue 2 §2: whatever the exception type, no writable consumer changes
    the data of an immutably held object (the guarantee itself)."""
    with bf.view(locked, immutable=True) as v:
        with pytest.raises(Exception):
            consumer(locked)
        assert v.tobytes() == DATA
        assert bytes(locked) == DATA
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("name,mutate", MUTATIONS, ids=[n for n, _ in MUTATIONS])
def test_every_mutation_refused_under_immutable_view(locked, name, mutate):
    """Issue 2 §2 list (item/slice/extended-slice assignment, del, append,
    extend, insert, pop, remove, clear, reverse, +=, *=, __init__ again):
    refused with '<type>: cannot modify while 1 immutable export is held'."""
    with bf.view(locked, immutable=True) as v:
        before = v.tobytes()
        with pytest.raises(BufferError) as info:
            mutate(locked)
        assert str(info.value) == conflict_message(
            type(locked), "modify", "IMMUTABLE", 1)
        assert info.type is bf.BufferConflictError
        assert v.tobytes() == before == DATA
        assert bytes(locked) == DATA
        assert mode_of(locked) == "IMMUTABLE"
    assert_fresh(locked, DATA)


def test_memoryview_writes_under_immutable_view(locked):
    """§3.1: a plain read (memoryview()) while an immutable reader is held is
    granted read-only, so writing through it fails and changes nothing."""
    with bf.view(locked, immutable=True):
        m = memoryview(locked)
        assert m.readonly is True
        with pytest.raises(TypeError):
            m[0] = 0
        with pytest.raises(TypeError):
            m[0:2] = b"xx"
        with pytest.raises(TypeError):
            m.cast("B")[0] = 0
        assert bytes(locked) == DATA
        m.release()
        # ctypes asks for a plain read and checks readonly itself
        with pytest.raises(TypeError):
            (ctypes.c_char * 3).from_buffer(locked)
        assert bytes(locked) == DATA
    assert_fresh(locked, DATA)


@pytest.mark.exclusive
def test_ctypes_from_buffer_under_exclusive_view(locked):
    """§3.1 EXCLUSIVE row: ctypes' plain read is refused (BufferError)."""
    with bf.view(locked, exclusive=True) as v:
        with pytest.raises(BufferError) as info:
            (ctypes.c_char * 3).from_buffer(locked)
        assert str(info.value) == conflict_message(
            type(locked), "export a buffer", "EXCLUSIVE")
        assert v.tobytes() == DATA
    assert_fresh(locked, DATA)


def test_view_taken_before_the_lock_blocks_the_lock(locked):
    """§3.1 SHARED row: a writable view taken earlier makes an immutable
    request fail, so a pre-existing view can never write under a lock (the
    stock bypass 'views taken before the lock keep writing' is closed)."""
    early = memoryview(locked)
    assert early.readonly is False
    with pytest.raises(BufferError) as info:
        bf.view(locked, immutable=True)
    assert str(info.value) == conflict_message(
        type(locked), "export PyBUF_IMMUTABLE", "SHARED", 1)
    early[0] = ord("H")
    early.release()
    expected = b"H" + DATA[1:]
    assert bytes(locked) == expected
    with bf.view(locked, immutable=True) as v:
        assert v.tobytes() == expected
    assert_fresh(locked, expected)
