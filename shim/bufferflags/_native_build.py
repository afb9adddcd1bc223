"""cffi build script for bufferflags._native (API mode, compiled at install).

cffi is only the build vehicle here: the two functions it wraps,
``bufferflags_init`` and ``bufferflags_init_c_api``, hand the real types,
functions and the C API capsule to Python once.
"""
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef(
    "int bufferflags_init(intptr_t namespace_id);\n"
    "int bufferflags_init_c_api(intptr_t namespace_id,"
    " intptr_t supported_flags_id);"
)
ffibuilder.set_source(
    "bufferflags._native",
    '#include "_locking.c"\n#include "_c_api.c"',
    include_dirs=[str(HERE)],
    depends=[str(HERE / name) for name in (
        "_locking.c", "_buflock.h", "_c_api.c", "include/bufferflags.h")],
    # _locking.c needs PyByteArrayObject and Py_buffer: not limited API.
    define_macros=[("_CFFI_NO_LIMITED_API", None)],
    py_limited_api=False,
    extra_compile_args=["-std=c11", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
