"""Build a one-file C extension for the running interpreter, with nothing
but its C compiler.

The stock venvs and the patched interpreters have no setuptools (pip builds
the shim in an isolated environment), so this runs the compiler and linker
commands the interpreter was configured with, as setuptools' build_ext does
on POSIX.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import shlex
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import bufferflags

__all__ = ["Built", "build_extension", "free_threaded"]

#: Warnings we want to hear about in our own C, on top of the interpreter's.
WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter",
            "-Wno-missing-field-initializers"]


@dataclass(frozen=True)
class Built:
    module: ModuleType
    path: Path
    #: The compiler's warnings, so that a test can require there are none.
    warnings: str


def free_threaded() -> bool:
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _config(name: str) -> list[str]:
    return shlex.split(sysconfig.get_config_var(name) or "")


def build_extension(source: Path | list[Path], name: str, out_dir: Path,
                    defines: tuple[str, ...] = ()) -> Built:
    """Compile source (one file, or the files of one extension) into module
    `name` under out_dir and import it.

    The module is imported from its file and not put in sys.modules, so a
    test session may load several builds of the same source."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = [source] if isinstance(source, Path) else list(source)
    objs = [out_dir / (src.stem + ".o") for src in sources]
    lib = out_dir / (name + sysconfig.get_config_var("EXT_SUFFIX"))
    includes = [sysconfig.get_path("include"), sysconfig.get_path("platinclude"),
                bufferflags.get_include()]
    compile_cmds = [
        _config("CC") + _config("CFLAGS") + _config("CCSHARED")
        + ["-I" + d for d in dict.fromkeys(includes)]
        + ["-D" + d for d in defines] + WARNINGS
        + ["-c", str(src), "-o", str(obj)]
        for src, obj in zip(sources, objs)
    ]
    link_cmd = _config("LDSHARED") + [str(obj) for obj in objs] + ["-o", str(lib)]
    warnings = []
    for cmd in compile_cmds + [link_cmd]:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(
                f"building {name} failed:\n{shlex.join(cmd)}\n"
                f"{done.stdout}{done.stderr}")
        warnings.append(done.stderr)
    loader = importlib.machinery.ExtensionFileLoader(name, str(lib))
    spec = importlib.util.spec_from_file_location(name, lib, loader=loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Built(module=module, path=lib, warnings="".join(warnings))
