"""Shared vocabulary of the conformance suite: raw request flags, the
expected tables of proposal/semantics.md (§3.1, §3.2, §6) and probes that
observe a locked exporter's state only through what it grants.

Nothing here knows which backend runs: the same helpers serve the shim
(stock CPython 3.11-3.13) and the patched interpreter (bufferflags.NATIVE).
"""
import re

import bufferflags as bf

# False on an interpreter that implements only PyBUF_IMMUTABLE (Part 1 of
# the series): there the tests that need EXCLUSIVE are skipped
# (tests/conftest.py), and the helpers below do not request it.
from ..conftest import EXCLUSIVE_IMPLEMENTED

# ---- raw PyBUF_* request flags (§1) --------------------------------------
SIMPLE = 0x0
WRITABLE = 0x1
FORMAT = 0x4
ND = 0x8
STRIDES = 0x18
INDIRECT = 0x100 | STRIDES
READ = 0x100
WRITE = 0x200
FULL_RO = 0x11C
FULL = 0x11D
IMMUTABLE = 0x400
EXCLUSIVE = 0x800
KNOWN_MASK = 0x0FFD

# Every request kind of §2, each with several raw spellings a C consumer
# might pass to PyObject_GetBuffer().
REQUESTS = {
    "plain": [SIMPLE, FULL_RO, FORMAT, WRITE | FORMAT],
    "writable": [WRITABLE, FULL],
    "immutable": [IMMUTABLE, IMMUTABLE | FULL_RO],
    "exclusive_read": [EXCLUSIVE, EXCLUSIVE | IMMUTABLE, EXCLUSIVE | FULL_RO,
                       EXCLUSIVE | IMMUTABLE | FULL_RO],
    "exclusive_write": [EXCLUSIVE | WRITABLE, EXCLUSIVE | FULL],
}
KINDS = list(REQUESTS)
RAW_REQUESTS = [(kind, flags) for kind, spellings in REQUESTS.items()
                for flags in spellings]

CONTRADICTORY = [IMMUTABLE | WRITABLE, IMMUTABLE | FULL,
                 EXCLUSIVE | IMMUTABLE | WRITABLE]
# (flags, the bits the message must name) -- §2 rule 1, §6 "unknown bits".
UNKNOWN = [
    (0x1000, 0x1000),
    (0x1000 | IMMUTABLE, 0x1000),
    (0x1000 | WRITABLE, 0x1000),
    (0x2, 0x2),                 # PEP 3118's withdrawn PyBUF_LOCK (§1)
    (0x2 | FULL_RO, 0x2),
    (0x4000 | EXCLUSIVE, 0x4000),
]
NEGATIVE = [-1, -2, -0x80000000]

#: §5: what a locked type (bytearray and array.array natively,
#: LockingBytearray everywhere) supports: both flags, or IMMUTABLE alone
#: where the interpreter implements only IMMUTABLE.
LOCKED_FLAGS = bf.BufferFlags(IMMUTABLE | EXCLUSIVE if EXCLUSIVE_IMPLEMENTED
                              else IMMUTABLE)


def hexflags(flags):
    return "0x%x" % flags


# ---- §3.1: held state x export request -----------------------------------
RO, RW, REFUSED = "ro", "rw", "refused"

# state -> kind -> (granted readonly, new mode) or REFUSED
TABLE_3_1 = {
    "FREE": {
        "plain": (RW, "SHARED"),
        "writable": (RW, "SHARED"),
        "immutable": (RO, "IMMUTABLE"),
        "exclusive_read": (RO, "EXCLUSIVE"),
        "exclusive_write": (RW, "EXCLUSIVE"),
    },
    "SHARED": {
        "plain": (RW, "SHARED"),
        "writable": (RW, "SHARED"),
        "immutable": REFUSED,
        "exclusive_read": REFUSED,
        "exclusive_write": REFUSED,
    },
    "IMMUTABLE": {
        "plain": (RO, "IMMUTABLE"),
        "writable": REFUSED,
        "immutable": (RO, "IMMUTABLE"),
        "exclusive_read": REFUSED,
        "exclusive_write": REFUSED,
    },
    "EXCLUSIVE": {kind: REFUSED for kind in KINDS},
}

# "FREE with in-progress own reads only" (§3.1, last paragraph)
TABLE_3_1_READING = {
    "plain": (RW, "SHARED"),
    "writable": (RW, "SHARED"),
    "immutable": (RO, "IMMUTABLE"),
    "exclusive_read": REFUSED,
    "exclusive_write": REFUSED,
}


def expected_cell(mode, kind, reading=False):
    """The §3.1 cell a reference model expects on this interpreter: the
    table's (TABLE_3_1_READING's in FREE mode with own reads in progress),
    except that where EXCLUSIVE is not implemented an exclusive request is
    refused in every state and changes nothing (0x800 is an unknown bit)."""
    if kind.startswith("exclusive") and not EXCLUSIVE_IMPLEMENTED:
        return REFUSED
    if mode == "FREE" and reading:
        return TABLE_3_1_READING[kind]
    return TABLE_3_1[mode][kind]


# ---- §3.2: held state x own operation -------------------------------------
ALLOWED = "allowed"
TABLE_3_2 = {
    "FREE": {"read": ALLOWED, "write": ALLOWED, "resize": ALLOWED, "len": ALLOWED},
    "SHARED": {"read": ALLOWED, "write": ALLOWED, "resize": REFUSED, "len": ALLOWED},
    "IMMUTABLE": {"read": ALLOWED, "write": REFUSED, "resize": REFUSED, "len": ALLOWED},
    "EXCLUSIVE": {"read": REFUSED, "write": REFUSED, "resize": REFUSED, "len": ALLOWED},
}

# ---- §6 messages -----------------------------------------------------------
ACTION = {
    "plain": "export a buffer",
    "writable": "export PyBUF_WRITABLE",
    "immutable": "export PyBUF_IMMUTABLE",
    "exclusive_read": "export PyBUF_EXCLUSIVE",
    "exclusive_write": "export PyBUF_EXCLUSIVE",
    "read": "read",
    "write": "modify",
    "resize": "modify",
}
RESIZE_SHARED_MESSAGE = "Existing exports of data: object cannot be re-sized"
CONTRADICTORY_MESSAGE = "PyBUF_IMMUTABLE and PyBUF_WRITABLE cannot be combined"
MEMORYVIEW_MESSAGE = ("memoryview: cannot export PyBUF_IMMUTABLE: "
                      "the underlying export is not immutable")


def held_phrase(mode, count):
    if mode == "EXCLUSIVE":
        return "an exclusive export is held"
    what = {"SHARED": "writable export", "IMMUTABLE": "immutable export",
            "FREE": "read"}[mode]
    return "%d %s%s %s %s" % (count, what, "" if count == 1 else "s",
                              "is" if count == 1 else "are",
                              "in progress" if mode == "FREE" else "held")


def conflict_message(tp, action, mode, count=1):
    """The §6 message for a conflict on `tp` (a type or its name)."""
    name = tp if isinstance(tp, str) else tp.__name__
    return "%s: cannot %s while %s" % (name, action, held_phrase(mode, count))


def conflict_class(message):
    """§6: the class of a refusal because of a held state, from its message.

    BufferConflictError, except on the shim for a resize refused with stock
    bytearray's own message (stock CPython raises it as BufferError, and the
    shim words and raises its own the same way): §7.3."""
    if message == RESIZE_SHARED_MESSAGE and not bf.NATIVE:
        return BufferError
    return bf.BufferConflictError


def unsupported_message_prefix(tp, flagname):
    name = tp if isinstance(tp, str) else tp.__name__
    return "%s does not support %s" % (name, flagname)


# ---- probes ----------------------------------------------------------------
def mode_of(obj):
    """The mode of a locked exporter, observed only through grants (§3.1).

    FREE: a plain read is granted writable and an immutable one afterwards;
    SHARED: plain granted writable, immutable refused; IMMUTABLE: plain
    granted read-only; EXCLUSIVE: even a plain read is refused.  Every probe
    export is released again, so the state is left as found."""
    try:
        m = bf.acquire(obj, SIMPLE)
    except BufferError:
        return "EXCLUSIVE"
    try:
        if m.readonly:
            return "IMMUTABLE"
    finally:
        m.release()
    try:
        m = bf.acquire(obj, IMMUTABLE)
    except BufferError:
        return "SHARED"
    m.release()
    return "FREE"


_HELD_RE = re.compile(
    r"^(?P<type>\w+): cannot (?P<action>.+?) while (?:an exclusive export is held|"
    r"(?P<count>\d+) (?:writable export|immutable export|read)s? (?:is|are) "
    r"(?:held|in progress))$")


def count_of(obj):
    """The count of a SHARED or IMMUTABLE exporter, read from the §6 message
    of a request that the mode refuses (the refusal changes nothing)."""
    mode = mode_of(obj)
    flags = {"SHARED": IMMUTABLE, "IMMUTABLE": WRITABLE}[mode]
    try:
        m = bf.acquire(obj, flags)
    except BufferError as e:
        match = _HELD_RE.match(str(e))
        assert match, "not a §6 conflict message: %r" % str(e)
        return int(match.group("count"))
    m.release()
    raise AssertionError("%s mode granted %#x" % (mode, flags))


def assert_fresh(obj, data):
    """After everything is released the object behaves as a fresh bytearray
    (§3: the mode returns to FREE when the count returns to 0): exclusive
    requests granted too, where the interpreter implements them."""
    assert bytes(obj) == data
    assert mode_of(obj) == "FREE"
    m = memoryview(obj)
    try:
        assert m.readonly is False          # a plain read of a bytearray: rw
    finally:
        m.release()
    if EXCLUSIVE_IMPLEMENTED:
        with bf.acquire(obj, EXCLUSIVE | WRITABLE) as m:
            assert m.readonly is False
        with bf.acquire(obj, EXCLUSIVE) as m:
            assert m.readonly is True
    if data:
        obj[0] = obj[0]                      # in-place write
    obj.reverse()
    obj.reverse()
    obj.append(0x5A)                         # resize
    assert obj.pop() == 0x5A
    assert bytes(obj) == data
    assert mode_of(obj) == "FREE"


def assert_nothing_held(obj):
    """Nothing is held or in progress: FREE, and the strictest request this
    interpreter implements is granted (exclusive and writable, refused even
    by a read in progress; where EXCLUSIVE is not implemented, the FREE
    probes of mode_of() are the strictest)."""
    assert mode_of(obj) == "FREE"
    if EXCLUSIVE_IMPLEMENTED:
        with bf.acquire(obj, EXCLUSIVE | WRITABLE) as m:
            assert m.readonly is False


def release_all(views):
    for v in views:
        v.release()


#: §7.6: stock consumers that replace the exporter's BufferError with a
#: TypeError of their own.  The refusal still happens; only its type differs.
ERROR_REWRITING_SITES = frozenset({
    "struct.pack_into", "io.BytesIO.readinto", "io.FileIO.readinto",
    "io.BufferedReader.readinto", "socket.recv_into",
    "read:concat-onto-bytes(export)", "read:concat-onto-bytearray(export)",
    "read:str-decode(export)", "read:bytes.join-item(export)",
    "read:bytearray.extend-arg(export)", "read:bytearray.iadd-arg(export)",
})


def refusal_types(site):
    """What a refusal at `site` may raise: BufferError, or on the shim also
    the TypeError of a §7.6 site.  The patched interpreter must raise
    BufferError everywhere."""
    if site in ERROR_REWRITING_SITES and not bf.NATIVE:
        return (BufferError, TypeError)
    return BufferError


def is_released(mv):
    """Whether a memoryview was released (memoryview has no public flag)."""
    try:
        mv.nbytes
    except ValueError:
        return True
    return False


def while_reading(obj, callback):
    """Run callback() while an own read of obj is in progress and nothing is
    exported (§3.1, "FREE with in-progress own reads only"); return the read's
    result.  Reads run their arguments before they take the state (§3.2), so
    the probe is `%`, whose per-argument conversions (a __bytes__ here) run
    inside its access.  Which read `%` holds differs (§7.3): natively the
    format's, so obj is made the format for the call (and restored after);
    the shim formats a private copy of the format and holds the reads of the
    locked bytearrays among its arguments, so obj is an argument there."""
    class Probe:
        def __bytes__(self):
            callback()
            return b"|"

    if not bf.NATIVE:
        return type(obj)(b"%s%s") % (Probe(), obj)
    data = bytes(obj)
    obj[:] = b"%b" + data.replace(b"%", b"%%")
    try:
        return obj % (Probe(),)
    finally:
        obj[:] = data

