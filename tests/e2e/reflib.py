"""Shared I/O and comparison for the whole-model references (test code only).

Used by model_ref.py, hf_ref.py and hf_transformers_check.py; needs numpy
only. It holds no model arithmetic: the references compute independently and
meet here only to read tensors and to judge results the same way.

- safetensors (the container rules of the reference reader,
  huggingface/safetensors): a strict reader (F32, F16, BF16,
  F64, I32, I64; contiguous offsets, no trailing bytes, no duplicate keys)
  and a writer (f32, header padded with spaces to 8 bytes, `__metadata__`
  {"format": "pt"}, tensors sorted by name, contiguous).
- a directory of `<name>.npy` files (the generated program's --save-inputs
  and --output folders; the references' --write-ref writes f8).
- compare(): pass when max|got - ref| <= rtol * max|ref| with finite values
  and equal shapes; one line per output.
"""
import json
import os
import struct

import numpy as np

# safetensors dtype -> (numpy dtype of the stored little-endian words, bytes).
_DTYPES = {"F64": ("<f8", 8), "F32": ("<f4", 4), "F16": ("<f2", 2),
           "BF16": ("<u2", 2), "I64": ("<i8", 8), "I32": ("<i4", 4)}


class RefError(Exception):
    """A problem with the inputs of a reference run (reported, exit 2)."""


def _unique_object(pairs):
    """json object hook that rejects duplicate keys."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise RefError(f"duplicate key {key!r} in the safetensors header")
        result[key] = value
    return result


def read_safetensors(path):
    """Returns {name: float64 or int64 ndarray} of a safetensors file."""
    data = open(path, "rb").read()
    if len(data) < 8:
        raise RefError(f"{path}: shorter than 8 bytes")
    (header_len,) = struct.unpack_from("<Q", data, 0)
    if header_len > 100_000_000 or 8 + header_len > len(data):
        raise RefError(f"{path}: bad header length {header_len}")
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"),
                            object_pairs_hook=_unique_object)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RefError(f"{path}: header is not valid JSON: {e}") from None
    except RefError as e:
        raise RefError(f"{path}: {e}") from None
    if not isinstance(header, dict):
        raise RefError(f"{path}: the header is not a JSON object")
    header.pop("__metadata__", None)
    base = 8 + header_len
    try:
        entries = sorted(header.items(),
                         key=lambda kv: list(kv[1]["data_offsets"]))
    except (KeyError, TypeError):
        raise RefError(f"{path}: a tensor without data_offsets") from None
    tensors, expected_begin = {}, 0
    for name, info in entries:
        if info.get("dtype") not in _DTYPES:
            raise RefError(f"{path}: {name}: unsupported dtype "
                           f"{info.get('dtype')}")
        stored, size = _DTYPES[info["dtype"]]
        shape = info.get("shape")
        if not isinstance(shape, list) or \
                any(not isinstance(d, int) or d < 0 for d in shape):
            raise RefError(f"{path}: {name}: bad shape {shape}")
        begin, end = info["data_offsets"]
        if begin != expected_begin or \
                end - begin != size * int(np.prod(shape)):
            raise RefError(f"{path}: {name}: bad data_offsets {begin, end}")
        expected_begin = end
        words = np.frombuffer(data, dtype=stored, count=(end - begin) // size,
                              offset=base + begin)
        if info["dtype"] == "BF16":
            words = (words.astype(np.uint32) << 16).view(np.float32)
        kind = np.int64 if info["dtype"].startswith("I") else np.float64
        tensors[name] = words.astype(kind).reshape(shape)
    if base + expected_begin != len(data):
        raise RefError(f"{path}: {len(data) - base - expected_begin} bytes "
                       "after the last tensor")
    return tensors


def write_safetensors(path, tensors):
    """Writes {name: array} as f32 safetensors (names sorted)."""
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        chunk = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(chunk)]}
        chunks.append(chunk)
        offset += len(chunk)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def load_npy(directory, name, shape=None, integer=False):
    """DIR/<name>.npy as float64 (or int64 with integer=True), checking the
    stored dtype (f4 or i4) and, if given, the shape."""
    path = os.path.join(directory, name + ".npy")
    if not os.path.exists(path):
        raise RefError(f"missing input file {path}")
    array = np.load(path)
    want = "i" if integer else "f"
    if array.dtype.kind != want:
        raise RefError(f"{path}: dtype {array.dtype}, expected "
                       f"{'i32' if integer else 'f32'}")
    if shape is not None and list(array.shape) != list(shape):
        raise RefError(f"{path}: shape {list(array.shape)}, expected "
                       f"{list(shape)}")
    return array.astype(np.int64 if integer else np.float64)


def save_npy_dir(directory, arrays, float_type=np.float32):
    """Writes {name: array} as DIR/<name>.npy: integers as i4, the rest as
    float_type (f4 for model inputs, f8 for reference outputs, so that two
    references can be compared with each other far below f32 rounding)."""
    os.makedirs(directory, exist_ok=True)
    for name, array in arrays.items():
        kind = np.int32 if np.asarray(array).dtype.kind == "i" else float_type
        np.save(os.path.join(directory, name + ".npy"),
                np.asarray(array, dtype=kind))


def compare(refs, out_dir, rtol):
    """Compares {name: reference} with OUT_DIR/<name>.npy; prints a line per
    output and returns True when all pass."""
    ok = True
    for name, ref in refs.items():
        path = os.path.join(out_dir, name + ".npy")
        if not os.path.exists(path):
            print(f"{name}: missing {path}: FAIL")
            ok = False
            continue
        got = np.load(path).astype(np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        if got.shape != ref.shape:
            print(f"{name}: shape {list(got.shape)}, reference "
                  f"{list(ref.shape)}: FAIL")
            ok = False
            continue
        bad = ~np.isfinite(got)
        if bad.any() or not np.isfinite(ref).all():
            where = "output" if bad.any() else "reference"
            count = int(bad.sum() if bad.any() else (~np.isfinite(ref)).sum())
            print(f"{name}: {count} non-finite values in the {where}: FAIL")
            ok = False
            continue
        err = np.abs(got - ref)
        max_err = float(err.max()) if err.size else 0.0
        scale = float(np.abs(ref).max()) if ref.size else 0.0
        rel = max_err / scale if scale > 0 else (0.0 if max_err == 0 else
                                                 float("inf"))
        passed = max_err <= rtol * scale
        at = [int(i) for i in np.unravel_index(int(err.argmax()), err.shape)] \
            if err.size else []
        print(f"{name}: max abs err {max_err:.3e} at {at}, max |ref| "
              f"{scale:.3e}, rel {rel:.3e}, rtol {rtol:g}: "
              f"{'PASS' if passed else 'FAIL'}")
        ok = ok and passed
    return ok
