"""§3.2 last bullet: a refused or failing operation changes neither the data
nor the state word, on every path out.  Every public method and slot of a
locked type is called with arguments that fail (wrong types, out-of-range
values, hooks that raise in __index__, __buffer__, __iter__ or __len__,
wrong lengths for an extended slice) -- once on a FREE object and once while
an immutable export is held -- and must leave the object as it was: same
bytes, and FREE again once the export is released.  A wrong-length
extended-slice assignment used to leave array.array in the resize state for
ever; this sweep finds any such path without naming it.
"""
import array
import operator

import pytest

import bufferflags as bf

from ._support import IMMUTABLE, assert_fresh, mode_of
from .conftest import BACKEND, DATA


class _Fails(Exception):
    pass


class _Hostile:
    """Fails in every conversion or comparison a method may try."""

    def __index__(self):
        raise _Fails("__index__")

    def __iter__(self):
        raise _Fails("__iter__")

    def __len__(self):
        raise _Fails("__len__")

    def __float__(self):
        raise _Fails("__float__")

    def __buffer__(self, flags):
        raise _Fails("__buffer__")

    def __eq__(self, other):
        raise _Fails("__eq__")

    __hash__ = None


class _HostileStr(str):
    def __len__(self):
        raise _Fails("__len__")


def _failing_iterable():
    yield 1
    raise _Fails("iterator")


def _bad_args():
    """Fresh argument tuples that fail (an iterator is used up once)."""
    return [
        (),
        (None,),
        ("text",),
        (-1,),
        (1 << 70,),
        (1.5,),
        (_Hostile(),),
        (_HostileStr("-"),),
        (_failing_iterable(),),
        ([1, 2, 300],),
        ([1, _Hostile()],),
        (1, _Hostile()),
        (_Hostile(), 1),
        (b"x", _Hostile()),
        (b"x", b"y", _Hostile()),
    ]

# Methods whose failing calls are not about the object: constructors of new
# objects, and the pickling/size helpers that take no meaningful arguments.
SKIPPED = {"fromhex", "maketrans", "__class_getitem__", "__init_subclass__",
           "__new__", "__subclasshook__", "__reduce__", "__reduce_ex__",
           "__getstate__", "__setstate__", "__format__", "__dir__"}


def _types():
    types = list(BACKEND.locked_types)
    if BACKEND.native:
        types.append(array.array)
    return types


def _make(tp):
    if tp is array.array:
        return array.array("B", DATA)
    return tp(DATA)


def _methods(tp):
    names = []
    for name in sorted(dir(tp)):
        if name in SKIPPED or name in ("__init__",):
            continue
        if callable(getattr(tp, name, None)):
            names.append(name)
    return names + ["__init__"]


def _call(obj, name, args):
    try:
        result = getattr(obj, name)(*args)
    except Exception as e:          # noqa: BLE001 -- every failure counts
        return e
    if isinstance(result, memoryview):
        result.release()
    return None


def _slot_calls(obj):
    """Item and slice assignment and deletion that fail."""
    other = _make(type(obj))[:1]
    yield lambda: operator.setitem(obj, slice(None, None, 2), other)   # wrong length
    yield lambda: operator.setitem(obj, slice(_Hostile(), None, 2), other)
    yield lambda: operator.setitem(obj, _Hostile(), 1)
    yield lambda: operator.setitem(obj, 0, _Hostile())
    yield lambda: operator.setitem(obj, 1 << 70, 1)
    yield lambda: operator.setitem(obj, slice(1, 2), _Hostile())
    yield lambda: operator.delitem(obj, _Hostile())
    yield lambda: operator.delitem(obj, slice(_Hostile(), None))
    yield lambda: operator.iadd(obj, _Hostile())
    yield lambda: operator.imul(obj, _Hostile())
    yield lambda: operator.contains(obj, _Hostile())
    yield lambda: operator.getitem(obj, _Hostile())


SLOT_CALLS = 12


def _check_unchanged(obj, data, what):
    assert bytes(obj) == data, what


@pytest.mark.parametrize("tp", _types(), ids=lambda t: t.__name__)
def test_s3_2_failing_calls_leave_no_trace(tp):
    """Every failing call on a FREE object leaves it FREE with its data."""
    checked = 0
    for name in _methods(tp):
        for args in _bad_args():
            obj = _make(tp)
            data = bytes(obj)
            error = _call(obj, name, args)
            what = "%s.%s%r -> %r" % (tp.__name__, name, args, error)
            if error is not None:
                _check_unchanged(obj, data, what)
                checked += 1
            assert mode_of(obj) == "FREE", what
    for index in range(SLOT_CALLS):
        obj = _make(tp)
        data = bytes(obj)
        call = list(_slot_calls(obj))[index]
        with pytest.raises(Exception):
            call()
        _check_unchanged(obj, data, "slot call %d" % index)
        assert_fresh(obj, data)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("tp", _types(), ids=lambda t: t.__name__)
def test_s3_2_failing_calls_under_an_immutable_export(tp):
    """The same calls while an immutable export is held: refused or
    failing, they change nothing, and the object is FREE once the export
    is released."""
    for name in _methods(tp):
        for args in _bad_args():
            obj = _make(tp)
            data = bytes(obj)
            held = bf.acquire(obj, IMMUTABLE)
            try:
                error = _call(obj, name, args)
                what = "%s.%s%r -> %r" % (tp.__name__, name, args, error)
                _check_unchanged(obj, data, what)
                assert held.tobytes() == data, what
                assert mode_of(obj) == "IMMUTABLE", what
            finally:
                held.release()
            assert mode_of(obj) == "FREE", what
    for index in range(SLOT_CALLS):
        obj = _make(tp)
        data = bytes(obj)
        call = list(_slot_calls(obj))[index]
        with bf.acquire(obj, IMMUTABLE):
            with pytest.raises(Exception):
                call()
            _check_unchanged(obj, data, "slot call %d" % index)
        assert_fresh(obj, data)
