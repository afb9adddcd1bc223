"""view() of a memoryview whose export was not granted IMMUTABLE (issue 17):
refused on both backends (§5: memoryview(b"xy") was a plain request, so it
does not forward), with the §6 message followed by an explanation that is
true for bytes too and a hint that applies to a memoryview (take the view
from the object itself, or fallback="copy"), not the LockingBytearray hint
of an unsupported type.  What the hint advises is then granted."""
import pytest

import bufferflags as bf

from . import _support as S


@pytest.mark.parametrize("make", [
    lambda: memoryview(b"xy"),
    lambda: memoryview(b"xyz")[1:],
    lambda: memoryview(bytearray(b"xy")),
    lambda: memoryview(bf.LockingBytearray(b"xy")),
], ids=["bytes", "bytes-slice", "bytearray", "LockingBytearray"])
def test_refusal_is_true_and_hint_applies(make):
    mv = make()
    try:
        with pytest.raises(BufferError) as info:
            bf.view(mv, immutable=True)
        assert type(info.value) is BufferError       # not a conflict: no retry
        text = str(info.value)
        assert text.startswith(S.MEMORYVIEW_MESSAGE)
        assert "was not granted PyBUF_IMMUTABLE" in text
        assert "memoryview(obj) asks for a plain buffer, even of bytes" in text
        assert "bufferflags.view(obj, immutable=True)" in text
        assert "fallback='copy'" in text
        assert "LockingBytearray for a bytearray" not in text
        with bf.view(mv, immutable=True, fallback="copy") as private:
            assert private.tobytes() == mv.tobytes()
            assert private.readonly
    finally:
        mv.release()


def test_the_advice_is_granted():
    """view(obj, immutable=True) of the object itself, and a memoryview of
    that view (it forwards), are granted."""
    with bf.view(b"xy", immutable=True) as frozen:
        with bf.view(frozen, immutable=True) as again:
            assert again.tobytes() == b"xy"
        with memoryview(frozen) as wrapped:
            with bf.view(wrapped, immutable=True) as again:
                assert again.tobytes() == b"xy"


def test_unsupported_type_keeps_its_hint(unsupported):
    with pytest.raises(BufferError) as info:
        bf.view(unsupported, immutable=True)
    assert "fallback='copy'" in str(info.value)
    assert "memoryview(obj) asks" not in str(info.value)
