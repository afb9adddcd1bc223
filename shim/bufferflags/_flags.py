"""The buffer request flags, including the two this project proposes."""
from __future__ import annotations

import enum

__all__ = ["BufferFlags", "IMMUTABLE", "EXCLUSIVE", "GUARANTEES"]


class BufferFlags(enum.IntFlag):
    """Every ``inspect.BufferFlags`` member plus IMMUTABLE and EXCLUSIVE.

    Defined here rather than taken from inspect because 3.11 has no
    ``inspect.BufferFlags`` and stock 3.12/3.13 lack the new members.
    """

    SIMPLE = 0x0
    WRITABLE = 0x1
    FORMAT = 0x4
    ND = 0x8
    STRIDES = 0x10 | ND
    C_CONTIGUOUS = 0x20 | STRIDES
    F_CONTIGUOUS = 0x40 | STRIDES
    ANY_CONTIGUOUS = 0x80 | STRIDES
    INDIRECT = 0x100 | STRIDES
    CONTIG = ND | WRITABLE
    CONTIG_RO = ND
    STRIDED = STRIDES | WRITABLE
    STRIDED_RO = STRIDES
    RECORDS = STRIDES | WRITABLE | FORMAT
    RECORDS_RO = STRIDES | FORMAT
    FULL = INDIRECT | WRITABLE | FORMAT
    FULL_RO = INDIRECT | FORMAT
    READ = 0x100
    WRITE = 0x200
    IMMUTABLE = 0x400
    EXCLUSIVE = 0x800


IMMUTABLE = BufferFlags.IMMUTABLE
EXCLUSIVE = BufferFlags.EXCLUSIVE
#: The flags a type can declare support for (register()).
GUARANTEES = IMMUTABLE | EXCLUSIVE
