"""§6 error classes: BufferConflictError (a BufferError) for every refusal
because of what is held, plain BufferError for a request the type cannot
honour or that is invalid, whoever holds what.  The exact class is asserted:
code retries on the first and falls back (copy, another type) on the second.

The cells of §3.1/§3.2 assert the class of their own refusals
(test_exports, test_own_operations, test_mutation_paths); §6's scenarios do
in test_messages.  Here: the package's class, the unsupported and invalid
requests, and the refusals that reach the user through view()."""
import builtins

import pytest

import bufferflags as bf

from ._support import (CONTRADICTORY, EXCLUSIVE, IMMUTABLE, NEGATIVE, UNKNOWN,
                       WRITABLE, assert_fresh, conflict_class, while_reading)
from .conftest import DATA


def test_buffer_conflict_error_is_a_buffer_error():
    assert issubclass(bf.BufferConflictError, BufferError)
    assert bf.BufferConflictError is not BufferError
    assert bf.BufferConflictError.__name__ == "BufferConflictError"
    assert "BufferConflictError" in bf.__all__


def test_buffer_conflict_error_is_the_builtin_where_there_is_one():
    """Natively the interpreter raises builtins.BufferConflictError, and
    bufferflags exports that class; stock CPython has none, so the shim's is
    bufferflags.BufferConflictError."""
    if bf.NATIVE:
        assert bf.BufferConflictError is builtins.BufferConflictError
    elif hasattr(builtins, "BufferConflictError"):
        assert bf.BufferConflictError is builtins.BufferConflictError
    else:
        assert bf.BufferConflictError.__module__ == "bufferflags"


@pytest.mark.parametrize("flags", [IMMUTABLE, EXCLUSIVE, EXCLUSIVE | IMMUTABLE,
                                   EXCLUSIVE | WRITABLE],
                         ids=["immutable", "exclusive", "exclusive-immutable",
                              "exclusive-writable"])
def test_unsupported_is_a_plain_buffer_error(unsupported, flags):
    """§2 rule 3: the type cannot promise it; no holder would change that."""
    with pytest.raises(BufferError) as info:
        bf.acquire(unsupported, flags)
    assert info.type is BufferError
    assert "does not support" in str(info.value)


@pytest.mark.parametrize("kwargs", [{"immutable": True}, {"exclusive": True}],
                         ids=["immutable", "exclusive"])
def test_view_unsupported_is_a_plain_buffer_error(unsupported, kwargs):
    with pytest.raises(BufferError) as info:
        bf.view(unsupported, **kwargs)
    assert info.type is BufferError


def test_bytes_exclusive_and_plain_memoryview_are_plain_buffer_errors():
    for request in (lambda: bf.acquire(b"x", EXCLUSIVE),
                    lambda: bf.view(b"x", exclusive=True),
                    lambda: bf.acquire(memoryview(bytearray(b"x")), IMMUTABLE)):
        with pytest.raises(BufferError) as info:
            request()
        assert info.type is BufferError


@pytest.mark.exclusive
@pytest.mark.parametrize("flags", [f for f, _ in UNKNOWN] + NEGATIVE + CONTRADICTORY)
def test_invalid_requests_are_plain_buffer_errors(locked, flags):
    """§2 rules 1 and 2 on a locked object, even while it is exclusively
    held: the request is refused for what it is, not for what is held."""
    with bf.acquire(locked, EXCLUSIVE):
        with pytest.raises(BufferError) as info:
            bf.acquire(locked, flags)
    assert info.type is BufferError
    assert_fresh(locked, DATA)


@pytest.mark.exclusive
@pytest.mark.parametrize("kwargs", [{}, {"immutable": True}, {"exclusive": True},
                                    {"writable": True}],
                         ids=["plain", "immutable", "exclusive", "writable"])
def test_view_conflict_is_a_buffer_conflict_error(locked, kwargs):
    with bf.view(locked, exclusive=True, writable=True):
        with pytest.raises(BufferError) as info:
            bf.view(locked, **kwargs)
    assert info.type is bf.BufferConflictError
    assert_fresh(locked, DATA)


@pytest.mark.exclusive
@pytest.mark.parametrize("kwargs", [{"immutable": True}, {"exclusive": True}],
                         ids=["immutable", "exclusive"])
def test_fallback_copy_does_not_hide_a_conflict(locked, kwargs):
    """fallback='copy' is for types that cannot promise; a conflict still
    raises, as a BufferConflictError."""
    with bf.view(locked, exclusive=True):
        with pytest.raises(BufferError) as info:
            bf.view(locked, fallback="copy", **kwargs)
    assert info.type is bf.BufferConflictError
    assert_fresh(locked, DATA)


def test_resize_while_a_read_is_in_progress(locked):
    """A read in progress is held state: the resize its callback tries is a
    conflict (worded as today's resize refusal on the shim, §7.3)."""
    seen = []

    def resize():
        with pytest.raises(BufferError) as info:
            locked.append(1)
        seen.append(info.value)

    while_reading(locked, resize)
    [refusal] = seen
    assert type(refusal) is conflict_class(str(refusal))
    assert_fresh(locked, DATA)


def test_conflict_is_caught_as_buffer_error(locked):
    """Code written for today's BufferError keeps working."""
    with bf.view(locked, immutable=True):
        try:
            locked[0] = 0
        except BufferError as e:
            assert isinstance(e, bf.BufferConflictError)
        else:
            pytest.fail("not refused")
    assert_fresh(locked, DATA)
