#!/usr/bin/env python3
"""Writes the .npy inputs that the end-to-end tests need (C-order, f32/i32).

    npy_gen.py ints OUT.npy V0,V1,...        i32 [N]: e.g. per-batch lengths
    npy_gen.py runs OUT.npy ROW[;ROW...]     i32 [B, S]: segment ids, one ROW
                                             per batch, each ID*COUNT,...
                                             (`0*100,1*28` = 100 zeros, 28 ones)
    npy_gen.py sharp DIR B HQ HKV SQ SKV D DV SEED
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
Python 3 standard library only; also imported by sweep.py.
"""
import array
import os
import random
import sys


def prod(shape):
    result = 1
    for dim in shape:
        result *= dim
    return result


def write_npy(path, dtype, shape, values):
    """Writes a C-order .npy file (version 1.0) of f32 or i32 values."""
    data = array.array("f" if dtype == "f32" else "i", values)
    assert data.itemsize == 4 and len(data) == prod(shape), (path, shape)
    if sys.byteorder != "little":
        data.byteswap()
    dims = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
    header = (f"{{'descr': '{'<f4' if dtype == 'f32' else '<i4'}', "
              f"'fortran_order': False, 'shape': ({dims}), }}")
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as file:
        file.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little"))
        file.write(header.encode("latin1"))
        file.write(data.tobytes())


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
        raise SystemExit("npy_gen.py: rows of different lengths")
    return rows


def main(argv):
    if len(argv) >= 3 and argv[0] == "ints":
        values = [int(x) for x in argv[2].split(",")]
        write_npy(argv[1], "i32", [len(values)], values)
    elif len(argv) >= 3 and argv[0] == "runs":
        rows = parse_runs(argv[2])
        write_npy(argv[1], "i32", [len(rows), len(rows[0])],
                  [x for row in rows for x in row])
    elif len(argv) == 10 and argv[0] == "sharp":
        b, hq, hkv, sq, skv, d, dv, seed = map(int, argv[2:])
        q, k, v = sharp_inputs(random.Random(seed), b, hq, hkv, sq, skv, d, dv)
        os.makedirs(argv[1], exist_ok=True)
        for name, shape, values in (("q", [b, hq, sq, d], q),
                                    ("k", [b, hkv, skv, d], k),
                                    ("v", [b, hkv, skv, dv], v)):
            write_npy(os.path.join(argv[1], f"{name}.npy"), "f32", shape,
                      values)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
