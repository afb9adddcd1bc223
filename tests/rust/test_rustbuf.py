"""examples/rust (issue 18): a Rust consumer whose `&[u8]` and `&mut [u8]` are made sound by
PyBUF_IMMUTABLE and PyBUF_EXCLUSIVE, on stock CPython through the capsule and natively.

The module is built by tools/rust-example.sh (make test-rust passes it as RUSTBUF_MODULE);
run alone, this file builds it the same way, and is skipped, saying why, where cargo or
Debian's crate packages cannot be had.
"""
import array
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

import bufferflags as bf

ROOT = Path(__file__).resolve().parents[2]
SKIP = 77

#: Locked types (semantics.md §3): LockingBytearray on the shim; natively bytearray and
#: array.array are locked too.
KINDS = ["LockingBytearray"] + (["bytearray", "array"] if bf.NATIVE else [])
#: Refused on stock CPython: types that cannot keep either flag (§2 rule 3, §7.3).
STOCK_UNSUPPORTED = ["bytearray", "array"]

N = 1 << 22          # 4 MiB: hashing or filling it takes long enough for the threads to try
DEADLINE = 60.0      # seconds a race test may take to see every refusal it waits for


def _load(path):
    loader = importlib.machinery.ExtensionFileLoader("rustbuf", path)
    spec = importlib.util.spec_from_file_location("rustbuf", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rb():
    path = os.environ.get("RUSTBUF_MODULE")
    if not path:
        done = subprocess.run([str(ROOT / "tools" / "rust-example.sh"), "build", sys.executable],
                              capture_output=True, text=True)
        if done.returncode == SKIP:
            reason = ("the Rust example (examples/rust) is NOT tested: "
                      + done.stderr.strip().splitlines()[-1])
            warnings.warn(reason)
            pytest.skip(reason)
        assert done.returncode == 0, done.stderr
        path = done.stdout.strip().splitlines()[-1]
    return _load(path)


def make(kind, data):
    if kind == "LockingBytearray":
        return bf.LockingBytearray(data)
    if kind == "bytearray":
        return bytearray(data)
    return array.array("B", data)


def source(kind, data):
    """What `obj[:] = ...` takes for this kind (same length: an in-place write)."""
    return array.array("B", data) if kind == "array" else bytes(data)


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def assert_fresh(obj, kind, data):
    """Nothing is held: the object reads, writes, exports every way and resizes again."""
    assert bytes(obj) == data
    with bf.view(obj, exclusive=True, writable=True) as mine:
        mine[0] = mine[0]
    with bf.view(obj, immutable=True):
        pass
    with memoryview(obj) as m:
        m[0] = data[0]
    obj.append(1)
    assert obj.pop() == 1
    assert bytes(obj) == data


def conflict(exc, match):
    """A refusal because of what is held: BufferConflictError (§6), with its message."""
    assert isinstance(exc, bf.BufferConflictError), repr(exc)
    assert re.search(match, str(exc)), str(exc)


def test_backend(rb):
    assert rb.backend() == ("native" if bf.NATIVE else "capsule")


@pytest.mark.parametrize("kind", KINDS)
def test_digest_and_fill(rb, kind):
    data = bytes(range(256)) * 3
    obj = make(kind, data)
    assert rb.digest(obj) == fnv1a(data) == rb.digest(data)
    assert rb.digest(make(kind, b"")) == fnv1a(b"")
    assert rb.fill(obj, 0x5A) == len(data)
    assert bytes(obj) == b"\x5a" * len(data)
    assert rb.fill(make(kind, b""), 1) == 0
    assert_fresh(obj, kind, b"\x5a" * len(data))


@pytest.mark.parametrize("kind", KINDS)
def test_refused_while_held(rb, kind):
    """Each function is refused, as a BufferConflictError, by what conflicts with its request
    (§3.1), and the refusal leaves nothing held."""
    obj = make(kind, b"payload")
    t = kind
    with bf.view(obj, exclusive=True, writable=True):
        for call in (lambda: rb.digest(obj), lambda: rb.fill(obj, 1)):
            with pytest.raises(BufferError) as e:
                call()
            conflict(e.value, t + r": cannot export PyBUF_(IMMUTABLE|EXCLUSIVE) while an "
                                  r"exclusive export is held")
    with bf.view(obj, immutable=True):
        assert rb.digest(obj) == fnv1a(b"payload")            # readers share
        with pytest.raises(BufferError) as e:
            rb.fill(obj, 1)
        conflict(e.value, t + ": cannot export PyBUF_EXCLUSIVE while 1 immutable export is held")
    with memoryview(obj):                                    # a plain (writable) export
        with pytest.raises(BufferError) as e:
            rb.digest(obj)
        conflict(e.value, t + ": cannot export PyBUF_IMMUTABLE while 1 writable export is held")
        with pytest.raises(BufferError) as e:
            rb.fill(obj, 1)
        conflict(e.value, t + ": cannot export PyBUF_EXCLUSIVE while 1 writable export is held")
    assert_fresh(obj, kind, b"payload")


@pytest.mark.parametrize("kind", STOCK_UNSUPPORTED)
def test_stock_types_fail_closed(rb, kind):
    """A plain bytearray or array on stock CPython cannot keep either promise: both functions
    refuse it with exactly BufferError (§2 rule 3, §6), and never touch it. Natively these types
    are locked and granted."""
    data = b"payload"
    obj = bytearray(data) if kind == "bytearray" else array.array("B", data)
    if bf.NATIVE:
        assert rb.digest(obj) == fnv1a(data)
        assert rb.fill(obj, 0x41) == len(data) and bytes(obj) == b"A" * len(data)
        return
    with pytest.raises(BufferError) as e:
        rb.digest(obj)
    assert type(e.value) is BufferError
    assert str(e.value) == f"{kind} does not support PyBUF_IMMUTABLE (supported: none)"
    with pytest.raises(BufferError) as e:
        rb.fill(obj, 0x41)
    assert type(e.value) is BufferError
    assert str(e.value) == f"{kind} does not support PyBUF_EXCLUSIVE (supported: none)"
    assert bytes(obj) == data


def test_bytes_and_bad_arguments(rb):
    assert rb.digest(b"payload") == fnv1a(b"payload")        # bytes supports IMMUTABLE
    with pytest.raises(BufferError) as e:
        rb.fill(b"payload", 1)
    assert type(e.value) is BufferError
    assert str(e.value) == "bytes does not support PyBUF_EXCLUSIVE (supported: PyBUF_IMMUTABLE)"
    with pytest.raises(TypeError):
        rb.digest(42)
    with pytest.raises(TypeError):
        rb.fill(bf.LockingBytearray(b"x"))
    with pytest.raises(TypeError):
        rb.fill(bf.LockingBytearray(b"x"), "a")
    for byte in (-1, 256, 1 << 70):
        with pytest.raises((ValueError, OverflowError)):
            rb.fill(bf.LockingBytearray(b"x"), byte)


def test_fill_converts_its_argument_first(rb):
    """Arguments first (§3.2): the byte's __index__ runs before fill's request, so an export it
    takes and keeps is granted, and fill is then refused by it."""
    obj = bf.LockingBytearray(b"payload")
    kept = []

    class Byte:
        def __index__(self):
            kept.append(bf.view(obj, immutable=True))
            return 0x41

    with pytest.raises(BufferError) as e:
        rb.fill(obj, Byte())
    conflict(e.value, "cannot export PyBUF_EXCLUSIVE while 1 immutable export is held")
    kept.pop().release()
    assert bytes(obj) == b"payload"
    assert rb.fill(obj, 0x41) == 7
    assert_fresh(obj, "LockingBytearray", b"A" * 7)


def _threads(target, count):
    stop = threading.Event()
    errors = []

    def run(i):
        try:
            target(i, stop)
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for th in threads:
        th.start()
    return stop, threads, errors


@pytest.mark.parametrize("kind", KINDS)
def test_digest_under_writer_threads(rb, kind):
    """While digest hashes with the GIL released, writer threads run and are refused (§3.2:
    in-place writes refused in IMMUTABLE mode), and every digest is the digest of the bytes of
    one moment: of one whole value, never of a mix."""
    values = (0, 1, 2)
    sources = {v: source(kind, bytes([v]) * N) for v in values}
    expected = {rb.digest(bytes([v]) * N): v for v in values}
    assert len(expected) == len(values)
    obj = make(kind, bytes([0]) * N)
    refused, written = [], [0]

    def writer(i, stop):
        src = sources[values[1 + i % 2]]
        while not stop.is_set():
            try:
                obj[:] = src
                written[0] += 1
            except BufferError as e:
                refused.append(e)

    stop, threads, errors = _threads(writer, 2)
    seen, rounds, end = set(), 0, time.monotonic() + DEADLINE
    try:
        while (not refused or not seen - {0}) and time.monotonic() < end:
            try:
                d = rb.digest(obj)
            except BufferError as e:      # a writer's own write is in progress (§3.1)
                conflict(e, "cannot export PyBUF_IMMUTABLE while")
                continue
            assert d in expected, "digest of bytes no single moment had (a torn buffer)"
            seen.add(expected[d])
            rounds += 1
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert not errors, errors
    assert refused, f"no writer ran while digest held the buffer ({rounds} digests): " \
                    "was the GIL released?"
    for e in refused:
        conflict(e, "cannot modify while 1 immutable export is held")
    assert written[0] and seen - {0}, (written, seen)   # the writers did change it between
    assert_fresh(obj, kind, bytes(obj))


@pytest.mark.parametrize("kind", KINDS)
def test_fill_excludes_readers_writers_exporters(rb, kind):
    """While fill writes with the GIL released, every other access is refused (§3.1/§3.2
    EXCLUSIVE): own reads, writes, plain and immutable exports; whatever succeeds sees a whole
    value, never a half-filled buffer."""
    obj = make(kind, bytes([0]) * N)
    srcs = {v: source(kind, bytes([v]) * N) for v in (7, 8)}
    refused = {"read": [], "snapshot": [], "write": [], "export": [], "immutable": []}
    torn = []

    def read():
        obj[N // 2]

    def snapshot():
        # Through an immutable view: a plain bytes(obj) may race the other thread's plain
        # write (both allowed in SHARED mode, §7.4), which is not what is tested here.
        with bf.view(obj, immutable=True) as v:
            s = bytes(v)
        if s.count(s[:1]) != len(s):
            torn.append(s[:1])

    def write(v):
        obj[:] = srcs[v]

    def export():
        with memoryview(obj):
            pass

    def immutable():
        with bf.view(obj, immutable=True):
            pass

    def other(i, stop):
        ops = [("read", read), ("snapshot", snapshot), ("write", lambda: write(7 + i % 2)),
               ("export", export), ("immutable", immutable)]
        while not stop.is_set():
            for name, op in ops:
                try:
                    op()
                except BufferError as e:
                    # Refused by fill's exclusive export, or by what the other thread holds
                    # (both threads run at once on free-threaded builds, and a GIL switch can
                    # fall inside a `with`): a conflict either way.
                    conflict(e, "cannot")
                    if "exclusive export is held" in str(e):
                        refused[name].append(e)

    stop, threads, errors = _threads(other, 2)
    rounds, end = 0, time.monotonic() + DEADLINE
    try:
        while (not all(refused.values())) and time.monotonic() < end:
            try:
                assert rb.fill(obj, 1 + rounds % 3) == N
            except BufferError as e:      # another thread holds something: fail fast (§7.7)
                conflict(e, "cannot export PyBUF_EXCLUSIVE while")
            rounds += 1
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert not errors, errors
    assert not torn, "a reader saw a half-filled buffer"
    missing = [name for name, got in refused.items() if not got]
    assert not missing, f"never refused while fill ran ({rounds} fills): {missing}"
    for name, got in refused.items():
        for e in got:
            conflict(e, "cannot (read|modify|export (a buffer|PyBUF_IMMUTABLE)) while an "
                        "exclusive export is held")
    assert rb.fill(obj, 0x33) == N
    assert bytes(obj) == b"\x33" * N
    assert_fresh(obj, kind, b"\x33" * N)


def test_readme_rust_is_the_example():
    """The Rust the README's "From Rust" section shows is examples/rust, verbatim."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## From Rust", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```rust\n(.*?)```", section, re.S)
    assert blocks
    sources = "".join(p.read_text() for p in (ROOT / "examples" / "rust" / "src").glob("*.rs"))
    for block in blocks:
        assert block in sources, block
