"""§3.2: "An own operation holds the state for its duration" and "a refused
operation changes neither the data nor the state word" -- probed by
operations that consume an iterable: the iterable itself asks for an
IMMUTABLE or EXCLUSIVE export in the middle of the operation (the
deterministic stand-in for another thread slipping in on the free-threaded
build).  Either the request is refused (the operation holds the state) or
the operation is refused without a trace; never may the object change while
the export granted mid-operation is held.  Native only: the shim locks
LockingBytearray, whose operations run on a copy of the iterable first.

bytearray.__init__ and array.array.extend used to fail here (they grew the
object item by item under the export); the patch now collects the items
first and replaces or extends in one resize.
"""
import array

import pytest

import bufferflags as bf

from tests.conformance.conftest import BACKEND

pytestmark = pytest.mark.skipif(not BACKEND.native,
                                reason="bytearray/array are locked natively only")

OPS = [
    ("bytearray.extend", lambda: bytearray(b"abcdefgh"), lambda o, g: o.extend(g)),
    ("bytearray.__init__", lambda: bytearray(b"abcdefgh"),
     lambda o, g: o.__init__(g)),
    ("array.extend", lambda: array.array("B", b"abcdefgh"),
     lambda o, g: o.extend(g)),
    ("bytearray.setslice", lambda: bytearray(b"abcdefgh"),
     lambda o, g: o.__setitem__(slice(0, 2), g)),
    ("bytearray.join-items", lambda: bytearray(b"abcdefgh"),
     lambda o, g: o.join(bytes([x]) for x in g)),
    ("array.setslice", lambda: array.array("B", b"abcdefgh"),
     lambda o, g: o.__setitem__(slice(0, 2), array.array("B", g))),
    ("array.fromlist", lambda: array.array("B", b"abcdefgh"),
     lambda o, g: o.fromlist(list(g))),
    ("array.iadd", lambda: array.array("B", b"abcdefgh"),
     lambda o, g: o.__iadd__(array.array("B", g))),
]


@pytest.mark.parametrize("kwargs", [{"immutable": True},
                                    {"exclusive": True},
                                    {"exclusive": True, "writable": True}],
                         ids=["immutable", "exclusive", "exclusive-write"])
@pytest.mark.parametrize("name,make,op", OPS)
def test_export_granted_mid_operation_freezes_the_object(name, make, op, kwargs):
    obj = make()
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
