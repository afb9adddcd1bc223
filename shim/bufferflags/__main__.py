"""``python -m bufferflags``: what this interpreter offers.

Prints the package version, the backend (the shim's C extension on stock
CPython, or the interpreter's own implementation) and the flags it
implements, the interpreter, and the guarantees each builtin buffer type
supports here.
"""
from __future__ import annotations

import array
import io
import mmap
import platform
import sys
import sysconfig

import bufferflags
from bufferflags._flags import BufferFlags


def _names(flags: BufferFlags) -> str:
    names = [f"PyBUF_{f.name}" for f in (bufferflags.IMMUTABLE, bufferflags.EXCLUSIVE)
             if flags & f]
    return "|".join(names) or "none"


def _samples() -> list[tuple[str, object]]:
    samples: list[tuple[str, object]] = [
        ("bytes", b""),
        ("bytearray", bytearray()),
        ("array.array", array.array("B")),
        ("memoryview(bytes)", memoryview(b"")),
        ("bufferflags.view(bytes, immutable=True)",
         bufferflags.view(b"", immutable=True)),
        ("io.BytesIO().getbuffer()", io.BytesIO().getbuffer()),
        ("mmap.mmap", mmap.mmap(-1, 1)),
        ("bufferflags.LockingBytearray", bufferflags.LockingBytearray()),
    ]
    return samples


def main() -> int:
    backend = ("native (the interpreter implements the flags)" if bufferflags.NATIVE
               else "shim (C extension bufferflags._native on stock CPython)")
    build = "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "GIL"
    print(f"bufferflags {bufferflags.__version__}")
    print(f"backend:     {backend}")
    print(f"implements:  {_names(bufferflags.IMPLEMENTED)}")
    print(f"interpreter: {platform.python_implementation()} {platform.python_version()} "
          f"({build}) {sys.executable}")
    print(f"include:     {bufferflags.get_include()}")
    print("supported flags:")
    samples = _samples()
    width = max(len(name) for name, _ in samples)
    for name, obj in samples:
        print(f"  {name:<{width}}  {_names(bufferflags.supported_flags(obj))}")
    for _, obj in samples:
        if isinstance(obj, memoryview):
            obj.release()
        elif isinstance(obj, mmap.mmap):
            obj.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
