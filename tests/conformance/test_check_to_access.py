"""No Python code between a check and the last access (issue 19, items 2 and 3).

Three places where Python code used to run after an operation checked the
state and before it last touched the memory: the argument's
``__release_buffer__`` in ``strip()``, the "compile" audit hook in
``compile()``/``exec()``/``eval()``, and ``__eq__`` inside ``array``'s
searches.  A callback there may take the object exclusively, write it or
shrink it; the operation must then either have finished reading or be
refused — never return what the exclusive holder wrote, never read freed
memory.  Plus the argument parsers of the search methods, which must not
recurse into nested tuples (a crash on patched builds before the rebase).
"""
import array
import sys

import pytest

import bufferflags as bf

from .conftest import BACKEND, HAS_PEP688

BIG = 1 << 20


# -- strip(): the argument's __release_buffer__ ------------------------------

class ReleaseCallback:
    """A strip() argument whose release runs `then`."""

    def __init__(self, chars, then):
        self.chars = bytes(chars)
        self.then = then

    def __buffer__(self, flags):
        return memoryview(self.chars)

    def __release_buffer__(self, view):
        view.release()
        self.then()


@pytest.mark.skipif(not HAS_PEP688, reason="Python-level __release_buffer__ is 3.12+")
@pytest.mark.parametrize("method", ["strip", "lstrip", "rstrip"])
@pytest.mark.parametrize("action", ["exclusive-write", "shrink"])
def test_strip_has_read_before_the_argument_is_released(locked_type, method, action):
    obj = locked_type(b"  " + b"k" * BIG + b"  ")
    before = getattr(bytes(obj), method)(b" ")
    held = []

    def callback():
        if action == "shrink":
            obj.clear()
        else:
            v = bf.view(obj, exclusive=True, writable=True)
            v[:] = b"E" * len(v)
            held.append(v)

    try:
        result = getattr(obj, method)(ReleaseCallback(b" ", callback))
        assert result == before     # read before the callback, never after
        # The argument is released after the copy, so the callback's
        # exclusive export or resize is granted.
        assert held or obj == bytearray()
    finally:
        for v in held:
            assert bytes(v) == b"E" * len(v)
            v.release()
    obj.clear()


# -- compile(): the "compile" audit hook --------------------------------------

_HOOK = []


def _audit(event, args):
    if event == "compile" and _HOOK:
        _HOOK[0]()


sys.addaudithook(_audit)


@pytest.mark.exclusive
@pytest.mark.parametrize("run", ["exec", "compile"])
def test_compile_has_copied_bytearray_source_before_the_audit_hook(run):
    if not BACKEND.native:
        pytest.skip("§7.3: stock compile() reads a LockingBytearray directly "
                    "(documented limit; plain bytearray is not locked there)")
    source = bytearray(b"x = 1" + b" " * BIG)
    held = []

    def hook():
        _HOOK.clear()
        v = bf.view(source, exclusive=True, writable=True)
        v[:5] = b"x = 2"
        held.append(v)

    _HOOK.append(hook)
    ns = {}
    try:
        if run == "exec":
            exec(source, ns)
        else:
            exec(compile(source, "<bytearray>", "exec"), ns)
    finally:
        _HOOK.clear()
    assert held, "the hook ran"
    assert ns["x"] == 1             # what was checked is what ran
    held[0].release()
    assert bytes(source[:5]) == b"x = 2"


def test_compile_source_shrunk_by_the_audit_hook_is_not_read():
    if not BACKEND.native:
        pytest.skip("§7.3: stock compile() reads the bytearray after the hook")
    source = bytearray(b"y = 3" + b" " * BIG)

    def hook():
        _HOOK.clear()
        source.clear()

    _HOOK.append(hook)
    ns = {}
    try:
        exec(source, ns)
    finally:
        _HOOK.clear()
    assert ns["y"] == 3 and source == bytearray()


# -- array searches: __eq__ between two reads ---------------------------------

class TakesExclusive:
    """Compares equal to nothing; takes the array exclusively on first use."""

    def __init__(self, target, held):
        self.target = target
        self.held = held

    def __eq__(self, other):
        if not self.held:
            self.held.append(bf.view(self.target, exclusive=True, writable=True))
        return False


SEARCHES = {
    "count": lambda a, x: a.count(x),
    "index": lambda a, x: a.index(x),
    "remove": lambda a, x: a.remove(x),
    "in": lambda a, x: x in a,
}


@pytest.mark.exclusive
@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_array_search_checks_every_step(search):
    a = array.array("i", range(8))
    held = []
    try:
        if BACKEND.native:
            with pytest.raises(bf.BufferConflictError,
                               match="cannot read while an exclusive export is held"):
                SEARCHES[search](a, TakesExclusive(a, held))
            assert len(held) == 1
        else:
            # §5 on the shim: array supports neither flag.
            with pytest.raises(BufferError, match="does not support PyBUF_EXCLUSIVE"):
                SEARCHES[search](a, TakesExclusive(a, held))
    finally:
        for v in held:
            v.release()
    assert a == array.array("i", range(8))


class Appends:
    """__eq__ that grows the array being searched: allowed, as on stock."""

    def __init__(self, target):
        self.target = target

    def __eq__(self, other):
        if len(self.target) < 12:
            self.target.append(99)
        return False


@pytest.mark.parametrize("search", ["count", "in"])
def test_array_search_holds_nothing_while_eq_runs(search):
    a = array.array("i", range(4))
    SEARCHES[search](a, Appends(a))
    assert a == array.array("i", list(range(4)) + [99] * 8)


# -- search arguments nested without bound ------------------------------------

def _nested(depth):
    t = b"x"
    for _ in range(depth):
        t = (t,)
    return t


DEEP = _nested(300_000)
DEEP_CALLS = {
    "startswith": lambda o: o.startswith(DEEP),
    "endswith": lambda o: o.endswith(DEEP),
    "find": lambda o: o.find(DEEP),
    "count": lambda o: o.count(DEEP),
    "index": lambda o: o.index(DEEP),
    "in": lambda o: DEEP in o,
}


@pytest.mark.parametrize("call", sorted(DEEP_CALLS))
@pytest.mark.parametrize("kind", ["bytes", "bytearray", "locked"])
def test_deeply_nested_tuple_argument_is_a_type_error(call, kind, locked_type):
    obj = {"bytes": bytes, "bytearray": bytearray, "locked": locked_type}[kind](b"abc")
    with pytest.raises(TypeError):
        DEEP_CALLS[call](obj)
