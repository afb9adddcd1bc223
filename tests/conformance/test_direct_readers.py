"""§7.1, §7.3: code outside the locked type that reads a bytearray's memory
directly (PyByteArray_AS_STRING(), not the buffer protocol).

Builtins and stdlib functions special-case bytearray and its subclasses:
ord(), int() (with and without a base), float(), bytes % obj (%s, %c),
compile()/eval()/exec(), struct.pack()'s "s" and "p", socket host names
and ctypes' c_char.  Under an exclusive export (§2: nobody else reads):

* native: each refuses with the §6 own-read message, and the data and the
  state stay as they were (§7.1: the patch checks these sites);
* shim: LockingBytearray is a bytearray subclass, so each reads the memory
  anyway and returns what it would return unlocked (§7.3: stock CPython
  cannot be changed).  These assert the documented limit, so a change of
  behaviour shows up here.
"""
import socket
import struct

import pytest

import bufferflags as bf

from ._support import assert_fresh, conflict_message, mode_of


def _readers():
    readers = [
        ("ord", b"A", ord, 65),
        ("int", b"123", int, 123),
        ("int-base", b"zz", lambda o: int(o, 36), 1295),
        ("float", b"1.5", float, 1.5),
        ("bytes-%s", b"abc", lambda o: b"<%s>" % (o,), b"<abc>"),
        ("bytes-%c", b"A", lambda o: b"<%c>" % (o,), b"<A>"),
        ("compile", b"6 * 7", lambda o: eval(compile(o, "<obj>", "eval")), 42),
        ("eval", b"6 * 7", eval, 42),
        ("exec", b"x = 6 * 7", lambda o: exec(o, ns := {}) or ns["x"], 42),
        ("struct.pack-s", b"abc", lambda o: struct.pack("3s", o), b"abc"),
        ("struct.pack-p", b"abc", lambda o: struct.pack("4p", o), b"\x03abc"),
        ("socket.gethostbyname", b"127.0.0.1", socket.gethostbyname,
         "127.0.0.1"),
    ]
    try:
        import ctypes
    except ImportError:
        pass
    else:
        readers.append(("ctypes.c_char", b"A",
                        lambda o: ctypes.c_char(o).value, b"A"))
    return readers


READERS = _readers()
HOLDERS = {
    "exclusive-read": lambda o: bf.view(o, exclusive=True),
    "exclusive-write": lambda o: bf.view(o, exclusive=True, writable=True),
}


@pytest.mark.parametrize("holder", list(HOLDERS))
@pytest.mark.parametrize("name,data,reader,expected", READERS,
                         ids=[r[0] for r in READERS])
def test_s7_direct_reader_under_exclusive(backend, locked_type, holder, name,
                                          data, reader, expected):
    obj = locked_type(data)
    held = HOLDERS[holder](obj)
    try:
        if backend.native:
            # §7.1: the patch checks the site; §6 own-read message.
            with pytest.raises(BufferError) as info:
                reader(obj)
            assert str(info.value) == conflict_message(
                locked_type, "read", "EXCLUSIVE")
        else:
            # §7.3: the builtin reads the subclass's memory directly.
            assert reader(obj) == expected
        assert held.tobytes() == data
        assert mode_of(obj) == "EXCLUSIVE"
    finally:
        held.release()
    assert reader(obj) == expected        # unlocked: as on a stock bytearray
    assert_fresh(obj, data)


@pytest.mark.exclusive
def test_s7_int_error_does_not_show_contents(backend, locked_type):
    """int() of non-numeric contents: natively the refusal comes before the
    parse, so no ValueError quotes the held memory; on the shim it does."""
    obj = locked_type(b"secret")
    with bf.view(obj, exclusive=True):
        if backend.native:
            with pytest.raises(BufferError) as info:
                int(obj)
            assert "secret" not in str(info.value)
        else:
            with pytest.raises(ValueError) as info:
                int(obj)
            assert "secret" in str(info.value)
    with pytest.raises(ValueError):
        int(obj)
    assert_fresh(obj, b"secret")


def test_s7_immutable_allows_direct_readers(locked_type):
    """Only EXCLUSIVE forbids reading: under an immutable export the same
    builtins read as usual, on both backends (§3.2)."""
    for name, data, reader, expected in READERS:
        obj = locked_type(data)
        with bf.view(obj, immutable=True):
            assert reader(obj) == expected, name
        assert_fresh(obj, data)
