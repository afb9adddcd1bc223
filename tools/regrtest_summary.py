#!/usr/bin/env python3
"""Summarise tools/regrtest.sh: counts per interpreter and the tests that fail
only on patched.  Writes OUT/summary.md; exit 1 if a test fails only on
patched and is not in the allowlist, 2 if a run is missing.

usage: regrtest_summary.py OUT_DIR ALLOWLIST
"""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

NAMES = ("baseline", "patched")
LISTS = {  # regrtest's closing lists (Lib/test/libregrtest/results.py)
    "failed": re.compile(r"^\d+ tests? failed:$"),
    "env_changed": re.compile(r"^\d+ tests? altered the execution environment"),
    "rerun": re.compile(r"^\d+ re-run tests?:$"),
    "skipped": re.compile(r"^\d+ tests? skipped:$"),
    "resource_denied": re.compile(r"^\d+ tests? skipped \(resource denied\):$"),
    "run_no_tests": re.compile(r"^\d+ tests? run no tests:$"),
    "omitted": re.compile(r"^\d+ tests? omitted:$"),
}


def parse_log(path):
    text = path.read_text(errors="replace")
    lines = text.splitlines()
    # the closing report starts at the last "== Tests result:" line
    start = max((i for i, l in enumerate(lines) if l.startswith("== Tests result:")), default=None)
    res = {k: [] for k in LISTS}
    res["ok"] = None
    res["totals"] = {}
    res["files"] = {}
    res["result"] = None
    res["complete"] = start is not None
    if start is None:
        return res, lines
    cur = None
    for l in lines[start:]:
        m = [k for k, rx in LISTS.items() if rx.match(l)]
        if m:
            cur = m[0]
            continue
        if cur and l.startswith("    "):
            res[cur].extend(l.split())
            continue
        cur = None
        m = re.match(r"^(?:All )?(\d+) tests? OK\.$", l)
        if m:
            res["ok"] = int(m.group(1))
        if l.startswith("Total tests:"):
            res["totals"] = {k: int(v.replace(",", "")) for k, v in re.findall(r"(\w+)=([\d,]+)", l)}
        if l.startswith("Total test files:"):
            res["files"] = {k: int(v.replace(",", "")) for k, v in re.findall(r"(\w+)=([\d,]+)", l)}
            m = re.search(r"run=(\d+)/(\d+)", l)
            if m:
                res["files"]["selected"] = int(m.group(2))
        if l.startswith("Result:"):
            res["result"] = l.split(":", 1)[1].strip()
    return res, lines


def parse_junit(path):
    """test id -> (kind, message, traceback) for failed/errored test cases."""
    out = {}
    if not path.exists():
        return out
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return out
    for case in root.iter("testcase"):
        for kind in ("failure", "error"):
            e = case.find(kind)
            if e is not None:
                out[case.get("name")] = (kind, e.get("message", ""), e.text or "")
    return out


def belongs(test_id, test):
    """Is junit case test_id ("test.test_bytes.ByteArrayTest.test_x",
    "test.test_inspect.test_inspect.TestX.test_y") in regrtest's test
    ("test_bytes", "test.test_inspect.test_inspect")?"""
    return test_id.startswith(test + ".") or test_id.startswith("test." + test + ".")


def essence(msg, tb, width=300):
    msg = (msg or tb).strip().splitlines()
    last = [l for l in msg if l.strip()][-3:]
    return " / ".join(s.strip() for s in last)[:width]


def log_lines_for(lines, test):
    pat = re.compile(r"\b%s\b.*(failed|crashed|timed out|Timeout|worker non-zero exit)" % re.escape(test))
    return [l.strip() for l in lines if pat.search(l)][:4]


def read_allowlist(path):
    allow = {}
    if path.exists():
        for l in path.read_text().splitlines():
            l = l.split("#", 1)[0].strip()
            if l:
                name, _, why = l.partition(" ")
                allow[name] = why.strip()
    return allow


def main():
    out, allow_path = Path(sys.argv[1]), Path(sys.argv[2])
    allow = read_allowlist(allow_path)
    runs = {}
    for name in NAMES:
        d = out / name
        if not (d / "log.txt").exists():
            continue
        res, lines = parse_log(d / "log.txt")
        runs[name] = dict(
            res=res, lines=lines, junit=parse_junit(d / "junit.xml"),
            key=(d / "key").read_text().strip() if (d / "key").exists() else "?",
            key_end=(d / "key-end").read_text().strip() if (d / "key-end").exists() else "?",
            rc=(d / "rc").read_text().strip() if (d / "rc").exists() else "(running)",
            seconds=(d / "seconds").read_text().strip() if (d / "seconds").exists() else "?",
            mem=(d / "mem-limit").read_text().strip() if (d / "mem-limit").exists() else "none",
        )
    md = ["# make regrtest: CPython's whole test suite, baseline vs patched", ""]
    md.append("`python -m test -j2 --timeout 1200 --rerun --junit-xml ...` with regrtest's default "
              "resources (no `-u`), no test excluded; logs in `build/regrtest/<name>/`. "
              "Written by `tools/regrtest.sh` (`tools/regrtest_summary.py`).")
    md.append("")
    md.append("| | " + " | ".join(NAMES) + " |")
    md.append("|---|" + "---|" * len(NAMES))

    def row(label, f):
        md.append(f"| {label} | " + " | ".join(
            (str(f(runs[n])) if n in runs else "not run") for n in NAMES) + " |")

    row("interpreter key (.bufferflags-key)", lambda r: f"`{r['key'][:16]}`")
    row("key at the end of the run", lambda r: "same" if r["key_end"] == r["key"]
        else f"**changed** to `{r['key_end'][:16]}` (rebuilt during the run)")
    row("ulimit -v (KiB)", lambda r: r["mem"])
    row("exit status / seconds", lambda r: f"{r['rc']} / {r['seconds']}")
    row("result", lambda r: r["res"]["result"] or "(incomplete log)")
    row("test files selected", lambda r: r["res"]["files"].get("selected", "?"))
    row("test files run", lambda r: r["res"]["files"].get("run", "?"))
    row("test files OK", lambda r: r["res"]["ok"] if r["res"]["ok"] is not None else 0)
    row("test files failed", lambda r: len(r["res"]["failed"]))
    row("test files env changed", lambda r: len(r["res"]["env_changed"]))
    row("test files skipped", lambda r: len(r["res"]["skipped"]))
    row("test files resource denied", lambda r: len(r["res"]["resource_denied"]))
    row("test files re-run (failed, then rerun)", lambda r: len(r["res"]["rerun"]))
    row("test files run no tests", lambda r: len(r["res"]["run_no_tests"]))
    row("tests (methods) run", lambda r: r["res"]["totals"].get("run", "?"))
    row("tests failed", lambda r: r["res"]["totals"].get("failures", 0))
    row("tests skipped", lambda r: r["res"]["totals"].get("skipped", 0))
    md.append("")

    status = 0
    if set(runs) != set(NAMES) or not all(runs[n]["res"]["complete"] for n in NAMES):
        md.append("**Incomplete**: a run is missing or did not finish; no comparison.")
        status = 2
    else:
        b, p = runs["baseline"], runs["patched"]
        bfail, pfail = set(b["res"]["failed"]), set(p["res"]["failed"])
        only_p = sorted(pfail - bfail)
        # within files failing on both: test cases failing only on patched
        bcases = set(b["junit"])
        both_cases = sorted(t for t in p["junit"]
                            if any(belongs(t, f) for f in pfail & bfail) and t not in bcases)
        bad = []
        md.append("## Failing only on patched")
        md.append("")
        if not only_p and not both_cases:
            md.append("None.")
        for t in only_p:
            allowed = t in allow
            if not allowed:
                bad.append(t)
            md.append(f"- **{t}**" + (f" (allowlisted: {allow[t]})" if allowed else ""))
            cases = {k: v for k, v in p["junit"].items() if belongs(k, t)}
            for k, (kind, msg, tb) in sorted(cases.items()):
                md.append(f"  - `{k}` {kind}: {essence(msg, tb)}")
            if not cases:
                for l in log_lines_for(p["lines"], t):
                    md.append(f"  - log: `{l}`")
        for k in both_cases:
            allowed = k in allow or any(belongs(k, a) for a in allow)
            if not allowed:
                bad.append(k)
            kind, msg, tb = p["junit"][k]
            md.append(f"- `{k}` (its file fails on both; this case only on patched) {kind}: "
                      f"{essence(msg, tb)}" + (" (allowlisted)" if allowed else ""))
        md.append("")
        md.append("## Failing on both")
        md.append("")
        md.append(", ".join(sorted(pfail & bfail)) or "None.")
        md.append("")
        md.append("## Failing only on baseline")
        md.append("")
        md.append(", ".join(sorted(bfail - pfail)) or "None.")
        md.append("")
        md.append("## Other differences (informational)")
        md.append("")
        for label, key in (("env changed", "env_changed"), ("skipped", "skipped"),
                           ("run no tests", "run_no_tests")):
            bs, ps = set(b["res"][key]), set(p["res"][key])
            md.append(f"- {label}: only patched: {', '.join(sorted(ps - bs)) or '-'}; "
                      f"only baseline: {', '.join(sorted(bs - ps)) or '-'}")
        # flaky: failed in the main run, passed when re-run (not counted as failures)
        bflaky = set(b["res"]["rerun"]) - bfail
        pflaky = set(p["res"]["rerun"]) - pfail
        md.append(f"- flaky (failed, then passed on rerun) only on baseline: "
                  f"{', '.join(sorted(bflaky - pflaky)) or '-'}")
        md.append(f"- flaky only on patched: {', '.join(sorted(pflaky - bflaky)) or '-'}")
        for t in sorted(pflaky - bflaky):
            for k, (kind, msg, tb) in sorted(p["junit"].items()):
                if belongs(k, t):
                    md.append(f"  - first run: `{k}` {kind}: {essence(msg, tb)}")
        md.append("")
        md.append(f"Allowlist: `tools/regrtest-allowlist.txt` ({len(allow)} entries).")
        md.append("")
        md.append(f"**Verdict**: {len(bad)} test(s) fail only on patched and are not allowlisted"
                  + (f": {', '.join(bad)}" if bad else "") + ".")
        if bad:
            status = 1
    if (out / "notes.md").exists():  # remarks written by hand about this run
        md += ["", "## Notes on this run", "", (out / "notes.md").read_text().strip()]
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return status


if __name__ == "__main__":
    sys.exit(main())
