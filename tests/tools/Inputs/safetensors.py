#!/usr/bin/env python3
"""Small safetensors files for the lit tests (lit substitution: %safetensors).

    safetensors.py write OUT [OPTIONS] NAME=DTYPE:SHAPE:VALUES ...
        a valid file, tensors in the given order; DTYPE F32, F16, BF16, I32,
        I64 or F64; SHAPE "2,3" ("" for a scalar); VALUES comma-separated
        (inf, -inf, nan allowed), C order. Options: --unaligned (the data
        starts at an odd offset), --truncate K (drop the last K bytes),
        --trailing K (append K zero bytes)
    safetensors.py raw OUT HEADER [DATA_BYTES] [--size N] [--byte C HEX]
        the header text as given, DATA_BYTES zero bytes after it; --size
        writes N as the header size instead of the header's length;
        --byte replaces each character C of the header by the byte HEX
    safetensors.py index OUT.json NAME=SHARD ...
        a model.safetensors.index.json
    safetensors.py print FILE
        "header 248 (padded to 8)", the metadata, then per tensor in offset
        order "NAME DTYPE [SHAPE] VALUES"
    safetensors.py check-range FILE NAME LO HI
        "ok" if every value of tensor NAME lies in [LO, HI), else the first
        one outside

Independent of the runtime's reader and writer: Python 3 standard library
only (struct + json); bf16 values are the upper halves of f32 ones, so they
should be exactly representable.
"""
import json
import struct
import sys

# struct formats; BF16 is handled apart.
FORMATS = {"F32": "f", "F16": "e", "I32": "i", "I64": "q", "F64": "d"}
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "I64": 8, "F64": 8}


def encode(dtype, values):
    if dtype == "BF16":
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    return b"".join(struct.pack("<" + FORMATS[dtype], v) for v in values)


def decode(dtype, data):
    if dtype == "BF16":
        return [struct.unpack("<f", b"\0\0" + data[i:i + 2])[0]
                for i in range(0, len(data), 2)]
    size = SIZES[dtype]
    return [struct.unpack("<" + FORMATS[dtype], data[i:i + size])[0]
            for i in range(0, len(data), size)]


def parse_spec(spec):
    name, rest = spec.split("=", 1)
    dtype, shape_text, values_text = rest.split(":")
    shape = [int(d) for d in shape_text.split(",") if d]
    convert = int if dtype.startswith("I") else float
    values = [convert(v) for v in values_text.split(",") if v]
    count = 1
    for d in shape:
        count *= d
    if count != len(values):
        sys.exit(f"safetensors.py: {len(values)} values for {name} {shape}")
    return name, dtype, shape, encode(dtype, values)


def write(argv):
    out, args = argv[0], argv[1:]
    unaligned = truncate = trailing = 0
    specs = []
    while args:
        arg = args.pop(0)
        if arg == "--unaligned":
            unaligned = 1
        elif arg == "--truncate":
            truncate = int(args.pop(0))
        elif arg == "--trailing":
            trailing = int(args.pop(0))
        else:
            specs.append(parse_spec(arg))
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, dtype, shape, payload in specs:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header).encode()
    # Pad to 8 bytes, or to 8k + 1 so that the data starts at an odd offset.
    text += b" " * ((unaligned - len(text)) % 8)
    blob = struct.pack("<Q", len(text)) + text + data + b"\0" * trailing
    with open(out, "wb") as f:
        f.write(blob[:len(blob) - truncate])


def raw(argv):
    out, header = argv[0], argv[1].encode()
    rest = argv[2:]
    if "--byte" in rest:
        at = rest.index("--byte")
        header = header.replace(rest[at + 1].encode(),
                                bytes([int(rest[at + 2], 16)]))
        del rest[at:at + 3]
    size = len(header)
    if "--size" in rest:
        at = rest.index("--size")
        size = int(rest[at + 1])
        del rest[at:at + 2]
    data_bytes = int(rest[0]) if rest else 0
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", size) + header + b"\0" * data_bytes)


def index(argv):
    weight_map = dict(arg.split("=", 1) for arg in argv[1:])
    with open(argv[0], "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)


def load(path):
    """The size of the header, the header and the file's bytes."""
    blob = open(path, "rb").read()
    (size,) = struct.unpack_from("<Q", blob)
    return size, json.loads(blob[8:8 + size]), blob


def tensor_values(size, info, blob):
    begin, end = info["data_offsets"]
    return decode(info["dtype"], blob[8 + size + begin:8 + size + end])


def check_range(path, name, lo, hi):
    size, header, blob = load(path)
    for v in tensor_values(size, header[name], blob):
        if not lo <= v < hi:
            return f"{name}: {v} is outside [{lo}, {hi})"
    return "ok"


def show(path):
    size, header, blob = load(path)
    print("header %d (%s)" % (size, "padded to 8" if size % 8 == 0
                              else "not padded"))
    print("metadata", json.dumps(header.pop("__metadata__", {})))
    for name, info in sorted(header.items(),
                             key=lambda item: item[1]["data_offsets"]):
        values = tensor_values(size, info, blob)
        print(name, info["dtype"], info["shape"],
              " ".join(str(v) for v in values))


def main(argv):
    commands = {"write": write, "raw": raw, "index": index}
    if argv[:1] == ["print"] and len(argv) == 2:
        show(argv[1])
    elif argv[:1] == ["check-range"] and len(argv) == 5:
        print(check_range(argv[1], argv[2], float(argv[3]), float(argv[4])))
    elif argv and argv[0] in commands and len(argv) >= 2:
        commands[argv[0]](argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
