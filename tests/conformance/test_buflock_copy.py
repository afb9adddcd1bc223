"""§4: the transition function is written once.  The CPython patch series
carries Include/internal/pycore_buflock.h, which must be byte-identical to
shim/bufferflags/_buflock.h.  The file is rebuilt from the series (a new-file
diff, plus any later patch modifying it) and compared byte for byte."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHIM_HEADER = ROOT / "shim" / "bufferflags" / "_buflock.h"
PATCH_DIR = ROOT / "cpython-patch"
TARGET = b"Include/internal/pycore_buflock.h"

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _file_diffs(patch_bytes):
    """Yield (old_path, new_path, lines) for every file diff in a patch."""
    lines = patch_bytes.split(b"\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(b"diff --git ")]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        chunk = lines[start:end]
        old = new = None
        for line in chunk:
            if line.startswith(b"--- "):
                old = line[4:].split(b"\t")[0]
            elif line.startswith(b"+++ "):
                new = line[4:].split(b"\t")[0]
                break
        yield old, new, chunk


def _apply(old_lines, chunk):
    """Apply the hunks of one file diff to old_lines (list of bytes lines,
    each without its newline; `eof_newline` tracked separately)."""
    out, pos, i = [], 0, 0
    eof_newline = True
    while i < len(chunk) and not chunk[i].startswith(b"@@"):
        i += 1
    while i < len(chunk):
        m = _HUNK.match(chunk[i])
        if not m:
            i += 1
            continue
        old_start = int(m.group(1))
        old_len = int(m.group(2)) if m.group(2) is not None else 1
        new_len = int(m.group(4)) if m.group(4) is not None else 1
        take_to = old_start - 1 if old_len else old_start
        out.extend(old_lines[pos:take_to])
        pos = take_to
        i += 1
        seen_old = seen_new = 0
        while i < len(chunk) and (seen_old < old_len or seen_new < new_len
                                  or chunk[i].startswith(b"\\")):
            line = chunk[i]
            if line.startswith(b"\\"):          # "\ No newline at end of file"
                eof_newline = False
            elif line.startswith(b"+"):
                out.append(line[1:])
                seen_new += 1
            elif line.startswith(b"-"):
                assert old_lines[pos] == line[1:], "patch does not apply"
                pos += 1
                seen_old += 1
            else:                                 # context
                assert old_lines[pos] == line[1:], "patch does not apply"
                out.append(old_lines[pos])
                pos += 1
                seen_old += 1
                seen_new += 1
            i += 1
    out.extend(old_lines[pos:])
    return out, eof_newline


def series_copy():
    """The header as the series leaves it, or None if no patch carries it."""
    content = None
    eof_newline = True
    for patch in sorted(PATCH_DIR.glob("*.patch")):
        for old, new, chunk in _file_diffs(patch.read_bytes()):
            if new == b"b/" + TARGET:
                base = [] if old == b"/dev/null" or content is None else content
                content, eof_newline = _apply(base, chunk)
            elif old == b"a/" + TARGET and new == b"/dev/null":
                content = None
    if content is None:
        return None
    return b"\n".join(content) + (b"\n" if eof_newline else b"")


def test_s4_patch_series_carries_identical_buflock_header():
    patches = sorted(PATCH_DIR.glob("*.patch"))
    if not patches:
        pytest.skip("no cpython-patch/*.patch yet")
    copy = series_copy()
    if copy is None:
        pytest.skip("the patch series does not carry %s yet" % TARGET.decode())
    shim = SHIM_HEADER.read_bytes()
    assert copy == shim, (
        "Include/internal/pycore_buflock.h in cpython-patch/ differs from "
        "shim/bufferflags/_buflock.h (§4: byte-identical)")


def test_patch_reader_roundtrip():
    """The diff reader used above reconstructs a new file and a modification."""
    new_file = (b"diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n"
                b"@@ -0,0 +1,3 @@\n+one\n+two\n+three\n")
    _, _, chunk = next(_file_diffs(new_file))
    lines, eol = _apply([], chunk)
    assert lines == [b"one", b"two", b"three"] and eol
    change = (b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n one\n-two\n"
              b"+TWO\n three\n\\ No newline at end of file\n")
    _, _, chunk = next(_file_diffs(change))
    lines, eol = _apply(lines, chunk)
    assert lines == [b"one", b"TWO", b"three"] and not eol
