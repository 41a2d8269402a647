#!/usr/bin/python3
"""Independent float64 interpreter of `.model` files (test code only).

    model_ref.py MODEL --inputs DIR --weights FILE.safetensors
                 [--outputs DIR] [--rtol 1e-4] [--write-ref DIR]
    model_ref.py MODEL --write-weights FILE.safetensors --seed N

The first form reads the model's inputs from DIR/<name>.npy (as the generated
program's --save-inputs writes them) and its weights from a safetensors file
(f32, f16 or bf16; --save-weights writes f32), evaluates the model in float64
and compares each output with --outputs DIR/<name>.npy: PASS when
max|got - ref| <= rtol * max|ref|, FAIL on a larger error, a non-finite value
or a shape mismatch (one line per output; exit 1 on any FAIL, 2 on a bad
model or bad inputs). --write-ref DIR writes the reference outputs (f8).

The second form writes random f32 weights for every weight of the model
(uniform in [-s, s), s = 1/sqrt(last dim), for rank >= 2; [0.5, 1.5) for
rank 1), drawn in the entry-function order of the spec and stored sorted by
name.

The language is examples/README.md plus the whole-model statements of the
working spec (`weight`, `layer ... end`, `return`, calls of layers with
`repeat`/`prefix`, multi-result assignment `a, b = layer(...)`). This file
has its own parser and shares no code with the compiler; the op semantics
follow the op table of examples/README.md, RoPE follows Hugging Face's
modeling_rope_utils.py (inv_freq,
p * inv_freq, cos and sin in float32 as Hugging Face computes them, the
rotation in float64) and attention follows the mask rule of
dialect/README.md. Run-time segments and lengths are rejected: whole models
do not use them. Needs numpy (/usr/bin/python3).
"""
import argparse
import math
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reflib  # noqa: E402  (shared safetensors/npy I/O and comparison)


class ModelError(Exception):
    """An error in the model file, at a location."""

    def __init__(self, loc, message):
        super().__init__(f"{loc[0]}:{loc[1]}:{loc[2]}: error: {message}")


# ---------------------------------------------------------------------------
# Lexer and parser
# ---------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r]+) | (?P<comment>\#[^\n]*) | (?P<newline>\n)
  | (?P<number>(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<string>"(\\["\\]|[^"\\\n])*")
  | (?P<punct>[()\[\],=:-])
""", re.VERBOSE)


def tokenize(path, text):
    """[(kind, text, loc)] with newlines inside brackets dropped."""
    tokens, depth, pos, line, line_start = [], 0, 0, 1, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        loc = (path, line, pos - line_start + 1)
        if not m:
            raise ModelError(loc, f"unexpected character {text[pos]!r}")
        kind, value = m.lastgroup, m.group()
        pos = m.end()
        if kind == "newline":
            line, line_start = line + 1, pos
            if depth == 0:
                tokens.append(("newline", value, loc))
        elif kind == "punct":
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(value, 0)
            tokens.append(("punct", value, loc))
        elif kind == "string":
            tokens.append(("string", re.sub(r'\\(["\\])', r"\1", value[1:-1]),
                           loc))
        elif kind in ("number", "name"):
            tokens.append((kind, value, loc))
    tokens.append(("newline", "", (path, line, pos - line_start + 1)))
    return tokens


class Parser:
    """Parses tokens into a list of statements (dicts with 'kind' and 'loc').

    Values (call arguments) are tuples: ('name', text), ('num', float,
    is_integer), ('str', text) or ('list', [values]). A call's positional
    arguments are (value, loc) and its keywords {key: (value, value loc,
    key loc)}.
    """

    def __init__(self, tokens):
        self.tokens, self.i = tokens, 0

    def peek(self, ahead=0):
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self, kind, value=None):
        tok = self.peek()
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = repr(value) if value else kind
            shown = repr(tok[1]) if tok[1] else "end of line"
            raise ModelError(tok[2], f"expected {want}, got {shown}")
        self.i += 1
        return tok

    def at(self, kind, value=None):
        tok = self.peek()
        return tok[0] == kind and (value is None or tok[1] == value)

    def names(self):
        result = [self.take("name")]
        while self.at("punct", ","):
            self.i += 1
            result.append(self.take("name"))
        return result

    def type_and_shape(self):
        dtype = "f32"
        if self.at("name"):
            dtype = self.take("name")[1]
        self.take("punct", "[")
        dims = [self.int_token()]
        while self.at("punct", ","):
            self.i += 1
            dims.append(self.int_token())
        self.take("punct", "]")
        return dtype, dims

    def int_token(self):
        tok = self.take("number")
        if not tok[1].isdigit() or int(tok[1]) <= 0:
            raise ModelError(tok[2],
                             f"expected a positive integer, got {tok[1]}")
        return int(tok[1])

    def value(self):
        tok = self.peek()
        if self.at("punct", "["):
            self.i += 1
            items = []
            while not self.at("punct", "]"):
                items.append(self.value())
                if not self.at("punct", "]"):
                    self.take("punct", ",")
            self.i += 1
            return ("list", items)
        if self.at("punct", "-"):
            self.i += 1
            num = self.take("number")[1]
            return ("num", -float(num), num.isdigit())
        if tok[0] == "number":
            self.i += 1
            return ("num", float(tok[1]), tok[1].isdigit())
        if tok[0] in ("name", "string"):
            self.i += 1
            return ("name" if tok[0] == "name" else "str", tok[1])
        raise ModelError(tok[2], f"expected a value, got {tok[1]!r}")

    def call(self):
        op = self.take("name")
        self.take("punct", "(")
        args, kwargs = [], {}
        while not self.at("punct", ")"):
            if self.at("name") and self.peek(1)[:2] == ("punct", "="):
                key = self.take("name")
                self.i += 1
                if key[1] in kwargs:
                    raise ModelError(key[2], f"keyword '{key[1]}' given twice")
                loc = self.peek()[2]
                kwargs[key[1]] = (self.value(), loc, key[2])
            else:
                loc = self.peek()[2]
                if kwargs:
                    raise ModelError(loc, "positional argument after keywords")
                args.append((self.value(), loc))
            if not self.at("punct", ")"):
                self.take("punct", ",")
        self.i += 1
        return op, args, kwargs

    def statement(self, in_layer):
        first = self.peek()
        word = first[1] if first[0] == "name" else None
        keyword = word if self.peek(1)[:2] not in (("punct", "="),
                                                  ("punct", ",")) else None
        loc = first[2]
        if keyword == "model" and not in_layer:
            self.i += 1
            return {"kind": "model", "name": self.take("name")[1], "loc": loc}
        if keyword == "input" and not in_layer:
            self.i += 1
            name = self.take("name")
            self.take("punct", ":")
            dtype, shape = self.type_and_shape()
            return {"kind": "input", "name": name[1], "dtype": dtype,
                    "shape": shape, "loc": name[2]}
        if keyword == "weight":
            self.i += 1
            name = self.take("name")
            self.take("punct", ":")
            dtype, shape = self.type_and_shape()
            file_name = name[1]
            if self.at("punct", "="):
                self.i += 1
                file_name = self.take("string")[1]
            if dtype != "f32":
                raise ModelError(name[2], f"weights are f32, not {dtype}")
            return {"kind": "weight", "name": name[1], "shape": shape,
                    "file": file_name, "loc": name[2]}
        if keyword == "layer" and not in_layer:
            self.i += 1
            name = self.take("name")
            self.take("punct", "(")
            params = [] if self.at("punct", ")") else self.names()
            self.take("punct", ")")
            self.take("newline")
            body = []
            while not (self.at("name", "end") and
                       self.peek(1)[0] == "newline"):
                if self.at("newline"):
                    if self.peek()[1] == "":
                        raise ModelError(name[2], f"layer '{name[1]}' has "
                                         "no 'end'")
                    self.i += 1
                    continue
                body.append(self.statement(True))
                self.take("newline")
            self.i += 1
            return {"kind": "layer", "name": name[1], "loc": name[2],
                    "params": params, "body": body}
        if keyword == "return" and in_layer:
            self.i += 1
            return {"kind": "return", "names": self.names(), "loc": loc}
        if keyword == "output" and not in_layer:
            self.i += 1
            return {"kind": "output", "names": self.names(), "loc": loc}
        if word in ("model", "input", "output", "layer", "return", "end") \
                and keyword:
            raise ModelError(loc, f"'{word}' is not allowed "
                             f"{'inside' if in_layer else 'outside'} a layer")
        targets = self.names()
        self.take("punct", "=")
        op, args, kwargs = self.call()
        return {"kind": "call", "targets": targets, "op": op, "args": args,
                "kwargs": kwargs, "loc": loc}

    def parse(self):
        statements = []
        while self.peek()[1] != "" or self.peek()[0] != "newline":
            if self.at("newline"):
                self.i += 1
                continue
            statements.append(self.statement(False))
            self.take("newline")
        return statements


# ---------------------------------------------------------------------------
# Ops (float64; shapes checked as the spec states them)
# ---------------------------------------------------------------------------

class Args:
    """Keyword arguments of one op call, converted on demand."""

    def __init__(self, op, kwargs, allowed, loc):
        for key, (_, _, kloc) in kwargs.items():
            if key not in allowed:
                raise ModelError(kloc, f"unknown keyword '{key}' for {op}")
        self.op, self.kwargs, self.loc = op, kwargs, loc

    def has(self, key):
        return key in self.kwargs

    def _get(self, key):
        value, vloc, _ = self.kwargs[key]
        return value, vloc

    def number(self, key, default=None, integer=False):
        if key not in self.kwargs:
            if default is None:
                raise ModelError(self.loc, f"{self.op} needs '{key}'")
            return default
        value, loc = self._get(key)
        if value[0] != "num" or (integer and not value[2]):
            kind = "an integer" if integer else "a number"
            raise ModelError(loc, f"'{key}' must be {kind}")
        return int(value[1]) if integer else value[1]

    def choice(self, key, choices):
        if key not in self.kwargs:
            return choices[0]
        value, loc = self._get(key)
        if value[0] != "name" or value[1] not in choices:
            raise ModelError(loc, f"'{key}' must be one of "
                             f"{', '.join(choices)}")
        return value[1]

    def ints(self, key):
        """(values, given as a list?, loc) of an integer or a list of
        integers; None if absent."""
        if key not in self.kwargs:
            return None
        value, loc = self._get(key)
        items = value[1] if value[0] == "list" else [value]
        if not items or any(v[0] != "num" or not v[2] for v in items):
            raise ModelError(loc, f"'{key}' must be an integer or a list of "
                             "integers")
        return [int(v[1]) for v in items], value[0] == "list", loc


def _check(cond, loc, message):
    if not cond:
        raise ModelError(loc, message)


def op_linear(loc, x, w, args, bias=None):
    layout = args.choice("layout", ["out_in", "in_out"])
    wt = w if layout == "in_out" else w.T
    _check(w.ndim == 2 and x.shape[-1] == wt.shape[0], loc,
           f"linear: x {list(x.shape)} and w {list(w.shape)} ({layout}) "
           "do not match")
    y = x @ wt
    if bias is not None:
        _check(list(bias.shape) == [wt.shape[1]], loc,
               f"linear: bias {list(bias.shape)} is not [{wt.shape[1]}]")
        y = y + bias
    return y


def op_rms_norm(loc, x, w, args):
    eps = args.number("eps", 1e-6)
    _check(list(w.shape) == [x.shape[-1]], loc, "rms_norm: weight shape")
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def op_layer_norm(loc, x, w, b, args):
    eps = args.number("eps", 1e-5)
    _check(list(w.shape) == [x.shape[-1]] == list(b.shape), loc,
           "layer_norm: weight/bias shape")
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def rope_inv_freq(dim, theta, scaling, args):
    """inv_freq in float32, as Hugging Face's modeling_rope_utils computes
    it (default, linear and llama3 rope types)."""
    f32 = np.float32
    exponent = np.arange(0, dim, 2).astype(f32) / f32(dim)
    # theta ** t in float32: the float64 power correctly rounded to float32.
    inv_freq = f32(1.0) / np.power(float(theta), exponent.astype(np.float64)
                                   ).astype(f32)
    if scaling == "linear":
        inv_freq = inv_freq / f32(args.number("factor"))
    elif scaling == "llama3":
        factor = f32(args.number("factor"))
        low = f32(args.number("low_freq_factor"))
        high = f32(args.number("high_freq_factor"))
        old_len = f32(args.number("original_max_positions"))
        low_wavelen, high_wavelen = old_len / low, old_len / high
        wavelen = f32(2 * math.pi) / inv_freq
        scaled = np.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old_len / wavelen - low) / (high - low)
        smoothed = (f32(1) - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        inv_freq = np.where(medium, smoothed, scaled).astype(f32)
    return inv_freq.astype(f32)


def op_rope(loc, x, args):
    _check(x.ndim == 4 and x.shape[3] % 2 == 0, loc,
           f"rope: x {list(x.shape)} is not [B, H, S, D] with even D")
    theta = args.number("theta", 10000.0)
    offset = args.number("offset", 0, integer=True)
    scaling = args.choice("scaling", ["none", "linear", "llama3"])
    extra = {"none": [], "linear": ["factor"]}.get(scaling, [
        "factor", "low_freq_factor", "high_freq_factor",
        "original_max_positions"])
    for key in ("factor", "low_freq_factor", "high_freq_factor",
                "original_max_positions"):
        _check(key in extra or not args.has(key), loc,
               f"rope: '{key}' needs a scaling that uses it")
    seq, dim = x.shape[2], x.shape[3]
    inv_freq = rope_inv_freq(dim, theta, scaling, args)
    positions = np.arange(offset, offset + seq).astype(np.float32)
    freqs = positions[:, None] * inv_freq[None, :]         # float32 products
    emb = np.concatenate([freqs, freqs], axis=-1).astype(np.float64)
    # cos and sin of the float32 angle, rounded to float32 (HF's fp32 cos/sin).
    cos = np.cos(emb).astype(np.float32).astype(np.float64)
    sin = np.sin(emb).astype(np.float32).astype(np.float64)
    half = dim // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def op_silu(loc, x, args):
    return x * 0.5 * (1.0 + np.tanh(0.5 * x))    # x * sigmoid(x), no overflow


def op_relu(loc, x, args):
    return np.maximum(x, 0.0)


def op_gelu(loc, x, args):
    if args.choice("approximate", ["none", "tanh"]) == "tanh":
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + np.tanh(c * (x + 0.044715 * x ** 3)))
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _broadcast(loc, op, a, b):
    ok = b.ndim <= a.ndim and all(
        db in (1, da) for da, db in zip(a.shape[a.ndim - b.ndim:], b.shape))
    _check(ok, loc, f"{op}: {list(b.shape)} does not broadcast onto "
           f"{list(a.shape)}")


def op_add(loc, a, b, args):
    _broadcast(loc, "add", a, b)
    return a + b


def op_mul(loc, a, b, args):
    _broadcast(loc, "mul", a, b)
    return a * b


def op_chunk(loc, x, args):
    parts = args.number("parts", integer=True)
    index = args.number("index", integer=True)
    n = x.shape[-1]
    _check(parts > 0 and n % parts == 0 and 0 <= index < parts, loc,
           f"chunk: parts {parts}, index {index} for last dim {n}")
    size = n // parts
    return x[..., index * size:(index + 1) * size]


def op_split_heads(loc, x, args):
    heads = args.number("heads", integer=True)
    _check(x.ndim == 3 and heads > 0 and x.shape[2] % heads == 0, loc,
           f"split_heads: {list(x.shape)} into {heads} heads")
    b, s, f = x.shape
    return x.reshape(b, s, heads, f // heads).transpose(0, 2, 1, 3)


def op_merge_heads(loc, x, args):
    _check(x.ndim == 4, loc, f"merge_heads: {list(x.shape)} is not rank 4")
    b, h, s, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * d)


def op_embedding(loc, ids, table, args):
    _check(ids.ndim == 2 and table.ndim == 2, loc, "embedding: shapes")
    if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
        raise reflib.RefError(f"embedding: ids outside [0, {table.shape[0]})")
    return table[ids]


def op_rows(loc, table, args):
    count = args.number("count", integer=True)
    offset = args.number("offset", 0, integer=True)
    _check(table.ndim == 2 and count > 0 and offset >= 0 and
           offset + count <= table.shape[0], loc,
           f"rows: {count} rows from {offset} of {list(table.shape)}")
    return table[offset:offset + count]


def op_attention(loc, q, k, v, args):
    for key in ("segments", "q_segments", "kv_lengths", "q_lengths"):
        _check(not args.has(key), loc, f"attention: '{key}' is not supported "
               "by model_ref.py (whole models do not use run-time masks)")
    _check(q.ndim == k.ndim == v.ndim == 4, loc, "attention: rank-4 operands")
    b, hq, sq, d = q.shape
    _, hkv, skv, dv = v.shape
    _check(k.shape[:3] == (b, hkv, skv) and k.shape[3] == d and
           v.shape[0] == b and hkv > 0 and hq % hkv == 0, loc,
           f"attention: q {list(q.shape)}, k {list(k.shape)}, "
           f"v {list(v.shape)}")
    causal = args.choice("mask", ["none", "causal"]) == "causal"
    scale = args.number("scale", 1.0 / math.sqrt(d))
    _check(math.isfinite(scale) and scale != 0, loc, "attention: bad scale")
    visible = _visibility(loc, args, causal, sq, skv)
    k = np.repeat(k, hq // hkv, axis=1)
    v = np.repeat(v, hq // hkv, axis=1)
    scores = np.where(visible, scale * (q @ k.transpose(0, 1, 3, 2)), -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    p = np.exp(scores - row_max)
    total = p.sum(axis=-1, keepdims=True)
    p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    return p @ v


def _visibility(loc, args, causal, sq, skv):
    """[Sq, Skv] booleans: the mask rule of dialect/README.md (no lengths or
    segments: q_len = Sq, kv_len = Skv)."""
    window = args.ints("window")
    left = right = None
    if window:
        values, is_list, wloc = window
        if is_list:
            _check(len(values) == 2, wloc, "window: [left, right]")
            left, right = values
        else:
            left, right = values[0], (0 if causal else values[0])
        _check(left >= 0 and right >= 0, wloc, "window: sizes must be >= 0")
        _check(not causal or right == 0, wloc,
               "window: with causal the right side must be 0")
    glob = np.zeros(skv, dtype=bool)
    given = args.ints("global")
    if given:
        values, is_list, gloc = given
        if not is_list:
            _check(1 <= values[0] <= skv, gloc, "global: N in [1, Skv]")
            values = list(range(values[0]))
        _check(len(set(values)) == len(values) and
               all(0 <= p < skv for p in values), gloc,
               "global: distinct positions in [0, Skv)")
        glob[values] = True
    pos = np.arange(sq)[:, None] + (skv - sq)
    j = np.arange(skv)[None, :]
    limit = np.minimum(skv, pos + 1) if causal else np.full_like(pos, skv)
    in_window = np.ones((sq, skv), dtype=bool) if left is None else \
        (j >= pos - left) & (j <= pos + right)
    pos_global = np.zeros((sq, 1), dtype=bool)
    inside = (pos >= 0) & (pos < skv)
    pos_global[inside[:, 0]] = glob[pos[inside]][:, None]
    return (j < limit) & (pos_global | glob[None, :] | in_window)


# name -> (tensor operand count, keywords that name tensors, other keywords,
#          function(loc, *tensors, args, **tensor keywords))
OPS = {
    "linear": (2, ["bias"], ["layout"], op_linear),
    "rms_norm": (2, [], ["eps"], op_rms_norm),
    "layer_norm": (3, [], ["eps"], op_layer_norm),
    "rope": (1, [], ["theta", "offset", "scaling", "factor", "low_freq_factor",
                     "high_freq_factor", "original_max_positions"], op_rope),
    "silu": (1, [], [], op_silu),
    "relu": (1, [], [], op_relu),
    "gelu": (1, [], ["approximate"], op_gelu),
    "add": (2, [], [], op_add),
    "mul": (2, [], [], op_mul),
    "chunk": (1, [], ["parts", "index"], op_chunk),
    "split_heads": (1, [], ["heads"], op_split_heads),
    "merge_heads": (1, [], [], op_merge_heads),
    "embedding": (2, [], [], op_embedding),
    "rows": (1, [], ["count", "offset"], op_rows),
    "attention": (3, [], ["mask", "scale", "window", "global", "segments",
                          "q_segments", "kv_lengths", "q_lengths"],
                  op_attention),
}


# ---------------------------------------------------------------------------
# The model: statements, layer instances and weights
# ---------------------------------------------------------------------------

class Model:
    def __init__(self, path):
        text = open(path, encoding="utf-8").read()
        self.statements = Parser(tokenize(path, text)).parse()
        self.layers = {}
        self.inputs, self.outputs, self.weights = [], [], []
        self._check_structure()

    def _check_structure(self):
        """Collects inputs, layers and outputs; lists every weight instance
        (file name, shape) in entry-function order with unique names."""
        top_weights, layer_weights, instances = [], [], {}
        for st in self.statements:
            if st["kind"] == "input":
                _check(st["dtype"] in ("f32", "i32"), st["loc"],
                       f"input element type {st['dtype']}")
                self.inputs.append(st)
            elif st["kind"] == "weight":
                top_weights.append((st["file"], st["shape"], st["loc"]))
            elif st["kind"] == "layer":
                _check(st["name"] not in OPS and st["name"] not in self.layers,
                       st["loc"], f"layer name '{st['name']}' is taken")
                returns = [s for s in st["body"] if s["kind"] == "return"]
                _check(len(returns) == 1 and st["body"][-1] is returns[0],
                       st["loc"], "a layer ends with exactly one 'return'")
                self.layers[st["name"]] = st
            elif st["kind"] == "output":
                self.outputs += [tok[1] for tok in st["names"]]
            elif st["kind"] == "call" and st["op"][1] not in OPS:
                _check(st["op"][1] in self.layers, st["op"][2],
                       f"unknown op '{st['op'][1]}' (a layer must be "
                       "defined before its calls)")
                layer = self.layers[st["op"][1]]
                for index in self.instances(st, instances):
                    prefix = self.prefix(st, layer).replace("{i}", str(index))
                    for w in layer["body"]:
                        if w["kind"] == "weight":
                            layer_weights.append((prefix + w["file"],
                                                  w["shape"], w["loc"]))
        _check(self.outputs, (self.statements[0]["loc"] if self.statements
                              else ("?", 1, 1)), "the model has no output")
        seen = set()
        for name, shape, loc in top_weights + layer_weights:
            _check(name not in seen, loc, f"weight file name '{name}' is "
                   "used twice")
            seen.add(name)
            self.weights.append((name, shape))

    @staticmethod
    def instances(call, counters):
        """Instance indices of a layer call; advances the layer's counter."""
        repeat = 1
        if "repeat" in call["kwargs"]:
            value, loc, _ = call["kwargs"]["repeat"]
            _check(value[0] == "num" and value[2] and value[1] >= 1, loc,
                   "repeat must be a positive integer")
            repeat = int(value[1])
        start = counters.get(call["op"][1], 0)
        counters[call["op"][1]] = start + repeat
        return range(start, start + repeat)

    @staticmethod
    def prefix(call, layer):
        if "prefix" not in call["kwargs"]:
            return layer["name"] + ".{i}."
        value, loc, _ = call["kwargs"]["prefix"]
        _check(value[0] == "str", loc, "prefix must be a string")
        return value[1]

    # -- evaluation ----------------------------------------------------------

    def run(self, inputs_dir, tensors):
        """Evaluates the model; returns {output name: float64 array}."""
        env, counters = {}, {}
        for st in self.inputs:
            _check(st["name"] not in env, st["loc"], "name defined twice")
            env[st["name"]] = reflib.load_npy(
                inputs_dir, st["name"], st["shape"], st["dtype"] == "i32")
        for st in self.statements:
            if st["kind"] == "weight":
                self._define(env, st["name"], st["loc"],
                             self._weight(tensors, st["file"], st["shape"],
                                          st["loc"]))
            elif st["kind"] == "call":
                self._call(env, st, tensors, counters, top=True)
        missing = [n for n in self.outputs if n not in env]
        _check(not missing, self.statements[-1]["loc"],
               f"output '{missing[0] if missing else ''}' is not defined")
        return {name: env[name] for name in self.outputs}

    @staticmethod
    def _define(env, name, loc, value):
        _check(name not in env, loc, f"'{name}' is defined twice")
        env[name] = value

    @staticmethod
    def _weight(tensors, name, shape, loc):
        _check(name in tensors, loc, f"weight '{name}' is not in the weights "
               "file")
        value = tensors[name]
        _check(list(value.shape) == list(shape), loc,
               f"weight '{name}' is {list(value.shape)} in the file, "
               f"declared {shape}")
        return value

    def _call(self, env, st, tensors, counters, top):
        op, op_loc = st["op"][1], st["op"][2]
        args = []
        for value, loc in st["args"]:
            _check(value[0] == "name", loc, "operands are tensor names")
            _check(value[1] in env, loc, f"'{value[1]}' is not defined")
            args.append(env[value[1]])
        if op in self.layers:
            _check(top, op_loc, "layers cannot call layers")
            results = self._call_layer(st, self.layers[op], args, tensors,
                                       counters)
        else:
            _check(op in OPS, op_loc, f"unknown op '{op}'")
            results = [self._apply(op, op_loc, st, args, env)]
        _check(len(results) == len(st["targets"]), st["loc"],
               f"'{op}' gives {len(results)} results, "
               f"{len(st['targets'])} names")
        for (_, name, loc), value in zip(st["targets"], results):
            self._define(env, name, loc, value)

    @staticmethod
    def _apply(op, loc, st, args, env):
        count, tensor_keys, other_keys, fn = OPS[op]
        _check(len(args) == count, loc,
               f"{op} takes {count} tensors, got {len(args)}")
        kwargs, tensor_kwargs = dict(st["kwargs"]), {}
        for key in tensor_keys:
            if key in kwargs:
                value, kloc, _ = kwargs.pop(key)
                _check(value[0] == "name" and value[1] in env, kloc,
                       f"'{key}' must name a defined tensor")
                tensor_kwargs[key] = env[value[1]]
        for i, arg in enumerate(args):
            integer = arg.dtype.kind == "i"
            _check(integer == (op == "embedding" and i == 0), st["args"][i][1],
                   f"{op}: operand {i + 1} has the wrong element type")
        return fn(loc, *args, Args(op, kwargs, other_keys, loc),
                  **tensor_kwargs)

    def _call_layer(self, st, layer, args, tensors, counters):
        for key, (_, _, loc) in st["kwargs"].items():
            _check(key in ("repeat", "prefix"), loc,
                   f"unknown keyword '{key}' for a layer call")
        _check(len(args) == len(layer["params"]), st["op"][2],
               f"layer '{layer['name']}' takes {len(layer['params'])} "
               f"tensors, got {len(args)}")
        prefix = self.prefix(st, layer)
        results = None
        for index in self.instances(st, counters):
            if results is not None:
                args = [results[0]] + args[1:]
            local = {}
            for (_, name, loc), value in zip(layer["params"], args):
                self._define(local, name, loc, value)
            for inner in layer["body"]:
                if inner["kind"] == "weight":
                    name = prefix.replace("{i}", str(index)) + inner["file"]
                    self._define(local, inner["name"], inner["loc"],
                                 self._weight(tensors, name, inner["shape"],
                                              inner["loc"]))
                elif inner["kind"] == "call":
                    self._call(local, inner, tensors, counters, top=False)
                else:
                    for _, name, loc in inner["names"]:
                        _check(name in local, loc, f"'{name}' is not defined")
                    results = [local[n[1]] for n in inner["names"]]
        return results


def random_weights(model, seed):
    """{file name: array} drawn in entry-function order (see the docstring)."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in model.weights:
        if len(shape) == 1:
            weights[name] = rng.uniform(0.5, 1.5, size=shape)
        else:
            s = 1.0 / math.sqrt(shape[-1])
            weights[name] = rng.uniform(-s, s, size=shape)
    return weights


def main(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--inputs", help="folder of <input>.npy files")
    parser.add_argument("--weights", help="safetensors file")
    parser.add_argument("--outputs", help="folder of <output>.npy to check")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--write-ref", help="folder for the reference outputs")
    parser.add_argument("--write-weights", help="write random weights here")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(argv)
    try:
        model = Model(opts.model)
        if opts.write_weights:
            reflib.write_safetensors(opts.write_weights,
                                     random_weights(model, opts.seed))
            return 0
        if not (opts.inputs and opts.weights and
                (opts.outputs or opts.write_ref)):
            parser.error("need --inputs, --weights and --outputs or "
                         "--write-ref (or --write-weights)")
        refs = model.run(opts.inputs, reflib.read_safetensors(opts.weights))
    except ModelError as e:
        print(f"model_ref.py: {e}", file=sys.stderr)
        return 2
    except reflib.RefError as e:
        print(f"model_ref.py: error: {e}", file=sys.stderr)
        return 2
    if opts.write_ref:
        reflib.save_npy_dir(opts.write_ref, refs, np.float64)
    if opts.outputs:
        return 0 if reflib.compare(refs, opts.outputs, opts.rtol) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
