#!/usr/bin/env python3
"""Writes a copy of a float32 .npy file with some elements set to NaN.

    set-nan.py IN.npy OUT.npy FLAT_INDEX [FLAT_INDEX...]

Only what the end-to-end NaN test needs: C-order float32, any .npy version.
Python 3 standard library only.
"""
import struct
import sys

src, dst, *indices = sys.argv[1:]
data = bytearray(open(src, "rb").read())
major = data[6]
header_len = (struct.unpack_from("<H", data, 8)[0] if major == 1
              else struct.unpack_from("<I", data, 8)[0])
offset = (10 if major == 1 else 12) + header_len
for index in indices:
    struct.pack_into("<f", data, offset + 4 * int(index), float("nan"))
open(dst, "wb").write(data)
