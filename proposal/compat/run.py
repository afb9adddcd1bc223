"""Run ba_setitem's functions while another holder keeps a flagged export.

    python proposal/compat/run.py MODULE_DIR      # MODULE_DIR from build.py

Natively (bufferflags.NATIVE) the object is a plain bytearray; on stock
CPython it is a bufferflags.LockingBytearray, the only bytearray there that
can be granted the flags (a bytearray subclass, so Cython's `bytearray`
argument type accepts it).  Each line: the holder's flags, the call, and what
happened: "wrote"/"read" with the contents the holder sees afterwards, or the
exception the call raised.
"""
from __future__ import annotations

import importlib.util
import sys
import sysconfig
from pathlib import Path

import bufferflags
from bufferflags import view

HOLDERS = {
    "memoryview(ba)": lambda ba: memoryview(ba),
    "view(ba, immutable=True)": lambda ba: view(ba, immutable=True),
    "view(ba, exclusive=True, writable=True)": lambda ba: view(ba, exclusive=True, writable=True),
}
try:            # the PEP's checked entry point, where the interpreter has it
    memoryview(b"", flags=0)
except TypeError:
    pass
else:
    import inspect
    HOLDERS["memoryview(ba, flags=inspect.BufferFlags.IMMUTABLE)"] = \
        lambda ba: memoryview(ba, flags=inspect.BufferFlags.IMMUTABLE)


def load(module_dir: Path):
    path = module_dir / ("ba_setitem" + sysconfig.get_config_var("EXT_SUFFIX"))
    spec = importlib.util.spec_from_file_location("ba_setitem", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calls(m):
    return {
        "set_typed(ba, 0, 88)": lambda ba: m.set_typed(ba, 0, 88),
        "set_untyped(ba, 0, 88)": lambda ba: m.set_untyped(ba, 0, 88),
        "set_annotated(ba, 0, 88)": lambda ba: m.set_annotated(ba, 0, 88),
        "set_newline(ba, 0)": lambda ba: m.set_newline(ba, 0),
        "write_char_ptr(ba, 0, 88)": lambda ba: m.write_char_ptr(ba, 0, 88),
        "write_char_ptr_untyped(ba, 0, 88)": lambda ba: m.write_char_ptr_untyped(ba, 0, 88),
        "get_typed(ba, 0)": lambda ba: m.get_typed(ba, 0),
        "get_untyped(ba, 0)": lambda ba: m.get_untyped(ba, 0),
        "read_char_ptr(ba, 0)": lambda ba: m.read_char_ptr(ba, 0),
        "to_bytes(ba)": lambda ba: m.to_bytes(ba),
    }


def outcome(holder: str, call: str, m) -> str:
    """What call does to a fresh b'abc' while holder is held."""
    kind = bytearray if bufferflags.NATIVE else bufferflags.LockingBytearray
    ba = kind(b"abc")
    held = HOLDERS[holder](ba)
    try:
        result = calls(m)[call](ba)
    except BaseException as exc:       # noqa: BLE001 - we report whatever it is
        seen = bytes(held)
        return f"{type(exc).__name__}: {exc}  (holder sees {seen!r})"
    seen = bytes(held)
    held.release()
    verb = "read" if call.startswith(("read", "get", "to_bytes")) else "wrote"
    return f"{verb} -> {result!r}  (holder sees {seen!r})"


def main() -> None:
    m = load(Path(sys.argv[1]))
    kind = "bytearray" if bufferflags.NATIVE else "bufferflags.LockingBytearray"
    print(f"python {sys.version.split()[0]}, bufferflags.NATIVE={bufferflags.NATIVE}, ba = {kind}(b'abc')")
    for holder in HOLDERS:
        print(f"while {holder} is held:")
        for call in calls(m):
            print(f"  {call:<33} {outcome(holder, call, m)}")


if __name__ == "__main__":
    main()
