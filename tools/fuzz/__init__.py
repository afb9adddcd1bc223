"""Differential fuzzer for the bufferflags patch series (issue 19).

Seeded random straight-line programs over bytes, bytearray, array, memoryview,
io, pickle, codecs and compile() with hostile arguments run in fresh
subprocesses:

* ``--differential``: baseline 3.13.15 vs patched, no flag requested; traces
  must match except the documented differences in ``allowlist.py``;
* ``--flags``: one interpreter (patched, or the shim on a stock venv) with
  IMMUTABLE/EXCLUSIVE views taken, §3's invariants checked after every
  statement and inside every callback.

A finding is minimised (``minimise.py``) and classified against issue 19
(``known.py``).  Modules: generator → runner (+ runtime in the child) →
compare/allowlist → minimise → driver → ``__main__`` (CLI).
"""
__all__ = ["allowlist", "compare", "driver", "generator", "known", "minimise", "runner", "runtime"]
