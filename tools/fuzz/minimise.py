"""Reduces a failing program to a short reproducer.

First delta debugging (ddmin) over statements, then, greedily, over the
hostile arguments inside the remaining ones: a hostile wrapper is replaced by
its plain value (``Idx(3, act)`` → ``3``), an action by ``None``, a nesting
depth halved, as long as the same kind of finding remains.  Programs are text,
so every candidate is just rerun.
"""
from __future__ import annotations

import ast
from typing import Callable, Iterator

__all__ = ["ddmin", "simplify_args", "minimise"]

Test = Callable[[list[str]], bool]


def ddmin(lines: list[str], fails: Test) -> list[str]:
    """Zeller's ddmin: a 1-minimal sublist of lines for which fails() holds."""
    n = 2
    while len(lines) >= 2:
        chunk = max(1, len(lines) // n)
        subsets = [lines[i:i + chunk] for i in range(0, len(lines), chunk)]
        reduced = False
        for k in range(len(subsets)):
            complement = [ln for j, s in enumerate(subsets) if j != k for ln in s]
            if complement and fails(complement):
                lines, n, reduced = complement, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(lines):
                break
            n = min(len(lines), n * 2)
    return lines


_PLAIN = {"Idx": 0, "Eq": 0, "Sep": 0, "Buf": 0}   # wrapper -> argument that is its plain value


def _variants(line: str) -> Iterator[str]:
    """Each simpler spelling of one statement, one change at a time."""
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    for idx in range(len(calls)):
        for change in range(4):
            t = ast.parse(line)
            node = [n for n in ast.walk(t) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)][idx]
            name = node.func.id
            new: ast.AST | None = None
            if change == 0 and name in _PLAIN and node.args:
                arg = node.args[_PLAIN[name]]
                if name == "Buf" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    arg = ast.Name(arg.value, ast.Load())
                new = arg
            elif change == 0 and name == "It" and node.args:
                new = ast.Call(ast.Name("iter", ast.Load()), [node.args[0]], [])
            elif change == 1 and name in ("Idx", "Eq", "Buf", "It", "Raw", "codec", "audit", "walk") \
                    and len(node.args) > 1:
                pos = 1   # the action: Idx(v, act), Raw(data, act), audit(event, act), ...
                if not (isinstance(node.args[pos], ast.Constant) and node.args[pos].value is None):
                    node.args[pos] = ast.Constant(None)
                    new = node
            elif change == 2 and name == "deep" and isinstance(node.args[0], ast.Constant):
                depth = node.args[0].value
                if isinstance(depth, int) and depth > 2:
                    node.args[0] = ast.Constant(max(2, depth // 2))
                    new = node
            elif change == 3 and name in ("Raw", "codec") and len(node.args) > 2:
                if isinstance(node.args[2], ast.Constant) and node.args[2].value is True:
                    node.args[2] = ast.Constant(False)
                    new = node
            if new is None:
                continue
            if new is not node:
                _replace(t, node, new)
            yield ast.unparse(t)


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for fname, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, fname, new)
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    if v is old:
                        value[i] = new


def simplify_args(lines: list[str], fails: Test, budget: int = 200) -> list[str]:
    """Greedy: replace hostile arguments by plain ones while fails() holds."""
    progress = True
    while progress and budget > 0:
        progress = False
        for i in range(len(lines)):
            for cand in _variants(lines[i]):
                budget -= 1
                trial = lines[:i] + [cand] + lines[i + 1:]
                if fails(trial):
                    lines, progress = trial, True
                    break
                if budget <= 0:
                    return lines
            if progress:
                break
    return lines


def minimise(lines: list[str], fails: Test, budget: int = 200) -> list[str]:
    """Statements first, then hostile-argument nesting, then statements again."""
    lines = ddmin(list(lines), fails)
    lines = simplify_args(lines, fails, budget)
    return ddmin(lines, fails)
