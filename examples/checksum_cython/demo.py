"""What the Cython checksum does with each kind of object."""
import bufferflags
from checksum_cy import checksum

data = bufferflags.LockingBytearray(b"payload")
print(hex(checksum(data)))                  # the bytes of one moment
print(hex(checksum(b"payload")))            # bytes never change: the same
with bufferflags.view(data, exclusive=True, writable=True):
    try:
        checksum(data)                      # someone holds it: retry later
    except BufferError as e:                # a BufferConflictError
        print(type(e).__name__ + ":", e)
try:
    checksum(bytearray(b"payload"))         # stock bytearray cannot promise
except BufferError as e:
    print(type(e).__name__ + ":", e)
else:
    print("bytearray: granted (this interpreter locks bytearray)")
