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
    npy.py ints OUT.npy V0,V1,...            i32 [N]: e.g. per-batch lengths
    npy.py runs OUT.npy ROW[;ROW...]         i32 [B, S]: segment ids, one ROW
                                             per batch, each ID*COUNT,...
                                             (`0*100,1*28` = 100 zeros, 28 ones)
    npy.py sharp DIR B HQ HKV SQ SKV D DV SEED
                                             f32 DIR/q.npy, k.npy, v.npy with
                                             well separated scores (below)

`sharp` inputs are for large scales (|scores| of 1e2 to 1e5): q row i is
m_i * s_i * u and key row j is c_j * u, with u a fixed random +-1 vector,
s_i = +-1, m_i in {1, 1/2, 1/4} and the c_j distinct multiples of 1/512 (a
random permutation per kv head). Then q_i . k_j = m_i s_i c_j D is exact in
f32 whatever the order of the sums, and two keys' dot products differ by at
least D/2048, i.e. by >= 9 at scale 300 (D = 64): each row's softmax is
nearly one-hot on its best visible key, and the f32 rounding of large
scores (which is ~1e-3 at |score| = 1e4 and would be amplified by near ties)
cannot move the output by 1e-4. V is uniform in multiples of 1/8 in [-1, 1).

Only what the tests need: little-endian, C order, version 1.0 on write, any
version on read. Python 3 standard library only; also imported by
e2e/sweep.py.
"""
import array
import ast
import os
import random
import struct
import sys

FORMATS = {"f4": "f", "i4": "i", "f8": "d"}  # f8: read only (references)


def prod(shape):
    result = 1
    for dim in shape:
        result *= dim
    return result


def write_npy(path, dtype, shape, values):
    """Writes a C-order .npy file (version 1.0) of f4 or i4 values."""
    data = array.array(FORMATS[dtype], values)
    assert data.itemsize == 4 and len(data) == prod(shape), (path, shape)
    if sys.byteorder != "little":
        data.byteswap()
    header = "{'descr': '<%s', 'fortran_order': False, 'shape': %r, }" % (
        dtype, tuple(shape))
    header += " " * ((-(10 + len(header) + 1)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1") + data.tobytes())


def write(path, dtype, shape_text, values_text):
    shape = [int(d) for d in shape_text.split(",") if d.strip()]
    values = [v for v in values_text.split(",") if v.strip()]
    if len(values) != prod(shape):
        sys.exit(f"npy.py: {len(values)} values for shape {tuple(shape)}")
    convert = float if dtype == "f4" else int
    write_npy(path, dtype, shape, [convert(v) for v in values])


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


def sharp_inputs(rng, b, hq, hkv, sq, skv, d, dv):
    """Flat q, k, v lists as described in the module docstring."""
    u = [rng.choice([-1.0, 1.0]) for _ in range(d)]
    q, k, v = [], [], []
    for _ in range(b):
        for _ in range(hq):
            for _ in range(sq):
                factor = rng.choice([1.0, -1.0]) * rng.choice([1, 0.5, 0.25])
                q += [factor * x for x in u]
        for _ in range(hkv):
            perm = list(range(skv))
            rng.shuffle(perm)
            for j in range(skv):
                c = (perm[j] - skv // 2) / 512
                k += [c * x for x in u]
        v += [rng.randint(-8, 7) / 8 for _ in range(hkv * skv * dv)]
    return q, k, v


def parse_runs(text):
    rows = []
    for row in text.split(";"):
        ids = []
        for run in row.split(","):
            value, _, count = run.partition("*")
            ids += [int(value)] * int(count or 1)
        rows.append(ids)
    if len({len(row) for row in rows}) != 1:
        raise SystemExit("npy.py: rows of different lengths")
    return rows


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
    elif argv[:1] == ["ints"] and len(argv) == 3:
        values = [int(x) for x in argv[2].split(",")]
        write_npy(argv[1], "i4", [len(values)], values)
    elif argv[:1] == ["runs"] and len(argv) == 3:
        rows = parse_runs(argv[2])
        write_npy(argv[1], "i4", [len(rows), len(rows[0])],
                  [x for row in rows for x in row])
    elif argv[:1] == ["sharp"] and len(argv) == 10:
        b, hq, hkv, sq, skv, d, dv, seed = map(int, argv[2:])
        q, k, v = sharp_inputs(random.Random(seed), b, hq, hkv, sq, skv, d, dv)
        os.makedirs(argv[1], exist_ok=True)
        for name, shape, values in (("q", [b, hq, sq, d], q),
                                    ("k", [b, hkv, skv, d], k),
                                    ("v", [b, hkv, skv, dv], v)):
            write_npy(os.path.join(argv[1], f"{name}.npy"), "f4", shape,
                      values)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
