"""A terminal walk through mutable-XOR-shared (make demo)."""
import hashlib

import bufferflags
from bufferflags import LockingBytearray, view


def attempt(label: str, action) -> None:
    try:
        action()
    except (BufferError, TypeError) as exc:
        print(f"  {label:<34} refused: {type(exc).__name__}: {exc}")
    else:
        print(f"  {label:<34} allowed")


def main() -> None:
    print(f"bufferflags native={bufferflags.NATIVE}")
    data = LockingBytearray(b"mutable XOR shared")
    print(f"\nsupported_flags(LockingBytearray) = {bufferflags.supported_flags(data)!r}")
    print(f"supported_flags(bytearray)        = {bufferflags.supported_flags(bytearray())!r}")

    print("\nwhile an immutable view is held:")
    with view(data, immutable=True) as frozen:
        digest = hashlib.sha256(frozen).hexdigest()[:16]
        attempt("data[0] = 77", lambda: data.__setitem__(0, 77))
        attempt("data.append(33)", lambda: data.append(33))
        attempt("data.reverse()", data.reverse)
        attempt("memoryview(data)[0] = 77", lambda: memoryview(data).__setitem__(0, 77))
        attempt("second immutable view", lambda: view(data, immutable=True).release())
        attempt("data.find(b'XOR')", lambda: data.find(b"XOR"))
        assert hashlib.sha256(frozen).hexdigest()[:16] == digest
        print(f"  sha256 unchanged: {digest}")

    print("\nwhile an exclusive writable view is held:")
    with view(data, exclusive=True, writable=True) as mine:
        mine[0] = ord("M")
        attempt("data.find(b'XOR')", lambda: data.find(b"XOR"))
        attempt("bytes(data)", lambda: bytes(data))
        attempt("len(data)", lambda: len(data))
    print(f"\nafter release: {data!r}")
    data.append(ord("!"))
    print(f"writes work again: {data!r}")

    print("\na bytearray cannot promise immutability on a stock interpreter:")
    attempt("view(bytearray(), immutable=True)",
            lambda: view(bytearray(b"x"), immutable=True))
    with view(bytearray(b"copied"), immutable=True, fallback="copy") as copy:
        print(f"  fallback='copy' gives {copy.tobytes()!r}")


if __name__ == "__main__":
    main()
