#!/usr/bin/env python3
"""Summarise tools/peer-suites.sh from the junit XML of each run: counts per
package and interpreter, and the tests failing only on patched.  Writes
OUT/summary.md; exit 1 if a test fails only on patched, 2 if a run is
missing or did not finish.

usage: peer_summary.py OUT_DIR PKG...
"""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

NAMES = ("baseline", "patched")


def read(xml):
    """-> dict(passed, failed, errors, skipped, failing={id: message})"""
    r = dict(passed=0, failed=0, errors=0, skipped=0, failing={})
    root = ET.parse(xml).getroot()
    for case in root.iter("testcase"):
        # the classname holds the venv's path (build.peer.<name>.lib...):
        # keep what follows site-packages, so both interpreters agree
        cls = re.sub(r"^.*?\.site-packages\.", "", case.get("classname", ""))
        tid = f"{cls}::{case.get('name', '')}"
        f, e = case.find("failure"), case.find("error")
        if f is not None or e is not None:
            el = f if f is not None else e
            r["failed" if f is not None else "errors"] += 1
            msg = (el.get("message") or el.text or "").strip().splitlines()
            r["failing"][tid] = (msg[0] if msg else "")[:200]
        elif case.find("skipped") is not None:
            r["skipped"] += 1
        else:
            r["passed"] += 1
    return r


def main():
    out, pkgs = Path(sys.argv[1]), sys.argv[2:]
    md = ["# make peer-suites: real packages' own tests, baseline vs patched", ""]
    pins = (out / "pins.txt").read_text().split() if (out / "pins.txt").exists() else []
    md.append("Written by `tools/peer-suites.sh` (`tools/peer_summary.py`); logs and junit XML in "
              "`build/peer-suites/<interpreter>/`. Versions (wheels): " + ", ".join(f"`{p}`" for p in pins))
    md.append("")
    for n in NAMES:
        k = out / n / "key"
        ke = out / n / "key-end"
        key = k.read_text().strip() if k.exists() else "?"
        kend = ke.read_text().strip() if ke.exists() else "?"
        md.append(f"- {n}: key `{key[:16]}`" + ("" if kend == key else f" (**changed** during the run to `{kend[:16]}`)"))
    md.append("")
    md.append("(skipped includes xfailed; errors are setup/teardown errors)")
    md.append("")
    md.append("| package | interpreter | passed | failed | errors | skipped | exit | seconds |")
    md.append("|---|---|---|---|---|---|---|---|")
    status = 0
    only, both = {}, {}
    for pkg in pkgs:
        res = {}
        for n in NAMES:
            xml, rc = out / n / f"{pkg}.xml", out / n / f"{pkg}.rc"
            code, secs = (rc.read_text().split() + ["?", "?"])[:2] if rc.exists() else ("not run", "")
            if xml.exists():
                try:
                    res[n] = read(xml)
                except ET.ParseError:
                    pass
            r = res.get(n)
            if r is None:
                md.append(f"| {pkg} | {n} | - | - | - | - | {code} | {secs} |")
                status = max(status, 2)
            else:
                md.append(f"| {pkg} | {n} | {r['passed']} | {r['failed']} | {r['errors']} | "
                          f"{r['skipped']} | {code} | {secs} |")
            if code == "124":  # timeout(1)
                status = max(status, 2)
        if len(res) == 2:
            only[pkg] = sorted(set(res["patched"]["failing"]) - set(res["baseline"]["failing"]))
            only[pkg] = [(t, res["patched"]["failing"][t]) for t in only[pkg]]
            fixed = sorted(set(res["baseline"]["failing"]) - set(res["patched"]["failing"]))
            only[pkg + " (only on baseline)"] = [(t, res["baseline"]["failing"][t]) for t in fixed]
            both[pkg] = sorted(set(res["baseline"]["failing"]) & set(res["patched"]["failing"]))
            both[pkg] = [(t, res["patched"]["failing"][t]) for t in both[pkg]]
    md.append("")
    md.append("## Failing only on patched")
    md.append("")
    n_only = 0
    for pkg, tests in only.items():
        if pkg.endswith("(only on baseline)"):
            continue
        n_only += len(tests)
        md.append(f"- {pkg}: " + ("none" if not tests else f"{len(tests)}"))
        for t, msg in tests[:50]:
            md.append(f"  - `{t}`: {msg}")
    md.append("")
    md.append("## Failing on both (informational)")
    md.append("")
    for pkg, tests in both.items():
        md.append(f"- {pkg}: " + ("none" if not tests else f"{len(tests)}, e.g. `{tests[0][0]}`: {tests[0][1][:120]}"))
    md.append("")
    md.append("## Failing only on baseline (informational)")
    md.append("")
    for pkg, tests in only.items():
        if pkg.endswith("(only on baseline)"):
            md.append(f"- {pkg.split()[0]}: " + (", ".join(f"`{t}`" for t, _ in tests[:20]) or "none"))
    md.append("")
    md.append(f"**Verdict**: {n_only} test(s) fail only on patched.")
    if n_only:
        status = max(status, 1)
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return status


if __name__ == "__main__":
    sys.exit(main())
