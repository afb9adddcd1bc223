"""Instructions per operation of one patched interpreter before and after a
change to the series, from two runs of bench/instructions.py.

Why: a change to the state word or to critical sections moves the cost of
every unflagged operation by a few instructions, which timings cannot show
and the ratio to baseline hides inside its rounding.  Counts of the same
operation in two runs are comparable to within a few instructions (the
run's own ``ba[3] = 1`` repeat shows how far), so the difference is the
change's price.

    python3 bench/compare_instructions.py BEFORE.json AFTER.json OUT.md
"""
from __future__ import annotations

import json
import sys

__all__ = ["compare", "main"]

BUILDS = (("patched", "GIL"), ("patched-ft", "free-threaded"))


def compare(before: dict, after: dict) -> str:
    """The markdown table: one row per operation counted in both runs."""
    names = [op for op in dict.fromkeys(
                 after["operations"] + after.get("flagged", [])
                 + after.get("workloads", []))
             if all(op in before["counts"].get(b, {}) for b, _ in BUILDS)]
    lines = ["| operation | " + " | ".join(
        "%s before | after | Δ" % label for _, label in BUILDS) + " |",
        "|---|" + "---:|---:|---:|" * len(BUILDS)]
    for op in names:
        cells = []
        for build, _ in BUILDS:
            old = before["counts"][build][op]
            new = after["counts"][build].get(op)
            if new is None:
                cells += ["%.1f" % old, "—", "—"]
            else:
                cells += ["%.1f" % old, "%.1f" % new, "%+.1f" % (new - old)]
        lines.append("| `%s` | %s |" % (op, " | ".join(cells)))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        before = json.load(f)
    with open(argv[1]) as f:
        after = json.load(f)
    with open(argv[2], "w") as f:
        f.write("# Instructions per operation before and after patches "
                "0015-0017\n\nFrom `%s` (the series up to 0014) and `%s` "
                "(up to 0017); `bench/compare_instructions.py`.  Same "
                "method as instructions.md.\n\n" % (argv[0], argv[1]))
        f.write(compare(before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
