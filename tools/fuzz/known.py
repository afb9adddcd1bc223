"""Classifies a minimised finding: already in issue 19, or new.

Matching is on the reproducer's text and the finding's kind, so it is coarse
on purpose: a new bug that happens to look like a known one is reported as
"(again)" next to the first reproducer of that class, still printed.
"""
from __future__ import annotations

import re

from tools.fuzz.compare import Finding

__all__ = ["classify", "KNOWN"]

#: label -> (finding kinds, regex over the reproducer's text)
KNOWN: dict[str, tuple[tuple[str, ...], str]] = {
    # Most specific first: the first match wins.
    "19.3 deep tuple recursion in startswith/endswith/find/count/in":
        (("crash",), r"deep\(\d+"),
    "19.4 ba.__init__(iter(ba)) keeps the contents":
        (("result", "state", "final"), r"(o\d+)\.__init__\(iter\(\1\)\)"),
    # the same class: __init__'s argument (iterator, codec) sees the old
    # contents, where stock empties the bytearray first
    "19.4 ba.__init__(arg) reads its argument before emptying":
        (("result", "state", "final"), r"(o\d+)\.__init__\("),
    "19.4 array.extend(raising iterator) is all-or-nothing":
        (("result", "state", "final"), r"(o\d+)\.extend\((gen_raise|It)\("),
    # Found by this fuzzer (2026-12-05) and documented in the PEP's Backwards
    # Compatibility, "What an argument's code sees, and how often it runs":
    # printed in the stress report, not failed.
    "R1 array.tofile holds a read across raw.write (stock: resizes allowed; stock crashes on a shrink, gh-142884)":
        (("result", "state", "crash"), r"\.tofile\("),
    "R2 an operand's __buffer__ may resize the object (stock: BufferError in the callback)":
        (("result", "state"), r"^(o\d+) (\+|>=|<=|<|>|==|!=) Buf\(|Buf\([^\n]*'(clear|resize)', '(o\d+)'"),
    "R3 item value / fromlist items converted before the bound (stock: IndexError first)":
        (("result", "state"), r"fromlist\(|\] = Idx\("),
    "R4 stock converts an array item twice (append/insert/setitem): a resize in the second conversion corrupts memory (stock only)":
        (("crash", "result", "state"), r"\.(append|insert)\(Idx\(|\] = Idx\("),
    # R5 (patched-ft: ba.extend(iter(ba)) ~600x slower) is fixed by patch
    # 0022 (gh-114203 backport): a timeout there is a new finding again.
    "19.1 a view over raw memory kept by a codec/raw stream/pickle":
        (("crash", "result", "state", "final", "violation"),
         r"(codec\([^\n]*, True|Raw\([^\n]*, True|'readkept')"),
    "19.2 strip()'s __release_buffer__ / compile()'s audit hook window":
        (("crash", "result", "state", "final", "violation"), r"(strip\(Buf\(.*True\)|audit\()"),
    "19.2 array count/index/remove/in hold nothing while __eq__ runs":
        (("violation", "result", "state"), r"(count|index|remove)\(Eq\(|Eq\(.*\) in "),
    "19.5 iterating an empty object under EXCLUSIVE":
        (("violation",), r"walk\(|list\(|iter\("),
}


def classify(lines: list[str], f: Finding) -> str:
    """The issue 19 item the finding belongs to, or 'new'."""
    texts = ["\n".join(lines)]
    if 0 <= f.index < len(lines):
        texts.insert(0, lines[f.index])     # the failing statement decides first
    for text in texts:
        for label, (kinds, pattern) in KNOWN.items():
            if f.kind in kinds and re.search(pattern, text, re.M):
                return label
    return "new"
