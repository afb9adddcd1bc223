"""The object's own operations of §3.2, by category, for a bytearray-like
object `b` holding conftest.DATA.  Each entry: (id, category, function).
The expected result of an allowed operation is the same function applied to a
plain stock bytearray (the reference); results are compared after norm()."""
import binascii
import copy
import hashlib
import operator
import pickle
import struct
import zlib

from .conftest import DATA

_EXT2 = len(DATA[::2])
_EXT3 = len(DATA[1::3])


def _iadd(b, other):
    b += other
    return b


def _imul(b, n):
    b *= n
    return b


class _Index:
    """An index or byte value whose __index__ is Python code: it runs before
    the operation takes the state (§3.2)."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


class _Mapping:
    """A mapping that is not a dict: `%` looks its keys up as it formats."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, key):
        return self.items[key]


def _reinit(*args):
    def op(b):
        return b.__init__(*args)
    return op


# Reads of contents (§3.2 first bullet).  The ones marked "export" read
# through the buffer protocol (a plain read request, §3.1).
READS = [
    ("index", lambda b: b[3]),
    ("index-negative", lambda b: b[-1]),
    ("slice", lambda b: b[2:9]),
    ("extended-slice", lambda b: b[::3]),
    ("iter-list", list),
    ("iter-tuple", tuple),
    ("iter-sorted", sorted),
    ("iter-max", max),
    ("reversed", lambda b: list(reversed(b))),
    ("repr", lambda b: repr(b).partition("(")[2]),
    ("str", lambda b: str(b).partition("(")[2]),
    ("eq", lambda b: b == DATA),
    ("ne", lambda b: b != DATA),
    ("lt", lambda b: b < b"zzz"),
    ("ge", lambda b: b >= DATA),
    ("eq-reflected-bytes", lambda b: DATA == b),
    ("eq-reflected-bytearray", lambda b: bytearray(DATA) == b),
    ("contains-bytes", lambda b: b"abc" in b),
    ("contains-int", lambda b: ord("z") in b),
    ("concat", lambda b: b + b"!"),
    ("concat-onto-bytes(export)", lambda b: b"!" + b),
    ("concat-onto-bytearray(export)", lambda b: bytearray(b"!") + b),
    ("repeat", lambda b: b * 2),
    ("repeat-reflected", lambda b: 2 * b),
    ("percent", lambda b: b % ()),
    ("percent-arg", lambda b: bytearray(b"<%s>") % b),
    ("percent-arg-in-tuple", lambda b: type(b)(b"<%s|%s>") % (b"x", b)),
    ("percent-arg-in-dict", lambda b: type(b)(b"<%(x)s|%(b)s>") % {b"x": b"x", b"b": b}),
    ("percent-arg-in-mapping",
     lambda b: type(b)(b"<%(b)s|%(b)b>") % _Mapping({b"b": b})),
    ("hashlib(export)", lambda b: hashlib.sha256(b).hexdigest()),
    ("zlib.crc32(export)", zlib.crc32),
    ("binascii.hexlify(export)", binascii.hexlify),
    ("bytes()(export)", bytes),
    ("bytearray()(export)", bytearray),
    ("memoryview(export)", lambda b: memoryview(b).tobytes()),
    ("int.from_bytes(export)", lambda b: int.from_bytes(b, "big")),
    ("struct.unpack_from(export)", lambda b: struct.unpack_from("5s", b, 0)),
    ("str-decode(export)", lambda b: str(b, "latin-1")),
    ("bytes.find-arg(export)", lambda b: DATA.find(b)),
    ("bytes.join-item(export)", lambda b: b"-".join([b, b])),
    ("bytearray.extend-arg(export)", lambda b: bytearray(b"!").extend(b)),
    ("bytearray.iadd-arg(export)", lambda b: _iadd(bytearray(b"!"), b)),
    ("pickle-2", lambda b: bytes(pickle.loads(pickle.dumps(b, 2)))),
    ("pickle-5", lambda b: bytes(pickle.loads(pickle.dumps(b, 5)))),
    ("copy-method", lambda b: b.copy()),
    ("copy.copy", copy.copy),
    ("copy.deepcopy", copy.deepcopy),
    ("find", lambda b: b.find(b"abc")),
    ("find-int", lambda b: b.find(ord("w"))),
    ("rfind", lambda b: b.rfind(b"l")),
    ("count", lambda b: b.count(b"l")),
    ("index-method", lambda b: b.index(b"world")),
    ("rindex", lambda b: b.rindex(b"o")),
    ("startswith", lambda b: b.startswith(b"hello")),
    ("endswith", lambda b: b.endswith(b"xyz")),
    ("decode", lambda b: b.decode()),
    ("hex", lambda b: b.hex()),
    ("hex-sep", lambda b: b.hex(":")),
    ("split", lambda b: b.split()),
    ("split-sep", lambda b: b.split(b",")),
    ("rsplit", lambda b: b.rsplit(b" ", 1)),
    ("splitlines", lambda b: b.splitlines()),
    ("partition", lambda b: b.partition(b" ")),
    ("rpartition", lambda b: b.rpartition(b" ")),
    ("join", lambda b: b.join([b"1", b"2"])),
    ("translate", lambda b: b.translate(bytes.maketrans(b"abc", b"xyz"))),
    ("translate-delete", lambda b: b.translate(None, b"l")),
    ("upper", lambda b: b.upper()),
    ("lower", lambda b: b.lower()),
    ("swapcase", lambda b: b.swapcase()),
    ("title", lambda b: b.title()),
    ("capitalize", lambda b: b.capitalize()),
    ("strip", lambda b: b.strip(b"hz")),
    ("lstrip", lambda b: b.lstrip(b"h")),
    ("rstrip", lambda b: b.rstrip(b"z")),
    ("replace", lambda b: b.replace(b"l", b"L")),
    ("center", lambda b: b.center(40)),
    ("ljust", lambda b: b.ljust(40)),
    ("rjust", lambda b: b.rjust(40)),
    ("zfill", lambda b: b.zfill(40)),
    ("expandtabs", lambda b: b.expandtabs()),
    ("removeprefix", lambda b: b.removeprefix(b"hello")),
    ("removesuffix", lambda b: b.removesuffix(b"xyz")),
    ("isalnum", lambda b: b.isalnum()),
    ("isalpha", lambda b: b.isalpha()),
    ("isascii", lambda b: b.isascii()),
    ("isdigit", lambda b: b.isdigit()),
    ("islower", lambda b: b.islower()),
    ("isspace", lambda b: b.isspace()),
    ("istitle", lambda b: b.istitle()),
    ("isupper", lambda b: b.isupper()),
]

# In-place writes (§3.2 second bullet): same-length item/slice assignment,
# extended-slice assignment, reverse().
WRITES = [
    ("setitem", lambda b: b.__setitem__(0, 72)),
    ("setitem-negative", lambda b: operator.setitem(b, -1, 33)),
    ("setslice-same-length", lambda b: operator.setitem(b, slice(0, 5), b"HELLO")),
    ("setslice-same-length-list", lambda b: operator.setitem(b, slice(0, 2), [72, 69])),
    ("setslice-same-length-memoryview",
     lambda b: operator.setitem(b, slice(1, 3), memoryview(b"EL"))),
    ("setslice-extended", lambda b: operator.setitem(b, slice(None, None, 2), b"." * _EXT2)),
    ("setslice-extended-step3",
     lambda b: operator.setitem(b, slice(1, None, 3), b"?" * _EXT3)),
    ("setslice-extended-negative",
     lambda b: operator.setitem(b, slice(None, None, -2), b"_" * _EXT2)),
    ("setitem-__index__", lambda b: operator.setitem(b, _Index(0), _Index(72))),
    ("setslice-__index__-bounds",
     lambda b: operator.setitem(b, slice(_Index(0), _Index(2)), b"HE")),
    ("setslice-same-length-iterator",
     lambda b: operator.setitem(b, slice(0, 2), iter([72, 69]))),
    ("reverse", lambda b: b.reverse()),
]

# Resizes (§3.2 second bullet).
RESIZES = [
    ("setslice-shrink", lambda b: operator.setitem(b, slice(0, 5), b"h")),
    ("setslice-grow", lambda b: operator.setitem(b, slice(0, 1), b"HHH")),
    ("setslice-insert", lambda b: operator.setitem(b, slice(0, 0), b">>")),
    ("setslice-at-end", lambda b: operator.setitem(b, slice(len(b), None), b"<<")),
    ("setslice-delete-by-empty", lambda b: operator.setitem(b, slice(0, 3), b"")),
    ("delitem", lambda b: operator.delitem(b, 0)),
    ("delslice", lambda b: operator.delitem(b, slice(0, 3))),
    ("delslice-extended", lambda b: operator.delitem(b, slice(None, None, 2))),
    ("append", lambda b: b.append(33)),
    ("extend-bytes", lambda b: b.extend(b"!!")),
    ("extend-list", lambda b: b.extend([33, 34])),
    ("extend-iterator", lambda b: b.extend(iter([33, 34]))),
    ("insert", lambda b: b.insert(0, 33)),
    ("pop", lambda b: b.pop()),
    ("pop-index", lambda b: b.pop(0)),
    ("remove", lambda b: b.remove(ord("w"))),
    ("clear", lambda b: b.clear()),
    ("iadd", lambda b: _iadd(b, b"!!")),
    ("imul", lambda b: _imul(b, 2)),
    ("imul-0", lambda b: _imul(b, 0)),
    ("__init__", _reinit(b"new")),
    ("__init__-same-length", _reinit(DATA.upper())),
    ("__init__-empty", _reinit()),
    ("__init__-int", _reinit(3)),
    ("__init__-iterator", lambda b: b.__init__(iter(b"new"))),
    ("__init__-str", _reinit("new", "ascii")),
    ("append-__index__", lambda b: b.append(_Index(33))),
    ("insert-__index__", lambda b: b.insert(_Index(0), _Index(33))),
    ("pop-__index__", lambda b: b.pop(_Index(0))),
    ("delitem-__index__", lambda b: operator.delitem(b, _Index(0))),
    ("setslice-shrink-__index__-bounds",
     lambda b: operator.setitem(b, slice(_Index(0), _Index(5)), b"h")),
    ("iadd-memoryview", lambda b: _iadd(b, memoryview(b"!!"))),
    ("extend-self", lambda b: b.extend(b)),
]

# Resizes that change no size: stock CPython lets them through while
# exported, so the SHARED cell ("today's rule") is not asserted for them.
SIZE_PRESERVING_RESIZES = [
    ("iadd-empty", lambda b: _iadd(b, b"")),
    ("imul-1", lambda b: _imul(b, 1)),
]

LENGTHS = [
    ("len", len),
    ("__len__", lambda b: b.__len__()),
    ("bool", bool),
]


def norm(x):
    """Compare results of a LockingBytearray and a bytearray by value."""
    if isinstance(x, (bytes, bytearray, memoryview)):
        return ("bytes", bytes(x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(norm(i) for i in x))
    if x is None or isinstance(x, (int, str, bool)):
        return x
    # a result bytearray subclass instance, e.g. b.copy()
    return ("bytes", bytes(x))
