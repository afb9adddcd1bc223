"""Runs one program in a fresh subprocess of one interpreter and parses its trace.

A fresh process per program and interpreter: a crash (negative return code,
i.e. a signal) ends only that run and is itself a finding, and no state
(codecs, audit hooks, kept views) leaks from one program into the next.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Interpreter", "Run", "run_program", "RUNTIME", "SHIM"]

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.join(HERE, "runtime.py")
SHIM = os.path.join(os.path.dirname(os.path.dirname(HERE)), "shim")


@dataclass(frozen=True)
class Interpreter:
    """An interpreter to run programs on; `shim_path` goes on PYTHONPATH
    (the patched builds run the package straight from shim/)."""
    name: str
    path: str
    shim_path: str | None = None
    extra: tuple[str, ...] = ()     # runtime options, e.g. ("--inject", "find") for self-tests


@dataclass
class Run:
    """What one interpreter did with one program."""
    steps: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None
    started: int = -1           # the last statement that started
    rc: int | None = None       # None: timed out
    stderr: str = ""

    @property
    def crashed(self) -> bool:
        return self.rc is not None and self.rc < 0

    @property
    def timed_out(self) -> bool:
        return self.rc is None

    def describe_exit(self) -> str:
        if self.rc is None:
            return "timeout"
        if self.rc < 0:
            try:
                return "crash: %s" % signal.Signals(-self.rc).name
            except ValueError:
                return "crash: signal %d" % -self.rc
        return "exit %d" % self.rc


def run_program(interp: Interpreter, source: str, flags: bool = False, timeout: float = 20.0) -> Run:
    """Run `source` (one statement a line) under `interp`; never raises for
    what the program does."""
    fd, path = tempfile.mkstemp(prefix="fuzz-", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        if interp.shim_path and flags:
            # Only --flags imports bufferflags: in differential mode both
            # interpreters run with the same (empty) PYTHONPATH.
            env["PYTHONPATH"] = interp.shim_path
        env["PYTHONHASHSEED"] = "0"
        env.pop("PYTHONFAULTHANDLER", None)   # a crash must stay a signal
        for var in ("PYTHONHOME", "PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONDEVMODE", "PYTHON_GIL"):
            env.pop(var, None)
        # -s: no user site; -P: not tools/fuzz on sys.path.  Not -I/-E: the
        # patched builds need PYTHONPATH (shim/) and every run PYTHONHASHSEED.
        args = [interp.path, "-s", "-P", RUNTIME] + (
            ["--flags"] if flags else []) + list(interp.extra) + [path]
        run = Run()
        try:
            p = subprocess.run(args, capture_output=True, timeout=timeout, env=env, cwd=tempfile.gettempdir())
            out, err, run.rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, err = e.stdout or b"", e.stderr or b""
        run.stderr = err.decode("utf-8", "replace")[-2000:]
        for line in out.decode("utf-8", "replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "start" in rec:
                run.started = rec["start"]
            elif "final" in rec:
                run.end = rec
            elif "i" in rec:
                run.steps.append(rec)
        return run
    finally:
        os.unlink(path)
