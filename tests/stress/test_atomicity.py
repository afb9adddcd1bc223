"""§3.2: "Operations that consume Python-level input run that input first
and then change the object in one resize" and "a refused operation changes
neither the data nor the state word" -- probed by operations that consume
an iterable: the iterable itself asks for an export (plain, IMMUTABLE or
EXCLUSIVE) in the middle of the operation (the deterministic stand-in for another
thread slipping in on the free-threaded build).  Either the request is
refused (the operation holds the state) or the operation is refused without
a trace; never may the object change while the export granted
mid-operation is held.  Where the operation runs its input before it takes
the state (every one but join, which reads the object while it iterates),
the request must be granted: nothing is held yet.

Natively bytearray.__init__ and array.array.extend used to fail here (they
grew the object item by item under the export), and so did the shim's
LockingBytearray.__init__ (it emptied the object before running its input).
Both now run the input first and replace or extend in one resize.
"""
import array

import pytest

import bufferflags as bf

from tests.conformance.conftest import BACKEND

# (name, kind, make(locked_type), op(obj, iterable)); kind "locked" runs on
# every locked type of the backend, "array" on array.array where it is
# locked (natively).
OPS = [
    ("extend", "locked", lambda t: t(b"abcdefgh"), lambda o, g: o.extend(g)),
    ("__init__", "locked", lambda t: t(b"abcdefgh"), lambda o, g: o.__init__(g)),
    ("setslice", "locked", lambda t: t(b"abcdefgh"),
     lambda o, g: o.__setitem__(slice(0, 2), g)),
    ("join-items", "locked", lambda t: t(b"abcdefgh"),
     lambda o, g: o.join(bytes([x]) for x in g)),
    ("array.extend", "array", lambda t: array.array("B", b"abcdefgh"),
     lambda o, g: o.extend(g)),
    ("array.setslice", "array", lambda t: array.array("B", b"abcdefgh"),
     lambda o, g: o.__setitem__(slice(0, 2), array.array("B", g))),
    ("array.fromlist", "array", lambda t: array.array("B", b"abcdefgh"),
     lambda o, g: o.fromlist(list(g))),
    ("array.iadd", "array", lambda t: array.array("B", b"abcdefgh"),
     lambda o, g: o.__iadd__(array.array("B", g))),
]
OPS_BY_NAME = {name: op for name, _, _, op in OPS}
CASES = [
    pytest.param(t, make, op, id="%s-%s" % (t.__name__, name) if kind == "locked" else name)
    for name, kind, make, op in OPS
    for t in (BACKEND.locked_types if kind == "locked"
              else [array.array] if BACKEND.native else [])
]


@pytest.mark.parametrize("kwargs", [{},
                                    {"immutable": True},
                                    {"exclusive": True},
                                    {"exclusive": True, "writable": True}],
                         ids=["plain", "immutable", "exclusive", "exclusive-write"])
@pytest.mark.parametrize("tp,make,op", CASES)
def test_export_granted_mid_operation_freezes_the_object(tp, make, op, kwargs):
    obj = make(tp)
    name = type(obj).__name__
    reads_while_iterating = op is OPS_BY_NAME["join-items"]
    held = []

    def items():
        yield 1
        try:
            held.append(bf.view(obj, **kwargs))
        except BufferError:
            pass                     # the operation holds the state: fine
        yield 2
        yield 3

    before = bytes(obj)
    try:
        op(obj, items())
    except BufferError:
        refused = True
    else:
        refused = False
    if not (reads_while_iterating and kwargs.get("exclusive")):
        assert held, (name, "the input ran while the state was held")
    try:
        if held:
            v = held[0]
            seen = v.tobytes()
            # the object must still be what the export was granted on
            assert len(obj) == len(v), (name, len(obj), len(v))
            if not kwargs.get("exclusive"):
                assert bytes(obj) == seen, (name, bytes(obj), seen)
    finally:
        for v in held:
            v.release()
    if refused:
        assert bytes(obj) == before, (name, "refused with a trace")
