"""§6: every row of the message table, with the running type's name
(LockingBytearray, or bytearray natively), and the exception types of §6:
BufferConflictError for what is held, plain BufferError for the rest."""
import pytest

import bufferflags as bf

from ._support import (CONTRADICTORY_MESSAGE, EXCLUSIVE, IMMUTABLE,
                       MEMORYVIEW_MESSAGE, RESIZE_SHARED_MESSAGE, WRITABLE,
                       assert_fresh, conflict_class,
                       while_reading)
from .conftest import DATA


def _refusal(obj, scenario):
    """Run a §6 scenario on obj; return the BufferError raised."""
    held = []
    try:
        if scenario == "immutable-vs-1-writable":
            held.append(bf.acquire(obj, WRITABLE))
            req = lambda: bf.acquire(obj, IMMUTABLE)
        elif scenario == "writable-vs-2-immutable":
            held += [bf.acquire(obj, IMMUTABLE), bf.view(obj, immutable=True)]
            req = lambda: bf.acquire(obj, WRITABLE)
        elif scenario == "plain-vs-exclusive":
            held.append(bf.acquire(obj, EXCLUSIVE))
            req = lambda: bf.acquire(obj, 0)
        elif scenario == "exclusive-vs-3-immutable":
            held += [bf.acquire(obj, IMMUTABLE) for _ in range(3)]
            req = lambda: bf.acquire(obj, EXCLUSIVE | WRITABLE)
        elif scenario == "modify-vs-1-immutable":
            held.append(bf.view(obj, immutable=True))
            req = lambda: obj.__setitem__(0, 0)
        elif scenario == "modify-vs-2-immutable":
            held += [bf.view(obj, immutable=True), memoryview(obj)]
            req = lambda: obj.extend(b"x")
        elif scenario == "read-vs-exclusive":
            held.append(bf.view(obj, exclusive=True, writable=True))
            req = lambda: obj.find(b"x")
        elif scenario == "modify-vs-exclusive":
            held.append(bf.view(obj, exclusive=True))
            req = lambda: obj.reverse()
        elif scenario == "resize-vs-shared":
            held.append(memoryview(obj))
            req = lambda: obj.append(1)
        with pytest.raises(BufferError) as info:
            req()
        return info.value
    finally:
        for h in held:
            h.release()


SCENARIOS = [
    ("immutable-vs-1-writable",
     "{T}: cannot export PyBUF_IMMUTABLE while 1 writable export is held"),
    ("writable-vs-2-immutable",
     "{T}: cannot export PyBUF_WRITABLE while 2 immutable exports are held"),
    ("plain-vs-exclusive",
     "{T}: cannot export a buffer while an exclusive export is held"),
    ("exclusive-vs-3-immutable",
     "{T}: cannot export PyBUF_EXCLUSIVE while 3 immutable exports are held"),
    ("modify-vs-1-immutable", "{T}: cannot modify while 1 immutable export is held"),
    ("modify-vs-2-immutable", "{T}: cannot modify while 2 immutable exports are held"),
    ("read-vs-exclusive", "{T}: cannot read while an exclusive export is held"),
    ("modify-vs-exclusive", "{T}: cannot modify while an exclusive export is held"),
    ("resize-vs-shared", RESIZE_SHARED_MESSAGE),
]


@pytest.mark.parametrize("scenario,template", SCENARIOS, ids=[s for s, _ in SCENARIOS])
def test_s6_conflict_messages(locked, scenario, template):
    """§6 'conflict on export' and 'own operation' rows: type, flag or
    operation, and what is held (count and kind, or 'an exclusive export')."""
    refusal = _refusal(locked, scenario)
    assert str(refusal) == template.format(T=type(locked).__name__)
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("scenario", [s for s, _ in SCENARIOS])
def test_s6_conflicts_are_buffer_conflict_errors(locked, scenario):
    """§6: a refusal because of what is held is a BufferConflictError, both
    for export requests and for the object's own operations (on the shim a
    resize refused by stock bytearray's rule stays BufferError, §7.3)."""
    refusal = _refusal(locked, scenario)
    assert type(refusal) is conflict_class(str(refusal))
    if scenario != "resize-vs-shared":
        assert type(refusal) is bf.BufferConflictError
    assert_fresh(locked, DATA)


@pytest.mark.exclusive
def test_s6_read_in_progress_message(locked):
    """§6: '<type>: cannot export PyBUF_EXCLUSIVE while 1 read is in progress'."""
    seen = []

    def request():
        try:
            bf.acquire(locked, EXCLUSIVE)
        except BufferError as e:
            seen.append((type(e), str(e)))

    while_reading(locked, request)
    assert seen == [(bf.BufferConflictError,
                     "%s: cannot export PyBUF_EXCLUSIVE while 1 read is in progress"
                     % type(locked).__name__)]


@pytest.mark.parametrize("request_,message", [
    (lambda: bf.acquire(b"x", EXCLUSIVE),
     "bytes does not support PyBUF_EXCLUSIVE (supported: PyBUF_IMMUTABLE)"),
    (lambda: bf.acquire(b"x", IMMUTABLE | WRITABLE), CONTRADICTORY_MESSAGE),
    (lambda: bf.acquire(b"x", 0x1000), "unknown buffer request flags 0x1000"),
    (lambda: bf.acquire(memoryview(b"x"), IMMUTABLE), MEMORYVIEW_MESSAGE),
], ids=["unsupported", "contradictory", "unknown-bits", "memoryview"])
def test_s6_request_messages(request_, message):
    with pytest.raises(BufferError) as info:
        request_()
    assert str(info.value) == message
    assert info.type is BufferError     # not a conflict: nothing is held

