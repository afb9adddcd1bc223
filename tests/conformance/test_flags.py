"""§1 flag values and the BufferFlags enum of the public API."""
import enum
import inspect
import sys

import pytest

import bufferflags as bf

# PEP 688 / inspect.BufferFlags values (hard-coded: 3.11 has no inspect.BufferFlags)
STOCK_MEMBERS = {
    "SIMPLE": 0x0, "WRITABLE": 0x1, "FORMAT": 0x4, "ND": 0x8, "STRIDES": 0x18,
    "C_CONTIGUOUS": 0x38, "F_CONTIGUOUS": 0x58, "ANY_CONTIGUOUS": 0x98,
    "INDIRECT": 0x118, "CONTIG": 0x9, "CONTIG_RO": 0x8, "STRIDED": 0x19,
    "STRIDED_RO": 0x18, "RECORDS": 0x1D, "RECORDS_RO": 0x1C, "FULL": 0x11D,
    "FULL_RO": 0x11C, "READ": 0x100, "WRITE": 0x200,
}


def test_s1_flag_values():
    """§1: PyBUF_IMMUTABLE = 0x0400, PyBUF_EXCLUSIVE = 0x0800."""
    assert bf.IMMUTABLE == 0x400 and bf.EXCLUSIVE == 0x800
    assert bf.BufferFlags.IMMUTABLE == 0x400
    assert bf.BufferFlags.EXCLUSIVE == 0x800
    assert bf.IMMUTABLE is bf.BufferFlags.IMMUTABLE or bf.IMMUTABLE == bf.BufferFlags.IMMUTABLE
    assert isinstance(bf.IMMUTABLE, int) and isinstance(bf.EXCLUSIVE, int)


def test_s1_bufferflags_is_intflag_with_every_stock_member():
    assert issubclass(bf.BufferFlags, enum.IntFlag)
    for name, value in STOCK_MEMBERS.items():
        assert int(getattr(bf.BufferFlags, name)) == value, name


@pytest.mark.skipif(sys.version_info < (3, 12), reason="inspect.BufferFlags is 3.12+")
def test_s1_bufferflags_matches_inspect():
    for member in inspect.BufferFlags:
        assert int(bf.BufferFlags[member.name]) == int(member), member.name


def test_s1_new_bits_are_free_in_stock_flags():
    """§1: 0x400 and 0x800 collide with no stock PyBUF_* bit, 0x2 is not used."""
    used = 0
    for value in STOCK_MEMBERS.values():
        used |= value
    assert used & (0x400 | 0x800 | 0x2) == 0
    # the known mask of §1
    assert used | 0x400 | 0x800 == 0x0FFD


def test_public_api_names_in_all():
    for name in ("BufferFlags", "IMMUTABLE", "EXCLUSIVE", "supported_flags",
                 "register", "unregister", "view", "acquire",
                 "LockingBytearray", "NATIVE"):
        assert name in bf.__all__, name
        assert hasattr(bf, name), name
    assert isinstance(bf.NATIVE, bool)
    assert issubclass(bf.LockingBytearray, bytearray)
