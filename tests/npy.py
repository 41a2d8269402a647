#!/usr/bin/env python3
"""Small .npy files for the lit tests (lit substitution: %npy).

    npy.py write OUT.npy f4|i4 SHAPE VALUES   SHAPE "2,3" ("" for a scalar),
                                             VALUES comma-separated, C order
    npy.py print FILE.npy                    "i4 [2, 3] 0 0 1 1 2 2"
    npy.py pattern FILE.npy                  each row of the last dimension as
                                             a line, 'x' for a non-zero
                                             element, '.' for zero
    npy.py check-segments FILE.npy MIN MAX   "ok" if every row of the last
                                             dimension holds ids 0, 1, ...
                                             (steps of 0 or 1) with MIN to
                                             MAX segments; else the problem

Only what the tests need: little-endian, C order, version 1.0 on write, any
version on read. Python 3 standard library only.
"""
import ast
import struct
import sys

FORMATS = {"f4": "f", "i4": "i"}


def write(path, dtype, shape_text, values_text):
    shape = tuple(int(d) for d in shape_text.split(",") if d.strip())
    values = [v for v in values_text.split(",") if v.strip()]
    numel = 1
    for d in shape:
        numel *= d
    if len(values) != numel:
        sys.exit(f"npy.py: {len(values)} values for shape {shape}")
    convert = float if dtype == "f4" else int
    header = "{'descr': '<%s', 'fortran_order': False, 'shape': %r, }" % (
        dtype, shape)
    header += " " * ((-(10 + len(header) + 1)) % 64) + "\n"
    data = struct.pack("<%d%s" % (numel, FORMATS[dtype]),
                       *(convert(v) for v in values))
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1") + data)


def read(path):
    data = open(path, "rb").read()
    major = data[6]
    if major == 1:
        (header_len,), start = struct.unpack_from("<H", data, 8), 10
    else:
        (header_len,), start = struct.unpack_from("<I", data, 8), 12
    header = ast.literal_eval(data[start:start + header_len].decode("latin1"))
    dtype, shape = header["descr"][1:], header["shape"]
    numel = 1
    for d in shape:
        numel *= d
    values = struct.unpack_from("<%d%s" % (numel, FORMATS[dtype]), data,
                                start + header_len)
    return dtype, list(shape), list(values)


def check_segments(path, lo, hi):
    _, shape, values = read(path)
    length = shape[-1]
    for start in range(0, len(values), length):
        row = values[start:start + length]
        steps = [b - a for a, b in zip(row, row[1:])]
        count = row[-1] + 1 if row else 0
        if (row and row[0] != 0) or any(s not in (0, 1) for s in steps):
            return f"row at {start}: {row} is not 0, 1, ... in steps of 1"
        if not min(lo, length) <= count <= hi:
            return f"row at {start}: {row} has {count} segments"
    return "ok"


def main(argv):
    if argv[:1] == ["write"] and len(argv) == 5:
        write(*argv[1:])
    elif argv[:1] == ["print"] and len(argv) == 2:
        dtype, shape, values = read(argv[1])
        print(dtype, shape, " ".join(str(v) for v in values))
    elif argv[:1] == ["pattern"] and len(argv) == 2:
        _, shape, values = read(argv[1])
        length = shape[-1] if shape else 1
        for start in range(0, len(values), length):
            print("".join("x" if v else "." for v in
                          values[start:start + length]))
    elif argv[:1] == ["check-segments"] and len(argv) == 4:
        print(check_segments(argv[1], int(argv[2]), int(argv[3])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
