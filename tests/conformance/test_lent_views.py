"""Memory lent to Python code for one call (issue 19, item 1; semantics.md §3.3).

Some C paths hand Python code a memoryview of memory no object owns
(``PyMemoryView_FromBuffer()``/``PyMemoryView_FromMemory()`` with no
exporter): a codec's decoder, a raw stream's ``readinto()``/``write()``,
``pickle``/``marshal`` reading through ``readinto()``.  Code that keeps that
view could read or write the memory after the call: under another holder's
``EXCLUSIVE`` export, inside an immutable ``bytes``, or after it was freed.

Natively the view ends with the call: it, and every view derived from it
(slice, cast, ``memoryview()`` of it), then fails as a released view.  On the
shim these paths are stock CPython code the package cannot change (§7.3):
the tests check that the limit stays as documented, reading only memory
that is still alive.
"""
import array
import codecs
import io
import marshal
import pickle

import pytest

import bufferflags as bf

from .conftest import BACKEND

RELEASED = "operation forbidden on released memoryview object"

OWNERS = {
    "bytes": bytes,
    "bytearray": bytearray,
    "array.array": lambda data: array.array("B", data),
    "LockingBytearray": bf.LockingBytearray,
}
WRITABLE_OWNERS = {k: v for k, v in OWNERS.items() if k != "bytes"}


def derived_views(view):
    """Every way Python code can keep a second handle on a view."""
    return [view, view[1:], view.cast("B"), memoryview(view), view.toreadonly()]


def assert_ended(views):
    for v in views:
        with pytest.raises(ValueError, match=RELEASED):
            bytes(v)
        with pytest.raises(ValueError, match=RELEASED):
            v[0]


class Keeper:
    """Keeps what it is lent, and handles derived from it, as a hostile
    codec or stream would."""

    def __init__(self):
        self.kept = []

    def keep(self, view):
        self.kept.extend(derived_views(view))


# -- codecs ---------------------------------------------------------------

_KEEPER = Keeper()


def _keeping_decode(data, errors="strict"):
    _KEEPER.keep(data)
    return str(bytes(data), "latin-1"), len(data)


def _search(name):
    if name == "bufferflags_keeping_codec":
        return codecs.CodecInfo(
            name=name, encode=codecs.latin_1_encode, decode=_keeping_decode)
    return None


codecs.register(_search)


# The locked types (bytearray natively, LockingBytearray) are decoded in
# test_agreement.py::test_s3_2_a_kept_codec_view_is_released; here the
# types that are not locked on either backend.
UNLOCKED_DECODES = {
    "bytes-str": lambda: str(b"hello", "bufferflags_keeping_codec"),
    "bytes-decode": lambda: b"hello".decode("bufferflags_keeping_codec"),
    "array-str": lambda: str(array.array("B", b"hello"),
                             "bufferflags_keeping_codec"),
}


@pytest.mark.parametrize("call", sorted(UNLOCKED_DECODES))
def test_a_codec_cannot_keep_the_view_it_decodes(call):
    _KEEPER.kept.clear()
    assert UNLOCKED_DECODES[call]() == "hello"
    assert _KEEPER.kept
    if BACKEND.native:
        assert_ended(_KEEPER.kept)
    else:
        # §7.3: stock CPython's PyUnicode_Decode() lends a view it does not
        # end.  Only .obj is looked at: the memory may be freed already
        # (the temporary array).
        assert _KEEPER.kept[0].obj is None


# -- io ---------------------------------------------------------------------

class KeepingRaw(io.RawIOBase):
    """A raw stream that keeps every view it is given."""

    def __init__(self, data=b""):
        self.data = bytearray(data)
        self.pos = 0
        self.keeper = Keeper()
        self.written = bytearray()

    def readable(self):
        return True

    def writable(self):
        return True

    def readinto(self, b):
        self.keeper.keep(b)
        n = min(len(b), len(self.data) - self.pos)
        b[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n

    def write(self, b):
        self.keeper.keep(b)
        self.written += b
        return len(b)


@pytest.mark.parametrize("kind", sorted(WRITABLE_OWNERS))
def test_buffered_readinto_cannot_keep_the_callers_buffer(kind):
    raw = KeepingRaw(b"x" * 64)
    reader = io.BufferedReader(raw, buffer_size=8)
    target = WRITABLE_OWNERS[kind](bytes(32))
    assert reader.readinto(target) == 32        # larger than the buffer: direct
    assert bytes(target) == b"x" * 32
    assert raw.keeper.kept
    if BACKEND.native:
        assert_ended(raw.keeper.kept)
        # Nothing keeps the target exported or writable by the stream: an
        # immutable view is granted and nothing changes under it.
        with bf.view(target, immutable=True) as held:
            for v in raw.keeper.kept:
                with pytest.raises(ValueError, match=RELEASED):
                    v[0] = 0
            assert bytes(held) == b"x" * 32
    else:
        # §7.3: stock io lends the caller's memory to the raw stream with no
        # exporter; the kept view still writes it (target is alive here).
        raw.keeper.kept[0][0] = ord("y")
        assert bytes(target)[:1] == b"y"


def test_buffered_read_returns_bytes_the_stream_cannot_change():
    raw = KeepingRaw(b"abcdefgh" * 8)
    reader = io.BufferedReader(raw, buffer_size=8)
    data = reader.read(32)
    more = reader.read1(8)
    assert data == b"abcdefgh" * 4 and more == b"abcdefgh"
    if BACKEND.native:
        assert_ended(raw.keeper.kept)
        for v in raw.keeper.kept:
            with pytest.raises(ValueError, match=RELEASED):
                v[0] = ord("Z")
        assert data == b"abcdefgh" * 4
    else:
        # §7.3: the view stock io filled the new bytes through is kept; it
        # still reaches memory that is alive here (reader, data).
        assert all(v.obj is None for v in raw.keeper.kept)


@pytest.mark.exclusive
@pytest.mark.parametrize("kind", sorted(OWNERS))
def test_buffered_write_cannot_keep_the_callers_buffer(kind):
    raw = KeepingRaw()
    writer = io.BufferedWriter(raw, buffer_size=8)
    source = OWNERS[kind](b"w" * 32)
    assert writer.write(source) == 32           # larger than the buffer: direct
    writer.write(b"tail")
    writer.flush()
    assert bytes(raw.written) == b"w" * 32 + b"tail"
    assert raw.keeper.kept
    if BACKEND.native:
        assert_ended(raw.keeper.kept)
        if kind != "bytes":
            with bf.view(source, exclusive=True, writable=True) as held:
                held[0] = ord("E")
                for v in raw.keeper.kept:
                    with pytest.raises(ValueError, match=RELEASED):
                        bytes(v)
    else:
        assert all(v.obj is None for v in raw.keeper.kept)


# -- pickle and marshal -----------------------------------------------------

class KeepingFile(io.BytesIO):
    """A file whose readinto() keeps the view it fills."""

    def __init__(self, data):
        super().__init__(data)
        self.keeper = Keeper()

    def readinto(self, b):
        self.keeper.keep(b)
        return super().readinto(b)


@pytest.mark.parametrize("value", [b"p" * 100000, bytearray(b"q" * 100000)],
                         ids=["bytes", "bytearray"])
def test_pickle_load_returns_objects_the_file_cannot_change(value):
    f = KeepingFile(pickle.dumps(value, protocol=5))
    loaded = pickle.load(f)
    assert loaded == value and type(loaded) is type(value)
    assert f.keeper.kept, "pickle read the payload through readinto()"
    if BACKEND.native:
        assert_ended(f.keeper.kept)
        with bf.view(loaded, immutable=True) as held:
            for v in f.keeper.kept:
                with pytest.raises(ValueError, match=RELEASED):
                    v[0] = 0
            assert bytes(held) == bytes(value)
    else:
        assert all(v.obj is None for v in f.keeper.kept)


def test_marshal_load_does_not_lend_its_buffer_for_later():
    f = KeepingFile(marshal.dumps((b"m" * 64, "text", 12345)))
    assert marshal.load(f) == (b"m" * 64, "text", 12345)
    assert f.keeper.kept
    if BACKEND.native:
        assert_ended(f.keeper.kept)
    else:
        assert all(v.obj is None for v in f.keeper.kept)
