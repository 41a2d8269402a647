#!/usr/bin/env python3
"""Seed corpora of the libFuzzer targets (tests/fuzz/Fuzz*.cpp).

    make-seeds.py OUT_DIR

writes OUT_DIR/model (examples/*.model and every `#--- NAME.model` section
of the lit tests, good and bad), OUT_DIR/hf-config (the tests' config.json
files and `#--- NAME.json` sections), OUT_DIR/npy (.npy files of every
dtype the reader takes, format versions 1-3, and a few it rejects) and
OUT_DIR/safetensors (small valid files of each dtype, with metadata, and a
few broken ones). Standard library only.
"""
import glob
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sections(suffix):
    """The `#--- NAME<suffix>` / `//--- NAME<suffix>` sections of the tests."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.test"),
                              recursive=True)):
        text = open(path, encoding="utf-8", errors="replace").read()
        parts = re.split(r"^(?:#|//)--- (\S+)\n", text, flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2]):
            if name.endswith(suffix):
                found.append(body.encode())
    return found


def npy(descr, shape, payload, version=1, fortran=False):
    header = (f"{{'descr': '{descr}', 'fortran_order': {fortran}, "
              f"'shape': {tuple(shape)}, }}")
    size_bytes = 2 if version == 1 else 4
    pad = (-(6 + 2 + size_bytes + len(header) + 1)) % 64
    header = (header + " " * pad + "\n").encode("latin1")
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header + payload


def npy_seeds():
    seeds = [
        npy("<f4", (2, 3), struct.pack("<6f", 0, 1, -1, 0.5, 2, 3)),
        npy("<f4", (), struct.pack("<f", 7)),
        npy("<f2", (3,), struct.pack("<3e", 1, -2, 0.25)),
        npy("<u2", (2,), b"\x80\x3f\x00\x40"),
        npy("<i4", (4,), struct.pack("<4i", 0, 1, 2, 3)),
        npy("<i8", (1, 2), struct.pack("<2q", 5, -5)),
        npy("<f4", (2,), struct.pack("<2f", 1, 2), version=2),
        npy("<f4", (2,), struct.pack("<2f", 1, 2), version=3),
        npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), fortran=True),
        npy(">f4", (1,), struct.pack(">f", 1)),
        npy("<f8", (1,), struct.pack("<d", 1)),
        npy("<f4", (3,), struct.pack("<2f", 1, 2)),  # truncated
        npy("<f4", (0, 5), b""),
    ]
    return seeds


def safetensors(tensors, metadata=None, trailing=b""):
    """tensors: (name, dtype, shape, data bytes), laid out in order."""
    header, data = {}, b""
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data + trailing


def safetensors_seeds():
    return [
        safetensors([("w", "F32", (2, 2), struct.pack("<4f", 1, 2, 3, 4))]),
        safetensors([("a", "F16", (3,), struct.pack("<3e", 1, 2, 3)),
                     ("b", "BF16", (), b"\x80\x3f")], {"format": "pt"}),
        safetensors([("ids", "I64", (2,), struct.pack("<2q", 1, 2)),
                     ("x", "I32", (1, 1), struct.pack("<i", 9)),
                     ("d", "F64", (1,), struct.pack("<d", 0.5))]),
        safetensors([("e", "F32", (0, 4), b"")]),
        safetensors([("w", "F32", (2,), struct.pack("<2f", 1, 2))],
                    trailing=b"\0\0\0\0"),
        safetensors([("w", "F32", (4,), struct.pack("<2f", 1, 2))]),
        struct.pack("<Q", 1 << 40) + b"{}",
        b"\x02\0\0\0\0\0\0\0{}",
    ]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    corpora = {
        "model": [open(p, "rb").read() for p in
                  sorted(glob.glob(os.path.join(ROOT, "examples", "*.model")))]
        + sections(".model"),
        "hf-config": [open(p, "rb").read() for p in sorted(glob.glob(
            os.path.join(ROOT, "tests", "tools", "Inputs", "hf", "**", "*.json"),
            recursive=True))] + sections(".json"),
        "npy": npy_seeds(),
        "safetensors": safetensors_seeds(),
    }
    for target, seeds in corpora.items():
        folder = os.path.join(out, target)
        os.makedirs(folder, exist_ok=True)
        for i, seed in enumerate(seeds):
            with open(os.path.join(folder, f"seed-{i:03d}"), "wb") as f:
                f.write(seed)
        print(f"{target}: {len(seeds)} seeds in {folder}")


if __name__ == "__main__":
    main()
