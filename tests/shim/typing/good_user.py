"""A user script that uses bufferflags as documented: mypy --strict and
pyright report nothing (tests/shim/test_typing.py)."""
from __future__ import annotations

import hashlib

import bufferflags
from bufferflags import (
    EXCLUSIVE,
    IMMUTABLE,
    BufferConflictError,
    BufferFlags,
    LockingBytearray,
    acquire,
    supported_flags,
    view,
)


class Retry(BufferConflictError):
    """Subclassing the conflict class: a real class to type checkers."""


def digest(data: LockingBytearray) -> str:
    try:
        with view(data, immutable=True) as frozen:
            return hashlib.sha256(frozen).hexdigest()
    except BufferConflictError as e:
        raise Retry(str(e)) from e


def main() -> None:
    data = LockingBytearray(b"payload")
    data[0] = 0x50
    copy: bytearray = data                       # a bytearray subclass
    print(digest(data), len(copy))
    with view(data, exclusive=True, writable=True) as mine:
        mine[0] = 0x70
    with view(bytearray(b"x"), immutable=True, fallback="copy") as private:
        print(private.tobytes())
    with view(memoryview(b"xy")) as plain:
        print(plain.readonly)
    with acquire(b"abc", IMMUTABLE | BufferFlags.FORMAT) as raw:
        print(raw.readonly)
    flags: BufferFlags = supported_flags(data)
    if flags & EXCLUSIVE:
        print("exclusive")
    include: str = bufferflags.get_include()
    native: bool = bufferflags.NATIVE
    implemented: BufferFlags = bufferflags.IMPLEMENTED
    if implemented & EXCLUSIVE:
        print("this interpreter implements PyBUF_EXCLUSIVE")
    version: str = bufferflags.__version__
    print(include, native, version)
    class Frozen(bytes):
        __buffer_flags__ = int(IMMUTABLE)

    bufferflags.register(Frozen, IMMUTABLE)      # confirms the class body


if __name__ == "__main__":
    main()
