"""tools/race_demo.py (README, PEP Motivation) runs and reaches its verdicts on
this interpreter: phase 1 either catches a torn digest or says it did not
within its bound; phase 2 sees no torn digest, its writer's refusals are
BufferConflictError and its writes land between hashes.  Verdicts only, no
timings."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "tools" / "race_demo.py"


def run_demo(*args):
    done = subprocess.run([sys.executable, str(DEMO), *args],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_race_demo_verdicts():
    rc, out, err = run_demo("--mib", "4", "--safe-hashes", "12", "--seconds", "30")
    assert rc == 0, out + err
    assert err == ""
    phase1, phase2 = out.split("\nphase 2")
    race = re.search(r"RACE on hash (\d+) .*\n  digests: (\d+) A, (\d+) B, (\d+) torn", phase1)
    if race:
        n, a, b, torn = map(int, race.groups())
        assert torn == 1 and a + b + torn == n
    else:
        assert re.search(r"no torn digest in \d+ hashes .*the race was not caught", phase1), phase1
    digests = re.search(r"digests: (\d+) A, (\d+) B, (\d+) torn \((\d+) hashes", phase2)
    assert digests, phase2
    a, b, torn, n = map(int, digests.groups())
    assert torn == 0 and a + b == n == 12
    writer = re.search(r"writer: (\d+) writes made, (\d+) refusals retried"
                       r"(?: \((\w+): (.*)\))?\n", phase2)
    assert writer, phase2
    writes, refused, cls, message = writer.groups()
    assert int(writes) >= 1
    if int(refused):
        assert cls == "BufferConflictError"
        assert "cannot modify while 1 immutable export is held" in message
    assert re.search(r"final contents: ([AB]); the writer's last write was \1\n", phase2)
    assert "  ok: " in phase2 and "FAILED" not in out

