"""The one explicit list of differences baseline → patched that are documented.

Differential mode compares traces of programs that never request the new
flags.  Everything here is a difference the PEP (pep-draft.md, "Backwards
Compatibility") and proposal/semantics.md say code that never uses the flags
may see; anything else is a finding.  Each entry names the section allowing
it.  Keep it short: an entry added to silence a finding must cite the text.

Two kinds of entries:

* ``EXC_EQUIVALENT`` — exception-type pairs compared as equal (patched class
  on the right), everywhere in a trace: the statement's exception and the
  outcomes of callback actions.
* ``ALLOWED`` — predicates over one differing statement.  When one matches,
  the difference is counted under its id; if the objects' contents after the
  statement still agree the comparison goes on, otherwise the rest of the
  program is not compared (the documented difference changed what later
  statements see).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["EXC_EQUIVALENT", "ALLOWED", "Allowed", "same_exc"]

#: (baseline type, patched type) pairs that are the same outcome.
EXC_EQUIVALENT: dict[tuple[str, str], str] = {
    # PEP "Backwards Compatibility", "New errors in code that never uses the
    # flags": code "sees BufferConflictError (a BufferError)"; semantics §6:
    # "Resizes refused in SHARED mode keep today's message ... as a
    # BufferConflictError", and every §3 conflict is one.  Only where stock
    # raises BufferError: BufferConflictError against any other stock type
    # (or no error) stays a difference.
    ("BufferError", "BufferConflictError"): "§6 / PEP BC 'New errors': BufferConflictError is the BufferError",
}


def same_exc(base: str, patched: str) -> bool:
    """Whether two exception type names are the same outcome (see EXC_EQUIVALENT)."""
    return base == patched or (base, patched) in EXC_EQUIVALENT


@dataclass(frozen=True)
class Allowed:
    """One documented difference: `test(stmt, base_step, patched_step)`."""
    id: str
    reference: str
    test: Callable[[str, dict[str, Any], dict[str, Any]], bool]


def _is_buffer_error(step: dict[str, Any]) -> bool:
    return step.get("exc") in ("BufferError", "BufferConflictError")


def _strict_prefix(a: list[Any], b: list[Any]) -> bool:
    return len(a) < len(b) and b[:len(a)] == a


def _arguments_first(stmt: str, base: dict[str, Any], pat: dict[str, Any]) -> bool:
    # PEP BC "Arguments first": "a refused operation has already run
    # __index__, __buffer__ or iteration of its arguments. Where stock CPython
    # refused before consuming an iterable argument (...), the iterable is now
    # consumed before the refusal"; semantics §3.2 "Arguments first".
    # Shape: stock refused with BufferError having run fewer callbacks; the
    # patched interpreter ran them (a prefix-extension of stock's) and then
    # was refused too, or stopped with the argument's own error.
    # The argument's code may release what stock's refusal was about (the
    # patched operation then succeeds) or fail itself (its error comes first).
    if not _is_buffer_error(base):
        return False
    b, p = _norm_cb(base["cb"]), _norm_cb(pat["cb"])
    if _strict_prefix(b, p):
        return True
    # "convert their arguments before they check the state": an argument
    # that cannot be converted (OverflowError, TypeError, ...) now fails
    # before the state refuses, with no callback involved.
    return b == p and "exc" in pat and not _is_buffer_error(pat)


_INIT = re.compile(r"^(o\d+)\.__init__\(")


def _failed_init_keeps(stmt: str, base: dict[str, Any], pat: dict[str, Any]) -> bool:
    # PEP BC "A failed bytearray.__init__()": "an argument that fails half-way
    # (an iterator that raises, a failing codec) leaves the old contents in
    # place, where stock CPython has already emptied the object".  Same
    # exception; the bytearray's contents differ, and so may what the
    # argument's callbacks saw (the old contents, not the emptied object:
    # "__init__ consumes its argument before it changes the object").
    m = _INIT.match(stmt)
    if not m or "exc" not in base or "exc" not in pat or not same_exc(base["exc"], pat["exc"]):
        return False
    name = m.group(1)
    sb, sp = base.get("st", {}), pat.get("st", {})
    others_same = all(sb.get(k) == sp.get(k) for k in set(sb) | set(sp) if k != name)
    return others_same and str(sp.get(name, "")).startswith("bytearray(")


_REPEATABLE = ("idx", "eq")


def _drop_repeats(cb: list[Any]) -> list[Any]:
    """The events without second and later conversions of one hostile
    argument (and the actions they ran)."""
    out, dropping = [], False
    for ev in cb:
        if ev[0] in _REPEATABLE:
            dropping = ev[2] >= 1
        elif ev[0] != "act":
            dropping = False
        if not dropping:
            out.append(ev)
    return out


def _converted_once(stmt: str, base: dict[str, Any], pat: dict[str, Any]) -> bool:
    # semantics §3.2 "Arguments first": "Each argument is converted once."
    # Stock converts some arguments twice (array.append/insert/__setitem__
    # check the item with setitem(-1) and then store it; bytearray slice
    # assignment from a non-bytearray converts the slice again in its
    # recursive call).  NOT in the PEP's Backwards Compatibility section:
    # reported so the PEP can list it.  Shape: stock's callbacks are exactly
    # the patched ones plus the repeated conversions (and what they ran), so
    # whatever else differs -- the outcome too, when the repeated
    # conversion's code took a view, resized or raised -- comes from them.
    b, p = _norm_cb(base["cb"]), _norm_cb(pat["cb"])
    return b != p and _drop_repeats(b) == p


def _blocks(cb: list[Any]) -> list[str]:
    """Events grouped as one hostile call and the actions it ran."""
    out: list[list[Any]] = []
    for ev in cb:
        if ev[0] == "act" and out:
            out[-1].append(ev)
        else:
            out.append([ev])
    return sorted(repr(b) for b in out)


def _argument_order(stmt: str, base: dict[str, Any], pat: dict[str, Any]) -> bool:
    # semantics §3.2 "Arguments first": every own operation converts all its
    # arguments -- the value of an item or slice assignment included -- before
    # it checks the state, sizes and bounds (upstream's rule for writes,
    # gh-91153).  Stock converts the index or slice first and the value after
    # (or checks a bound before converting the value), so the same callbacks
    # run in another order, or, when an argument fails, different ones have
    # run before the failure.  PEP BC "Arguments first" says only that a
    # refused operation has already run its arguments' code: reported so
    # the PEP can list the reordering too.
    if ("exc" in base) != ("exc" in pat):
        return False
    b, p = _blocks(_drop_repeats(_norm_cb(base["cb"]))), _blocks(_drop_repeats(_norm_cb(pat["cb"])))
    if "ok" in base:
        return base["ok"] == pat["ok"] and b == p
    if not same_exc(base["exc"], pat["exc"]):
        return False
    return set(b) <= set(p) or set(p) <= set(b)


ALLOWED: list[Allowed] = [
    Allowed("converted-once", "semantics §3.2 'Arguments first': each argument is converted once (PEP BC \"What an argument's code sees\")",
            _converted_once),
    Allowed("argument-order", "semantics §3.2 'Arguments first' (value before bounds, gh-91153); PEP BC \"What an argument's code sees\"",
            _argument_order),
    Allowed("arguments-first", "PEP BC 'Arguments first'; semantics §3.2 'Arguments first'", _arguments_first),
    Allowed("failed-init-keeps", "PEP BC 'A failed bytearray.__init__()'; semantics §3.2 'A refused operation changes nothing'",
            _failed_init_keeps),
]


def _norm_cb(cb: list[Any]) -> list[Any]:
    """Callback events with patched-only exception names mapped to stock's."""
    out = []
    for ev in cb:
        ev = list(ev)
        if ev and ev[-1] == "BufferConflictError":
            ev[-1] = "BufferError"
        out.append(ev)
    return out
