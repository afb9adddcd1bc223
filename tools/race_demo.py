#!/usr/bin/env python3
"""A real standard-library race, and the same code made safe with an immutable view.

    python tools/race_demo.py                      # stock venv with bufferflags installed
    PYTHONPATH=shim build/cpython/patched/bin/python3 tools/race_demo.py

hashlib.sha256() releases the GIL while it reads a buffer of 2 KiB or more.
Meanwhile another thread overwrites the first and the last MiB of the
bytearray in place (same-length slice assignments, which stock CPython allows
while the buffer is exported).  The digest then matches neither the old
contents nor the new ones: the hash read the old head and the new tail.

Phase 1 ("unprotected") hashes the object directly and retries until it sees
such a torn digest or its time runs out.  Phase 2 ("protected") runs the same
number of attempts, hashing through bufferflags.view(data, immutable=True):
while the view is held the writer's assignment is refused, so every digest is
the digest of the old contents.

Phase 1 hashes a plain bytearray everywhere.  Phase 2 hashes a plain
bytearray on an interpreter with native support (bufferflags.NATIVE) and a
bufferflags.LockingBytearray on stock CPython, where a plain bytearray cannot
promise immutability (view() refuses it: fail closed).

Exit status: 0 when phase 2 saw no torn digest (whether or not phase 1 caught
the race in time), 1 when phase 2 saw one.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import sysconfig
import threading
import time

import bufferflags
from bufferflags import view


def make(contents: bytes) -> bytearray:
    kind = bytearray if bufferflags.NATIVE else bufferflags.LockingBytearray
    return kind(contents)


class Writer(threading.Thread):
    """Overwrites the head and the tail of data once per round, as soon as it starts."""

    def __init__(self, data: bytearray, tail: bytes) -> None:
        super().__init__(daemon=True)
        self.data, self.tail = data, tail
        self.write_count = 0
        self.go = threading.Event()
        self.done = threading.Event()
        self.stop = False
        self.refusal: BaseException | None = None

    def run(self) -> None:
        while True:
            self.go.wait()
            self.go.clear()
            if self.stop:
                return
            self.refusal = None
            try:
                n = len(self.tail)
                self.data[:n] = self.tail        # in place: same length
                self.data[-n:] = self.tail
                self.write_count += 1
            except BufferError as exc:           # BufferConflictError is a subclass
                self.refusal = exc
            self.done.set()


def one_round(data: bytearray, old: bytes, writer: Writer, protected: bool) -> tuple[str, BaseException | None]:
    data[:] = old                                # no view is held here
    writer.done.clear()
    writer.go.set()
    if protected:
        with view(data, immutable=True) as frozen:
            digest = hashlib.sha256(frozen).digest()
    else:
        digest = hashlib.sha256(data).digest()
    writer.done.wait()
    return digest, writer.refusal


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=32, help="buffer size in MiB, at least 3 (default 32)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="time bound of the unprotected phase (default 20)")
    parser.add_argument("--min-protected", type=int, default=20,
                        help="attempts of the protected phase at least (default 20)")
    args = parser.parse_args()

    size = args.mib << 20
    tail = b"\xff" * (1 << 20)
    old = bytes(size)
    new = tail + old[len(tail):-len(tail)] + tail
    d_old, d_new = hashlib.sha256(old).digest(), hashlib.sha256(new).digest()
    d_mixed = hashlib.sha256(old[:-len(tail)] + tail).digest()   # old head, new tail
    data = bytearray(old)
    ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    print(f"python {sys.version.split()[0]} ({sys.executable}), "
          f"{'free-threaded' if ft else 'GIL'} build, bufferflags.NATIVE={bufferflags.NATIVE}")
    print(f"buffer: {args.mib} MiB; consumer: hashlib.sha256 "
          f"(GIL released while it reads); writer: data[:1 MiB] = data[-1 MiB:] = <1 MiB of 0xff> from another thread")
    if not bufferflags.NATIVE:
        try:
            view(bytearray(1), immutable=True).release()
        except BufferError as exc:
            print(f"(a plain bytearray here: view(bytearray, immutable=True) -> "
                  f"{type(exc).__name__}: {exc.args[0].split(';')[0]})")

    writer = Writer(data, tail)
    writer.start()

    print(f"\nphase 1, unprotected: hashlib.sha256(data), data a {type(data).__name__}")
    counts = {"old": 0, "new": 0, "torn": 0}
    attempts, start = 0, time.monotonic()
    while time.monotonic() - start < args.seconds:
        attempts += 1
        digest, _ = one_round(data, old, writer, protected=False)
        kind = "old" if digest == d_old else "new" if digest == d_new else "torn"
        counts[kind] += 1
        if kind == "torn":
            break
    elapsed = time.monotonic() - start
    if counts["torn"]:
        print(f"  RACE after {attempts} attempt(s), {elapsed:.2f} s: digest {digest.hex()[:16]}... "
              f"matches neither the old contents ({d_old.hex()[:16]}...) nor the new ones "
              f"({d_new.hex()[:16]}...)")
        if digest == d_mixed:
            print("  it is the digest of the old head followed by the new tail: "
                  "the hash read both versions")
    else:
        print(f"  no torn digest in {attempts} attempts ({elapsed:.2f} s); race not caught this time")
    print(f"  outcomes: {counts['old']} old, {counts['new']} new, {counts['torn']} torn")

    writer.stop = True
    writer.go.set()
    writer.join()

    rounds = max(attempts, args.min_protected)
    data = make(old)
    writer = Writer(data, tail)
    writer.start()
    print(f"\nphase 2, protected: with bufferflags.view(data, immutable=True) as frozen: "
          f"hashlib.sha256(frozen), data a {type(data).__name__}  ({rounds} attempts)")
    counts = {"old": 0, "new": 0, "torn": 0}
    refused, example = 0, None
    start = time.monotonic()
    for _ in range(rounds):
        digest, refusal = one_round(data, old, writer, protected=True)
        kind = "old" if digest == d_old else "new" if digest == d_new else "torn"
        counts[kind] += 1
        if refusal is not None:
            refused += 1
            example = example or refusal
    elapsed = time.monotonic() - start
    print(f"  outcomes: {counts['old']} old, {counts['new']} new, {counts['torn']} torn ({elapsed:.2f} s)")
    print(f"  writer refused in {refused} of {rounds} attempts"
          + (f": {type(example).__name__}: {example}" if example else ""))
    if writer.write_count:
        print(f"  ({writer.write_count} writes came after the view was released and succeeded)")
    writer.stop = True
    writer.go.set()
    writer.join()
    if counts["torn"]:
        print("  FAILED: a protected hash read a write made while its view was held")
        return 1
    print("  ok: no torn digest; every digest is that of the contents the view was taken of")
    return 0


if __name__ == "__main__":
    sys.exit(main())
