#!/usr/bin/env python3
"""A writer thread and a hashing thread share one buffer, as in a real program.

    python tools/race_demo.py                      # stock venv with bufferflags installed
    PYTHONPATH=shim build/cpython/patched/bin/python3 tools/race_demo.py

Two threads share the buffer and nothing else.  The writer keeps replacing
its contents, every millisecond or so, with A (all 0x00) or B (all 0xff) by a
same-length slice assignment, which a bytearray allows while it is exported.
The reader computes hashlib.sha256 of it every few milliseconds;
hashlib releases the GIL while it reads a buffer of 2 KiB or more (a
free-threaded build has no GIL to release).  Both start on their own: no
event ties a write to a hash.

The buffer only ever holds A or B, so a digest of one moment's bytes is
sha256(A) or sha256(B).  Any other digest was computed over bytes of both.

Phase 1 (unsafe): the reader hashes a plain memoryview of the buffer, until
it sees such a torn digest or its bound runs out, and says which.
Phase 2 (safe): the reader hashes bufferflags.view(data, immutable=True).
While that view is held the writer's assignment raises BufferConflictError;
the writer does what a writer should: waits a moment and retries
(write_when_free below), so its write lands between two hashes.  A writer
that cannot wait can queue the write for the holder to apply after release.
The writer code is the same in both phases; only the reader changes.

The buffer is a bytearray where the interpreter locks bytearray
(bufferflags.NATIVE) and a bufferflags.LockingBytearray on stock CPython, in
both phases: a plain memoryview promises nothing on either.

Exit status: 0 when phase 2 saw no torn digest, 1 when it saw one.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import sysconfig
import threading
import time

import bufferflags
from bufferflags import BufferConflictError, view


def write_when_free(data, payload: bytes, stop: threading.Event, stats: dict) -> bool:
    """data[:] = payload, waiting and retrying while another holder refuses it.

    Returns False if told to stop before the write could be made."""
    wait = 0.0005
    while not stop.is_set():
        try:
            data[:] = payload                    # same length: in place
            return True
        except BufferConflictError as exc:       # someone holds it: not an error, retry
            stats["refused"] += 1
            stats.setdefault("example", exc)
            time.sleep(wait)
            wait = min(wait * 2, 0.005)
    return False


def writer(data, states: list[bytes], stop: threading.Event, stats: dict) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        if write_when_free(data, states[n % 2], stop, stats):
            stats["writes"] += 1
            stats["last"] = n % 2
        stop.wait(0.001)


def reader(data, protected: bool, hashes: int, seconds: float, stop_on_torn: bool,
           digests: dict[bytes, str], result: dict) -> None:
    start = time.monotonic()
    counts = result["counts"]
    while sum(counts.values()) < hashes and time.monotonic() - start < seconds:
        if protected:
            with view(data, immutable=True) as frozen:
                digest = hashlib.sha256(frozen).digest()
        else:
            with memoryview(data) as plain:
                digest = hashlib.sha256(plain).digest()
        name = digests.get(digest, "torn")
        counts[name] += 1
        if name == "torn":
            result.setdefault("torn", digest)
            if stop_on_torn:
                break
        time.sleep(0.005)
    result["seconds"] = time.monotonic() - start


def run(data, states, digests, protected: bool, hashes: int, seconds: float) -> tuple[dict, dict]:
    stop = threading.Event()
    stats = {"writes": 0, "refused": 0, "last": 0}
    result: dict = {"counts": {"A": 0, "B": 0, "torn": 0}}
    w = threading.Thread(target=writer, args=(data, states, stop, stats), daemon=True)
    r = threading.Thread(target=reader, daemon=True,
                         args=(data, protected, hashes, seconds, not protected, digests, result))
    w.start()
    r.start()
    r.join()
    stop.set()
    w.join()
    return result, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=16, help="buffer size in MiB (default 16)")
    parser.add_argument("--hashes", type=int, default=200,
                        help="phase 1: hashes at most, until a torn one (default 200)")
    parser.add_argument("--safe-hashes", type=int, default=30,
                        help="phase 2: hashes (default 30)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="time bound of each phase (default 20)")
    args = parser.parse_args()

    size = args.mib << 20
    states = [bytes(size), b"\xff" * size]
    digests = {hashlib.sha256(states[0]).digest(): "A", hashlib.sha256(states[1]).digest(): "B"}
    short = {name: d.hex()[:16] for d, name in digests.items()}
    kind = bytearray if bufferflags.NATIVE else bufferflags.LockingBytearray
    ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    print(f"python {sys.version.split()[0]}, {'free-threaded' if ft else 'GIL'} build, "
          f"bufferflags.NATIVE={bufferflags.NATIVE}; data: a {kind.__name__} of {args.mib} MiB")
    print(f"its only states: A (all 0x00, sha256 {short['A']}...) and B (all 0xff, sha256 {short['B']}...)")
    print("writer thread: data[:] = A or B about every 1 ms, retrying after a short wait on BufferConflictError")

    print("\nphase 1, unsafe: reader thread hashes hashlib.sha256(memoryview(data))")
    data = kind(states[0])
    result, stats = run(data, states, digests, False, args.hashes, args.seconds)
    counts, n = result["counts"], sum(result["counts"].values())
    if counts["torn"]:
        print(f"  RACE on hash {n} ({result['seconds']:.2f} s, {stats['writes']} writes so far): "
              f"digest {result['torn'].hex()[:16]}... is neither A's nor B's: "
              f"the hash read bytes of both")
    else:
        print(f"  no torn digest in {n} hashes ({result['seconds']:.2f} s, {stats['writes']} writes): "
              f"the race was not caught within the bound this time")
    print(f"  digests: {counts['A']} A, {counts['B']} B, {counts['torn']} torn")

    print("\nphase 2, safe: reader thread hashes hashlib.sha256(view(data, immutable=True))")
    data = kind(states[0])
    result, stats = run(data, states, digests, True, args.safe_hashes, args.seconds)
    counts, n = result["counts"], sum(result["counts"].values())
    print(f"  digests: {counts['A']} A, {counts['B']} B, {counts['torn']} torn "
          f"({n} hashes, {result['seconds']:.2f} s)")
    example = stats.get("example")
    print(f"  writer: {stats['writes']} writes made, {stats['refused']} refusals retried"
          + (f" ({type(example).__name__}: {example})" if example else ""))
    final = digests.get(hashlib.sha256(data).digest(), "torn")
    print(f"  final contents: {final}; the writer's last write was {'AB'[stats['last']]}")
    if counts["torn"] or final != "AB"[stats["last"]]:
        print("  FAILED: a digest or the final contents match no state the buffer was in")
        return 1
    print("  ok: every digest is that of a state the buffer was in; the final contents are the last write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
