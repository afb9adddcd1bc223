"""Cythonize ba_setitem.pyx and build it for the running interpreter.

    python proposal/compat/build.py OUTDIR [--cython PY]

PY (default: this interpreter) is the interpreter that runs Cython; the C it
writes is compiled with this interpreter's own compiler flags and headers, so
a Cython installed in a stock venv can build the module for the patched
interpreter, which has no Cython.  Prints the path of the built module.
"""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYX = HERE / "ba_setitem.pyx"


def _config(name: str) -> list[str]:
    return shlex.split(sysconfig.get_config_var(name) or "")


def cythonize(out_dir: Path, cython_python: str = sys.executable) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    c_file = out_dir / "ba_setitem.c"
    subprocess.run([cython_python, "-B", "-m", "cython", "-3", "-o", str(c_file), str(PYX)],
                   check=True)
    return c_file


def build(out_dir: Path, cython_python: str = sys.executable) -> Path:
    c_file = cythonize(out_dir, cython_python)
    obj = out_dir / "ba_setitem.o"
    lib = out_dir / ("ba_setitem" + sysconfig.get_config_var("EXT_SUFFIX"))
    includes = dict.fromkeys([sysconfig.get_path("include"), sysconfig.get_path("platinclude")])
    for cmd in (_config("CC") + _config("CFLAGS") + _config("CCSHARED")
                + ["-I" + d for d in includes] + ["-c", str(c_file), "-o", str(obj)],
                _config("LDSHARED") + [str(obj), "-o", str(lib)]):
        subprocess.run(cmd, check=True)
    return lib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--cython", default=sys.executable,
                        help="the interpreter that runs Cython (default: this one)")
    args = parser.parse_args()
    print(build(args.out_dir, args.cython))


if __name__ == "__main__":
    main()
