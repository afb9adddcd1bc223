"""cffi build script for bufferflags._native (API mode, compiled at install).

cffi is only the build vehicle here: the one function it wraps,
``bufferflags_init``, hands the real types and functions to Python once.
"""
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef("int bufferflags_init(intptr_t namespace_id);")
ffibuilder.set_source(
    "bufferflags._native",
    '#include "_locking.c"',
    include_dirs=[str(HERE)],
    depends=[str(HERE / "_locking.c"), str(HERE / "_buflock.h")],
    # _locking.c needs PyByteArrayObject and Py_buffer: not limited API.
    define_macros=[("_CFFI_NO_LIMITED_API", None)],
    py_limited_api=False,
    extra_compile_args=["-std=c11", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
