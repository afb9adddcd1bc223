"""Instructions per operation on the paths a change to the series touched,
counted the same way as bench/instructions.py (cachegrind, PYTHONHASHSEED=0,
net of an empty loop), for a few interpreters side by side.

Why: patches 0018-0020 changed operations that bench/instructions.py does
not count (iteration, array searches, strip, buffered reads through a Python
raw stream, a codec's decode, compile of bytearray source).  Their price is
measured here, not assumed small.

    python3 bench/touched_paths.py [--paths 0023] OUT.md NAME=PYTHON [NAME=PYTHON ...]

--paths 0023: the flagged requests patch 0023 changed (the declaration walk
that stops at the first class made in C, the cap, the SystemError
postcondition), on interpreters of the series only (stock refuses nothing).
"""
from __future__ import annotations

import sys

from instructions import count

__all__ = ["TOUCHED", "TOUCHED_0023", "main"]

LOOPS = 5_000

# Setup is one line inside the counted function (bench/instructions.py's
# template): multi-line definitions go through exec().
_RAW = ("ns = dict(); exec(%r, ns); Raw = ns['Raw']; import io" % (
    "import io\n"
    "class Raw(io.RawIOBase):\n"
    "    def readable(self): return True\n"
    "    def readinto(self, b): b[:] = bytes(len(b)); return len(b)\n"))
_CODEC = ("import codecs; codecs.register(lambda name: codecs.CodecInfo("
          "codecs.latin_1_encode, codecs.latin_1_decode, name=name) "
          "if name == 'bench_py_latin1' else None); ")

#: (name, setup, statement)
TOUCHED: list[tuple[str, str, str]] = [
    ("list(ba) (64 bytes)", "ba = bytearray(64)", "list(ba)"),
    ("list(a) (array, 64 items)", "import array; a = array.array('B', bytes(64))", "list(a)"),
    ("a.count(1) (64 items)", "import array; a = array.array('B', bytes(64))", "a.count(1)"),
    ("1 in a (64 items)", "import array; a = array.array('B', bytes(64))", "1 in a"),
    ("ba.strip(b' ')", "ba = bytearray(b' ' + bytes(62) + b' ')", "ba.strip(b' ')"),
    ("ba + b'x'", "ba = bytearray(64)", "ba + b'x'"),
    ("BufferedReader(raw).read(256)", _RAW, "io.BufferedReader(Raw(), 64).read(256)"),
    ("ba.decode(Python codec)", _CODEC + "ba = bytearray(64)", "ba.decode('bench_py_latin1')"),
    ("exec(bytearray source)", "src = bytearray(b'x = 1')", "exec(src)"),
]

_REQUEST = "m = memoryview._from_flags(%s, 0x51C); m.release()"   # FULL_RO|IMMUTABLE
TOUCHED_0023: list[tuple[str, str, str]] = [
    ("memoryview(ba) (unflagged)", "ba = bytearray(64)", "memoryview(ba).release()"),
    ("IMMUTABLE request, bytearray", "ba = bytearray(64)", _REQUEST % "ba"),
    ("IMMUTABLE request, array.array", "import array; a = array.array('B', bytes(64))",
     _REQUEST % "a"),
    ("IMMUTABLE request, class S(bytearray)",
     "S = type('S', (bytearray,), {}); s = S(64)", _REQUEST % "s"),
    ("IMMUTABLE request, declaring class B(bytes)",
     "B = type('B', (bytes,), {'__buffer_flags__': 0x400}); b = B(64)", _REQUEST % "b"),
    ("IMMUTABLE request refused, class P(object)",
     "ns = dict(); exec(%r, ns); refuse = ns['refuse']" % (
         "class P:\n"
         "    def __buffer__(self, flags): return memoryview(b'x')\n"
         "def refuse(p=P()):\n"
         "    try:\n"
         "        memoryview._from_flags(p, 0x51C)\n"
         "    except BufferError:\n"
         "        pass\n"),
     "refuse()"),
]
PATHS = {"0020": TOUCHED, "0023": TOUCHED_0023}


def main(argv: list[str]) -> int:
    touched = TOUCHED
    if len(argv) > 2 and argv[1] == "--paths":
        touched = PATHS[argv[2]]
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, pairs = argv[1], [a.split("=", 1) for a in argv[2:]]
    counts = {name: {} for name, _ in pairs}
    for op, setup, stmt in touched:
        for name, python in pairs:
            counts[name][op] = count(python, setup, stmt, LOOPS)[0]
            print(f"{name:14} {op:34} {counts[name][op]:.1f}", file=sys.stderr)
    names = [name for name, _ in pairs]
    first = names[0]
    lines = ["| operation | " + " | ".join(names) + " | "
             + " | ".join(f"{n} / {first}" for n in names[1:]) + " |",
             "|---|" + "---:|" * (2 * len(names) - 1)]
    for op, _, _ in touched:
        row = [f"{counts[n][op]:.1f}" for n in names]
        row += [f"{counts[n][op] / counts[first][op]:.3f}" for n in names[1:]]
        lines.append(f"| `{op}` | " + " | ".join(row) + " |")
    with open(out, "w") as f:
        f.write(f"Instructions per operation ({LOOPS} loops, PYTHONHASHSEED=0, net of "
                "an empty loop; `bench/touched_paths.py`).\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
