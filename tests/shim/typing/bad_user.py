"""Misuse each type checker must catch: every line with an error comment is
reported (tests/shim/test_typing.py), and no other."""
from __future__ import annotations

from bufferflags import LockingBytearray, acquire, view

view(42)  # error: an int is not a buffer
view("text")  # error: a str is not a buffer
view(b"x", fallback="cpoy")  # error: not a fallback
view(b"x", immutable="yes")  # error: not a bool
acquire([1, 2], 0)  # error: a list is not a buffer
count: int = LockingBytearray(b"x")  # error: not an int
text: str = view(b"x")  # error: a memoryview
