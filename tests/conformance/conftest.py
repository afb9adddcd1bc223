"""The backend of the conformance suite, derived from bufferflags.NATIVE.

Every test in tests/conformance is written once and runs on both
implementations of proposal/semantics.md:

* the shim on stock CPython 3.11-3.13 (NATIVE is False): the locked type is
  bufferflags.LockingBytearray; plain bytearray and array.array support
  neither new flag (§5 defaults, shim column);
* the patched interpreter (NATIVE is True): plain bytearray is locked too and
  supports IMMUTABLE|EXCLUSIVE (§5 defaults, native column).

Fixtures/parameters:
  backend            -- a Backend describing the running implementation
  locked_type        -- parametrized over backend.locked_types
  locked             -- a fresh instance of locked_type holding DATA
  unsupported_kind   -- parametrized over objects that support no new flag
  unsupported        -- a fresh such object holding DATA
"""
import array
import mmap
import sys
from dataclasses import dataclass

import pytest

import bufferflags as bf

DATA = b"hello world, abc ABC 123 xyz"

HAS_PEP688 = sys.version_info >= (3, 12)


class BytesOverridingBuffer(bytes):
    """A bytes subclass that exports through its own __buffer__: per §5 it
    must not inherit bytes' IMMUTABLE, whatever the hook does."""

    def __buffer__(self, flags):
        return super().__buffer__(flags & ~(0x400 | 0x800))


def _mmap(data):
    m = mmap.mmap(-1, len(data))
    m.write(data)
    m.seek(0)
    return m


@dataclass(frozen=True)
class Backend:
    native: bool
    locked_types: tuple
    unsupported: dict   # id -> factory(data) -> object supporting no new flag

    @property
    def name(self):
        return "native" if self.native else "shim"


def _make_backend():
    native = bool(bf.NATIVE)
    unsupported = {"mmap": _mmap}
    if HAS_PEP688:
        # On 3.11 a Python-level __buffer__ is never called (no PEP 688), so
        # the subclass exports exactly as bytes does and inherits IMMUTABLE.
        unsupported["bytes-subclass-with-__buffer__"] = BytesOverridingBuffer
    if native:
        locked = (bytearray, bf.LockingBytearray)
    else:
        locked = (bf.LockingBytearray,)
        unsupported["bytearray"] = bytearray
        unsupported["array.array"] = lambda data: array.array("B", data)
    return Backend(native=native, locked_types=locked, unsupported=unsupported)


BACKEND = _make_backend()


def pytest_report_header(config):
    return "bufferflags backend: %s; locked types: %s; unsupported: %s" % (
        BACKEND.name, ", ".join(t.__name__ for t in BACKEND.locked_types),
        ", ".join(BACKEND.unsupported))


def pytest_generate_tests(metafunc):
    if "locked_type" in metafunc.fixturenames:
        metafunc.parametrize("locked_type", BACKEND.locked_types,
                             ids=[t.__name__ for t in BACKEND.locked_types])
    if "unsupported_kind" in metafunc.fixturenames:
        metafunc.parametrize("unsupported_kind", list(BACKEND.unsupported))


@pytest.fixture(scope="session")
def backend():
    return BACKEND


@pytest.fixture
def locked(locked_type):
    return locked_type(DATA)


@pytest.fixture
def unsupported(unsupported_kind):
    return BACKEND.unsupported[unsupported_kind](DATA)
