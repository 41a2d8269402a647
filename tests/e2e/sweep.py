#!/usr/bin/env python3
"""Randomized end-to-end sweep: compile, run and check attention variants.

    sweep.py --attnc ATTNC --ref ATTN_REF --work DIR [--seed N] [--count N]
             [--shard K/N] [--widths 8,16] [--overrides half|none|all]
             [--group N] [--dense-only] [--modifiers | --decode]
             [--attnc-flag FLAG ...] [--compile-only]

Cases cover shapes (self/cross attention, GQA/MQA, head dims 32/64/128,
ragged lengths, batch > 1) and every mask of the `attention` op and their
combinations (causal, sliding window, global tokens, segments, runtime
kv/q lengths; the rule is in dialect/README.md), plus large logits (|scores| of 1e2
to 1e4, which only a softmax that subtracts its running maximum survives).

A fixed list of corner cases comes first, then --count random cases drawn
from random.Random(--seed): round-robin over KINDS (so every mask kind is
covered), each kept under MAX_FLOPS so that the sweep stays fast on two
cores. Compilation dominates the time, so --group consecutive cases become
one model file (each case its own inputs, attention op and output), compiled
once per vector width in --widths (every case runs under every width), run
once with two threads on seeded random inputs (saved with --save-inputs), and
each output is compared with the independent double-precision reference
(attn-ref) at max abs error 1e-4. If a group fails to compile or run, each of
its cases is retried alone so that the failure is pinned to one case.

Schedules: with --overrides half (the default), every other compile of a
group (alternating the width that gets it, so each width sees both) takes
a random `--schedule` override instead of the heuristic's schedule: tile
sizes, score and P·V blocking, prefetch, the dot-product score kernel, and
head packing and kv splits where every case of the group allows them
(random_schedule). So the code of schedules that the heuristic would not
pick on this host, at either width, is checked too. `none` keeps the
heuristic everywhere, `all` overrides every compile.

Auxiliary inputs (segment ids, lengths) are either made by the generated
program (its random valid data: full lengths, 2-4 segments) or, for cases
marked aux=file, written here as i32 .npy files with edge cases (lengths 0
and strictly inside (0, S), 1 to 5 segments including segments of length 1,
query segment ids that no key has) and passed with --input. Cases marked
inputs=sharp get q, k, v from tests/npy.py's sharp_inputs: exact dot products
whose values are far apart, so that with scales of +-300 and +-3000 the f32
rounding of huge scores (~1e-3 at 1e4) cannot be amplified by near-tied
scores into errors above the tolerance. (Scale 30 runs on the ordinary
random inputs.)

--modifiers runs the score-modifier sweep instead: its own corner cases,
then --count random cases drawn as above, each with score modifiers drawn
round-robin over MODIFIER_KINDS (a bias tensor broadcast over none, the
batch, the heads or both; ALiBi with the standard or random slopes;
softcap; cosine similarity with a temperature; and combinations), and
about half of them also checking the log-sum-exp output against the
reference's at 1e-4, and a third of those the attention probabilities
(attention_probs of random heads, or their average) at 1e-4. A quarter of
the random modifier cases take f16 and a quarter bf16 query, key, value
and bias: the reference reads the same rounded inputs, so the only extra
error is the output's rounding to its type (see ATOL_BY_DTYPE).

--attnc-flag adds a flag to every compile: with --attnc-flag=--target=cuda
(and --overrides none, whose CPU schedule fields the cuda target rejects)
the same cases run on the GPU (sweep-cuda.test); --compile-only stops after
compiling each group (sweep-cuda-compile.test: every case compiles for the
GPU on machines without one).

--decode runs the decode sweep: its corner cases, then --count random cases
of 1-16 query rows over 600-4100 keys with GQA groups of 1-8 heads (kinds
round-robin over DECODE_KINDS: masks, lengths, modifiers, f16/bf16), whose
default schedules pack the heads of a group into one query tile and split
the keys into chunks merged by a second loop (kv_splits).

--shard K/N runs every N-th group starting at the K-th (1-based), so that
several lit tests can split the sweep; the case list does not depend on it.
--dense-only keeps only the cases without the structured masks (window,
global, segments, lengths). Prints one line per case and width, the failing
commands with their output, and finally `N passed, M failed`; exits 1 if any
case failed. Python 3 standard library only.
"""
import argparse
import dataclasses
import math
import os
import random
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))
from npy import prod, sharp_inputs, write_npy  # noqa: E402 (tests/npy.py)

ATOL = "1e-4"
# Output tolerance by element type, relative to the output's magnitude
# m = Σ P·|V| >= |o| (attn-ref): the f32 result's own error (the f32
# tolerance, 1e-4: large scales use much of it) plus its rounding to the
# output type, at most half an ulp, 2^-11 · |o| <= 2^-11 · m for f16 (10
# stored mantissa bits), 2^-8 · m for bf16 (7 bits). The lse and the
# probabilities stay f32 (1e-4).
ATOL_BY_DTYPE = {"f32": ATOL, "f16": "5.9e-4", "bf16": "4.0e-3"}
# With --target=cuda, f16/bf16 attention may run on tensor cores, which
# round the probabilities to the input type before P·V (as FlashAttention
# does): a second rounding of at most 2^-11 · m (f16) or 2^-8 · m (bf16).
ATOL_BY_DTYPE_CUDA = {"f32": ATOL, "f16": "1.1e-3", "bf16": "8.0e-3"}
MAX_FLOPS = 20e6
GROUP = 6
TIMEOUT_S = {"compile": 300, "run": 120, "reference": 120}


@dataclasses.dataclass(frozen=True)
class Case:
    b: int
    hq: int
    hkv: int
    sq: int
    skv: int
    d: int
    dv: int
    mask: str = "none"
    scale: float = None
    window: tuple = None  # (left, right), the bounds attn-ref gets
    window_int: bool = False  # written as the shorthand `window = W`
    glob: object = None  # None, N (positions 0..N-1) or a tuple of positions
    # None, "self" (segments, Sq == Skv), "both" (segments and q_segments,
    # Sq == Skv) or "cross" (segments and q_segments, any Sq, Skv)
    segments: str = None
    kv_lengths: bool = False
    q_lengths: bool = False
    aux: str = "random"  # "random": the program's own; "file": written here
    files: tuple = ()  # ((role, rows), ...): fixed aux data for aux=file
    sharp: bool = False  # q, k, v written here by npy.sharp_inputs
    # Score modifiers: bias None or its broadcast ("full", "batch1",
    # "head1", "both1": which dims are 1), or "file" (written here with -inf
    # entries and a row of -inf in each head); alibi None, "standard" or a
    # tuple of slopes; softcap None or c; cosine None or the temperature.
    bias: str = None
    alibi: object = None
    softcap: float = None
    cosine: float = None
    lse: bool = False  # also check the log-sum-exp output
    dtype: str = "f32"  # element type of q, k, v and the bias
    probs: object = None  # None, "average" or a tuple of heads (needs lse)

    def has_masks(self):
        return (self.window is not None or self.glob is not None or
                self.segments is not None or self.kv_lengths or
                self.q_lengths)

    def bias_shape(self):
        one_b = self.bias in ("batch1", "both1")
        one_h = self.bias in ("head1", "both1")
        return [1 if one_b else self.b, 1 if one_h else self.hq, self.sq,
                self.skv]

    def aux_roles(self):
        """The i32 inputs: role -> shape."""
        roles = {}
        if self.segments:
            roles["seg"] = [self.b, self.skv]
        if self.segments in ("cross", "both"):
            roles["qseg"] = [self.b, self.sq]
        if self.kv_lengths:
            roles["kvlen"] = [self.b]
        if self.q_lengths:
            roles["qlen"] = [self.b]
        return roles


C = Case

# `files` holds fixed aux data, one row per batch.
CORNER_CASES = [
    C(1, 1, 1, 1, 1, 32, 32),  # a single element
    C(1, 2, 2, 7, 7, 32, 32, mask="causal"),  # shorter than any tile
    # GQA cross attention, Sq > Skv: causal rows 0-22 see no key; Dv != D.
    C(2, 4, 2, 100, 77, 64, 32, mask="causal", scale=0.125),
    C(1, 4, 1, 33, 257, 64, 64, mask="causal"),  # MQA, Sq < Skv
    C(2, 8, 1, 1, 257, 64, 64, mask="causal"),  # MQA decoding step
    C(1, 8, 2, 100, 33, 128, 128),  # GQA 8/2, D = 128
    C(3, 2, 1, 65, 65, 64, 32, mask="causal"),  # batch 3, Dv < D
    C(1, 1, 1, 129, 1, 32, 32, mask="causal"),  # one key, 128 empty rows
    C(2, 3, 3, 64, 128, 32, 48, scale=0.3),  # Dv = 48, explicit scale
    C(1, 2, 1, 7, 100, 32, 64),  # Dv > D, Sq < Skv
    C(1, 1, 1, 257, 257, 128, 128, mask="causal"),  # ragged self
    C(1, 2, 2, 33, 33, 64, 64, scale=1.0),  # logits up to ~20
    # Large logits (D = 64: |q.k| up to ~20, so |scores| up to ~6e2 / 6e3 /
    # 6e4): exp overflows (or, for negative scales, every term underflows)
    # unless the softmax subtracts its running maximum.
    C(1, 2, 2, 64, 64, 64, 64, scale=30.0),
    C(1, 2, 2, 100, 130, 64, 64, mask="causal", scale=30.0),
    C(2, 4, 1, 64, 90, 64, 64, mask="causal", scale=-30.0),
    C(2, 4, 2, 100, 77, 64, 32, scale=300.0, sharp=True),
    C(1, 2, 1, 129, 129, 64, 64, mask="causal", scale=300.0, sharp=True),
    C(1, 4, 4, 70, 200, 64, 64, scale=3000.0, sharp=True),
    C(1, 2, 2, 200, 200, 64, 64, mask="causal", scale=3000.0, sharp=True),
    C(1, 2, 2, 65, 65, 64, 64, scale=-300.0, sharp=True),
    C(1, 2, 1, 90, 90, 64, 64, mask="causal", scale=-3000.0, sharp=True),
    C(1, 2, 2, 100, 100, 64, 64, scale=3000.0, window=(16, 16), sharp=True),
    C(1, 2, 2, 100, 100, 64, 64, mask="causal", scale=300.0,
      window=(20, 0), glob=(0, 50), sharp=True),
    C(2, 2, 2, 80, 80, 64, 64, scale=3000.0, segments="self", aux="file",
      sharp=True),
    C(2, 2, 1, 80, 120, 64, 64, mask="causal", scale=-300.0, kv_lengths=True,
      q_lengths=True, aux="file", sharp=True),
    # Windows: only the diagonal, causal diagonal, cross, wider than S.
    C(1, 2, 2, 100, 100, 32, 32, window=(0, 0)),
    C(1, 2, 2, 100, 100, 32, 32, mask="causal", window=(0, 0)),
    C(2, 2, 1, 50, 130, 64, 64, window=(1, 1)),
    C(1, 2, 2, 130, 60, 64, 64, window=(3, 200)),
    C(1, 2, 2, 97, 97, 32, 32, window=(500, 500)),
    C(1, 2, 2, 97, 97, 32, 32, mask="causal", window=(40, 0),
      window_int=True),
    C(1, 2, 2, 97, 150, 32, 32, window=(17, 17), window_int=True),
    # Global tokens: all of them, the last one, unsorted lists.
    C(1, 2, 2, 40, 40, 32, 32, glob=40),
    C(1, 2, 2, 70, 70, 32, 32, mask="causal", glob=(69,)),
    C(1, 2, 1, 70, 120, 64, 64, mask="causal", glob=(119, 3, 64, 0)),
    C(2, 2, 2, 130, 130, 32, 32, window=(2, 2), glob=(129, 65, 1)),
    C(1, 1, 1, 1, 80, 32, 32, mask="causal", window=(8, 0), glob=3),
    # Segments: length-1 segments; q ids no key has (rows of zeros).
    C(2, 2, 2, 100, 100, 32, 32, segments="self", aux="file",
      files=(("seg", ((0,) + (1,) * 98 + (2,), (5,) * 100)),)),
    C(1, 2, 2, 9, 9, 32, 32, mask="causal", segments="self", aux="file",
      files=(("seg", ((0, 1, 2, 3, 4, 5, 6, 7, 8),)),)),
    C(1, 2, 1, 6, 10, 64, 64, segments="cross", aux="file",
      files=(("seg", ((1, 1, 1, 3, 3, 3, 3, 4, 4, 4),)),
             ("qseg", ((0, 1, 2, 3, 4, 5),)))),
    C(2, 2, 2, 65, 65, 32, 32, mask="causal", window=(10, 0), glob=(0,),
      segments="self", aux="file"),
    # Lengths: all zero, q length 0, qLen > kvLen (negative offset), a
    # decoding step over a padded KV cache.
    C(2, 2, 2, 50, 50, 32, 32, mask="causal", kv_lengths=True, aux="file",
      files=(("kvlen", ((0,), (0,))),)),
    C(2, 2, 2, 50, 70, 32, 32, kv_lengths=True, q_lengths=True, aux="file",
      files=(("kvlen", ((70,), (33,))), ("qlen", ((0,), (50,))))),
    C(2, 2, 2, 90, 60, 32, 32, mask="causal", kv_lengths=True,
      q_lengths=True, aux="file",
      files=(("kvlen", ((20,), (60,))), ("qlen", ((90,), (45,))))),
    C(3, 8, 2, 1, 300, 64, 64, mask="causal", kv_lengths=True, aux="file",
      files=(("kvlen", ((1,), (299,), (150,))),)),
    C(3, 4, 2, 120, 120, 64, 64, mask="causal", window=(30, 0), glob=2,
      segments="self", kv_lengths=True, q_lengths=True, aux="file"),
]

# The corner cases of --modifiers.
MODIFIER_CORNER_CASES = [
    C(1, 2, 2, 64, 64, 64, 64, mask="causal", bias="full", lse=True,
      probs=(1,)),
    C(2, 4, 2, 100, 77, 64, 32, mask="causal", bias="both1", lse=True),
    C(1, 4, 1, 33, 257, 32, 32, mask="causal", alibi="standard", lse=True),
    C(1, 6, 2, 90, 90, 32, 32, alibi="standard", lse=True),  # 6: not 2^k
    C(1, 2, 2, 200, 200, 64, 64, mask="causal", scale=3000.0, sharp=True,
      softcap=30.0, lse=True),  # scores of 1e4 capped
    C(1, 2, 2, 100, 130, 64, 64, softcap=0.5),
    C(1, 2, 1, 129, 129, 64, 64, mask="causal", cosine=10.0, lse=True),
    C(1, 2, 2, 70, 70, 48, 48, cosine=1.0),  # head dim not a multiple of 16
    C(2, 2, 2, 80, 80, 32, 32, mask="causal", bias="file", lse=True,
      probs="average"),
    C(1, 2, 2, 97, 150, 32, 32, window=(17, 17), cosine=5.0, bias="head1",
      alibi=(0.5, -0.25), softcap=20.0, lse=True),
    C(3, 4, 2, 120, 120, 64, 64, mask="causal", window=(30, 0), glob=2,
      segments="self", kv_lengths=True, q_lengths=True, aux="file",
      bias="batch1", alibi="standard", softcap=15.0, lse=True,
      probs=(3, 0, 2)),
    C(2, 2, 2, 50, 70, 32, 32, kv_lengths=True, q_lengths=True, aux="file",
      files=(("kvlen", ((70,), (33,))), ("qlen", ((0,), (50,)))),
      alibi="standard", lse=True),
    # Half precision: f16 GQA with the lse and maps, bf16 with every
    # additive modifier, f16 cosine with a head dim that is no multiple of 16.
    C(1, 8, 2, 100, 140, 64, 64, mask="causal", lse=True, probs=(7, 1),
      dtype="f16"),
    C(2, 4, 2, 90, 90, 64, 32, mask="causal", window=(30, 0), bias="head1",
      alibi="standard", softcap=20.0, lse=True, dtype="bf16"),
    C(1, 2, 1, 70, 70, 40, 24, cosine=5.0, lse=True, dtype="f16"),
]

# The corner cases of --decode: few query rows over long key sequences, where
# the schedule packs the query heads of a K/V group into one tile (unless a
# modifier reads the head: ALiBi) and splits the keys into chunks that a
# second loop merges.
DECODE_CORNER_CASES = [
    C(1, 32, 8, 1, 4096, 128, 128),  # the benchmark shape: 4 heads, 2 chunks
    C(1, 8, 1, 4, 4096, 64, 64, mask="causal", lse=True),  # MQA, 8 chunks
    # One batch entry sees 1 key: all its chunks but one are empty.
    C(2, 8, 2, 1, 3000, 64, 64, kv_lengths=True, aux="file",
      files=(("kvlen", ((1,), (2999,))),), lse=True),
    C(1, 4, 1, 1, 2048, 64, 64, alibi="standard", lse=True),  # not packed
    C(1, 8, 2, 3, 2000, 64, 32, mask="causal", softcap=20.0, bias="full",
      lse=True, dtype="f16"),  # per-head bias gathered across packed rows
    C(1, 16, 2, 2, 1500, 128, 128, mask="causal", window=(100, 0),
      lse=True, dtype="bf16"),
    C(1, 4, 4, 16, 2048, 64, 64, mask="causal"),  # MHA decode, 16 rows
]

# --decode draws random cases of these kinds, round-robin.
DECODE_KINDS = ["dense", "causal", "kv-lengths", "window", "softcap", "bias",
                "f16", "bf16", "alibi", "cosine"]
MAX_DECODE_FLOPS = 40e6


def random_decode_case(rng, kind):
    """A decode case of `kind`: 1-16 query rows over 600-4100 keys, GQA group
    sizes 1-8, under MAX_DECODE_FLOPS."""
    while True:
        hkv = rng.choice([1, 2, 4])
        d = rng.choice([64, 128])
        fields = dict(b=rng.choice([1, 1, 2]),
                      hq=hkv * rng.choice([1, 2, 4, 8]), hkv=hkv,
                      sq=rng.choice([1, 1, 2, 3, 4, 8, 16]),
                      skv=rng.randint(600, 4100), d=d,
                      dv=rng.choice([d, d, 32]),
                      mask=rng.choice(["none", "causal"]),
                      lse=rng.random() < 0.5)
        if kind == "kv-lengths":
            fields["kv_lengths"] = True
            fields["aux"] = rng.choice(["random", "file"])
        elif kind == "window":
            fields["mask"] = "causal"
            fields["window"] = (rng.randint(1, 600), 0)
        elif kind == "softcap":
            fields["softcap"] = rng.choice([5.0, 20.0])
        elif kind == "bias":
            fields["bias"] = rng.choice(["full", "batch1", "head1"])
        elif kind in ("f16", "bf16"):
            fields["dtype"] = kind
        elif kind == "alibi":
            fields["alibi"] = "standard"
        elif kind == "cosine":
            fields["cosine"] = 5.0
        case = Case(**fields)
        if flops(case) <= MAX_DECODE_FLOPS:
            return case


# --modifiers draws the modifiers of each random case round-robin from these.
MODIFIER_KINDS = [
    "bias",
    "alibi",
    "softcap",
    "cosine",
    "bias-softcap",
    "alibi-softcap",
    "cosine-bias",
    "cosine-alibi-softcap",
    "bias-alibi",
    "bias-alibi-softcap",
]

# The random cases cycle through these; every kind may also be causal.
# Global tokens change nothing without a window or segments (a key is
# visible to every row already): "global" and "global-causal" check that
# the keyword alone keeps the result (and tile skipping) exact; the
# combinations check its effect.
KINDS = [
    "dense",
    "window",
    "window-causal",
    "global",
    "global-causal",
    "global-window",
    "segments",
    "segments-cross",
    "segments-window",
    "segments-global",
    "kv-lengths",
    "kv-q-lengths",
    "lengths-segments",
    "lengths-window-global",
    "all",
]


def flops(case):
    """FLOPs of the two matmuls, ignoring the mask."""
    return 2 * case.b * case.hq * case.sq * case.skv * (case.d + case.dv)


def random_bound(rng, size):
    """A window bound: 0, small, about the size, or beyond it."""
    return rng.choice([0, rng.randint(1, 8), rng.randint(1, max(1, size)),
                       size + rng.randint(0, 40)])


def random_case(rng, kind, modifiers=None):
    """A case of `kind` (and score modifiers of kind `modifiers`) under
    MAX_FLOPS."""
    feats = set(kind.split("-"))
    if kind == "all":
        feats = {"window", "global", "segments", "lengths"}
    if "kv" in feats:
        feats.add("lengths")
    while True:
        hkv = rng.choice([1, 2, 4])
        d = rng.choice([32, 64, 128])
        sq = rng.randint(1, 300)
        cross = "cross" in feats or (kind == "all" and rng.random() < 0.5)
        if "segments" in feats and not cross:
            skv = sq
        else:
            skv = sq if rng.random() < 1 / 3 else rng.randint(1, 300)
        mask = rng.choice(["none", "causal"])
        if kind in ("window-causal", "global-causal"):
            mask = "causal"
        elif kind in ("window", "global"):
            mask = "none"
        fields = dict(b=rng.choice([1, 2, 3]), hq=hkv * rng.choice([1, 2, 4]),
                      hkv=hkv, sq=sq, skv=skv, d=d,
                      dv=rng.choice([d, d, 16, 32, 64, 128]), mask=mask,
                      scale=rng.choice([None, round(rng.uniform(0.02, 0.5),
                                                    4)]))
        if "window" in feats:
            left = random_bound(rng, skv)
            right = 0 if mask == "causal" else random_bound(rng, skv)
            fields["window_int"] = rng.random() < 0.2
            if fields["window_int"]:
                right = 0 if mask == "causal" else left
            fields["window"] = (left, right)
        if "global" in feats:
            if rng.random() < 0.5:
                fields["glob"] = rng.randint(1, min(skv, 8))
            else:
                count = rng.randint(1, min(skv, 6))
                fields["glob"] = tuple(rng.sample(range(skv), count))
        if "segments" in feats:
            fields["segments"] = ("cross" if cross else
                                  rng.choice(["self", "self", "both"]))
        if "lengths" in feats:
            fields["kv_lengths"] = True
            fields["q_lengths"] = "q" in feats or rng.random() < 0.5
        if "segments" in feats or "lengths" in feats:
            fields["aux"] = rng.choice(["random", "file"])
        if rng.random() < 0.1:  # large logits
            fields["d"] = 64
            fields["scale"] = rng.choice([30.0, -30.0, 300.0, 3000.0,
                                          -300.0])
            fields["sharp"] = abs(fields["scale"]) >= 300
        if modifiers:
            add_modifiers(rng, modifiers, fields)
        case = Case(**fields)
        if flops(case) <= MAX_FLOPS:
            return case


def add_modifiers(rng, kind, fields):
    """Sets the score modifiers of `kind` (a MODIFIER_KINDS entry)."""
    feats = set(kind.split("-"))
    if "bias" in feats:
        fields["bias"] = rng.choice(["full", "batch1", "head1", "both1"])
    if "alibi" in feats:
        fields["alibi"] = (
            "standard" if rng.random() < 0.5 else
            tuple(round(rng.uniform(-1, 1), 4) for _ in range(fields["hq"])))
    if "softcap" in feats:
        fields["softcap"] = rng.choice([0.5, 5.0, 20.0, 50.0])
    if "cosine" in feats:
        fields["cosine"] = rng.choice([1.0, 5.0, 20.0])
        fields["scale"] = None  # the temperature is the factor
        fields["sharp"] = False
    fields["lse"] = rng.random() < 0.5
    fields["dtype"] = rng.choice(["f32", "f32", "f16", "bf16"])
    if fields["dtype"] != "f32":
        fields["sharp"] = False  # sharp inputs are exact f32 values
    if fields["lse"] and rng.random() < 1 / 3:
        fields["probs"] = ("average" if rng.random() < 0.5 else tuple(
            rng.sample(range(fields["hq"]), rng.randint(1, fields["hq"]))))


def describe(case):
    text = (f"b={case.b} hq={case.hq} hkv={case.hkv} sq={case.sq} "
            f"skv={case.skv} d={case.d} dv={case.dv} mask={case.mask}")
    if case.scale is not None:
        text += f" scale={case.scale!r}"
    if case.window is not None:
        text += (f" window={case.window[0]}" if case.window_int else
                 f" window=[{case.window[0]}, {case.window[1]}]")
    if case.glob is not None:
        text += f" global={global_text(case.glob)}"
    if case.segments:
        text += f" segments={case.segments}"
    if case.kv_lengths:
        text += " kv_lengths"
    if case.q_lengths:
        text += " q_lengths"
    if case.aux_roles():
        text += f" aux={case.aux}"
    if case.sharp:
        text += " inputs=sharp"
    if case.bias:
        text += f" bias={case.bias}"
    if case.alibi:
        text += f" alibi={alibi_text(case.alibi)}"
    if case.softcap:
        text += f" softcap={case.softcap!r}"
    if case.cosine:
        text += f" cosine={case.cosine!r}"
    if case.lse:
        text += " lse"
    if case.dtype != "f32":
        text += f" dtype={case.dtype}"
    if case.probs:
        text += f" probs={heads_text(case.probs)}"
    return text


def heads_text(probs):
    return ("average" if probs == "average" else
            "[" + ", ".join(map(str, probs)) + "]")


def alibi_text(alibi):
    if alibi == "standard":
        return "true"
    return "[" + ", ".join(map(repr, alibi)) + "]"


def global_text(glob):
    if isinstance(glob, int):
        return str(glob)
    return "[" + ", ".join(map(str, glob)) + "]"


def names(index):
    """Input and output names of case `index` inside a group model."""
    return {role: f"{role}{index}"
            for role in ("q", "k", "v", "o", "seg", "qseg", "kvlen", "qlen",
                         "bias", "lse", "p")}


def op_text(index, case):
    n = names(index)
    t = case.dtype
    lines = [f"# case {index}: {describe(case)}",
             f"input {n['q']}: {t}[{case.b}, {case.hq}, {case.sq}, {case.d}]",
             f"input {n['k']}: {t}[{case.b}, {case.hkv}, {case.skv}, {case.d}]",
             f"input {n['v']}: {t}[{case.b}, {case.hkv}, {case.skv}, "
             f"{case.dv}]"]
    for role, shape in case.aux_roles().items():
        lines.append(f"input {n[role]}: i32[{', '.join(map(str, shape))}]")
    if case.bias:
        lines.append(f"input {n['bias']}: {t}"
                     f"[{', '.join(map(str, case.bias_shape()))}]")
    args = [f"mask = {case.mask}"]
    if case.window is not None:
        args.append(f"window = {case.window[0]}" if case.window_int else
                    f"window = [{case.window[0]}, {case.window[1]}]")
    if case.glob is not None:
        args.append(f"global = {global_text(case.glob)}")
    if case.segments:
        args.append(f"segments = {n['seg']}")
    if case.segments in ("cross", "both"):
        args.append(f"q_segments = {n['qseg']}")
    if case.kv_lengths:
        args.append(f"kv_lengths = {n['kvlen']}")
    if case.q_lengths:
        args.append(f"q_lengths = {n['qlen']}")
    if case.scale is not None:
        args.append(f"scale = {case.scale!r}")
    if case.bias:
        args.append(f"bias = {n['bias']}")
    if case.alibi:
        args.append(f"alibi = {alibi_text(case.alibi)}")
    if case.softcap:
        args.append(f"softcap = {case.softcap!r}")
    if case.cosine:
        args.append(f"similarity = cosine, temperature = {case.cosine!r}")
    results = n['o'] + (f", {n['lse']}" if case.lse else "")
    lines.append(f"{results} = attention({n['q']}, {n['k']}, {n['v']}, "
                 + ", ".join(args) + ")")
    lines.append(f"output {results}")
    if case.probs:
        heads = ([] if case.probs == "average" else
                 [f"heads = {heads_text(case.probs)}"])
        lines.append(f"{n['p']} = attention_probs({n['q']}, {n['k']}, "
                     f"{n['lse']}, " + ", ".join(args + heads) + ")")
        lines.append(f"output {n['p']}")
    return "\n".join(lines) + "\n"


def random_lengths(rng, size):
    """A length in [0, size]: mostly strictly inside, sometimes 0 or full."""
    if size > 1 and rng.random() < 0.7:
        return rng.randint(1, size - 1)
    return rng.choice([0, size])


def random_partition(rng, total, parts):
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def random_segments(rng, size, first_id, max_segments=5):
    """Non-decreasing segment ids: 1 to 5 segments, often one of length 1."""
    count = rng.randint(1, min(max_segments, size))
    if count >= 2 and rng.random() < 0.5:
        sizes = [1] + random_partition(rng, size - 1, count - 1)
        rng.shuffle(sizes)
    else:
        sizes = random_partition(rng, size, count)
    ids, segment = [], first_id
    for length in sizes:
        ids += [segment] * length
        segment += rng.choice([1, 1, 1, 2, 5])
    return ids


def aux_files(case, seed, folder, index):
    """Writes the i32 inputs of an aux=file case; returns --input values."""
    rng = random.Random(seed * 1000003 + index)
    fixed = dict(case.files)
    n = names(index)
    # Query and key segment ids of a batch start at the same id but are cut
    # apart independently, so that some ids appear on one side only.
    first_ids = [rng.choice([0, 0, 1, 7, -3]) for _ in range(case.b)]
    result = []
    for role, shape in case.aux_roles().items():
        if role in fixed:
            rows = [list(row) for row in fixed[role]]
        elif role == "kvlen":
            rows = [[random_lengths(rng, case.skv)] for _ in range(case.b)]
        elif role == "qlen":
            rows = [[random_lengths(rng, case.sq)] for _ in range(case.b)]
        else:
            rows = [random_segments(rng, shape[1], first)
                    for first in first_ids]
        values = [value for row in rows for value in row]
        path = os.path.join(folder, f"{n[role]}.npy")
        write_npy(path, "i4", shape, values)
        result.append(f"{n[role]}={path}")
    return result


def bias_file(case, seed, folder, index):
    """Writes a bias=file case's bias: uniform in [-3, 3], a tenth of the
    entries -inf, and in each head one query row entirely -inf (a row that
    sees no key through the bias alone). Returns the --input value."""
    rng = random.Random(seed * 1000003 + index + 700000)
    shape = case.bias_shape()
    values = []
    for _ in range(shape[0] * shape[1]):
        dead = rng.randrange(case.sq)
        for i in range(case.sq):
            values += [float("-inf") if i == dead or rng.random() < 0.1
                       else rng.uniform(-3, 3) for _ in range(case.skv)]
    path = os.path.join(folder, f"{names(index)['bias']}.npy")
    write_npy(path, "f4", shape, values)
    return f"{names(index)['bias']}={path}"


def sharp_files(case, seed, folder, index):
    """Writes tests/npy.py's sharp q, k, v; returns --input values."""
    rng = random.Random(seed * 1000003 + index + 500000)
    n = names(index)
    result = []
    values = sharp_inputs(rng, case.b, case.hq, case.hkv, case.sq, case.skv,
                          case.d, case.dv)
    for role, shape, data in zip(
            "qkv", ([case.b, case.hq, case.sq, case.d],
                    [case.b, case.hkv, case.skv, case.d],
                    [case.b, case.hkv, case.skv, case.dv]), values):
        path = os.path.join(folder, f"{n[role]}.npy")
        write_npy(path, "f4", shape, data)
        result.append(f"{n[role]}={path}")
    return result


def reference_command(args, index, case, inputs, outputs):
    n = names(index)
    path = lambda role: os.path.join(inputs, f"{n[role]}.npy")
    cuda = "--target=cuda" in args.attnc_flag
    atol = ATOL_BY_DTYPE_CUDA if cuda else ATOL_BY_DTYPE
    command = [args.ref, "--q", path("q"), "--k", path("k"), "--v", path("v"),
               "--out", os.path.join(outputs, f"{n['o']}.npy"),
               "--mask", case.mask, "--atol", atol[case.dtype]]
    if case.scale is not None:
        command += ["--scale", repr(case.scale)]
    if case.window is not None:
        command += ["--window", f"{case.window[0]},{case.window[1]}"]
    if case.glob is not None:
        positions = (range(case.glob) if isinstance(case.glob, int)
                     else case.glob)
        command += ["--global", ",".join(map(str, positions))]
    if case.segments:
        command += ["--kv-segments", path("seg"), "--q-segments",
                    path("seg" if case.segments == "self" else "qseg")]
    if case.kv_lengths:
        command += ["--kv-lengths", path("kvlen")]
    if case.q_lengths:
        command += ["--q-lengths", path("qlen")]
    if case.bias:
        command += ["--bias", path("bias")]
    if case.alibi:
        command += ["--alibi", "standard" if case.alibi == "standard" else
                    ",".join(map(repr, case.alibi))]
    if case.softcap:
        command += ["--softcap", repr(case.softcap)]
    if case.cosine:
        command += ["--cosine", "--scale", repr(case.cosine)]
    if case.lse:
        command += ["--lse", os.path.join(outputs, f"{n['lse']}.npy"),
                    "--lse-atol", ATOL]
    if case.probs:
        command += ["--probs", os.path.join(outputs, f"{n['p']}.npy"),
                    "--probs-atol", ATOL]
        if case.probs != "average":
            command += ["--probs-heads", ",".join(map(str, case.probs))]
    return command


def run_stage(stage, command, times):
    """Runs one command; returns None on success, else a failure report."""
    start = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=TIMEOUT_S[stage])
    except subprocess.TimeoutExpired:
        return (f"  {stage} timed out after {TIMEOUT_S[stage]} s\n"
                f"  $ {shlex.join(command)}")
    except OSError as error:
        return f"  {stage} could not start: {error}\n  $ {shlex.join(command)}"
    finally:
        times[stage] = times.get(stage, 0) + time.monotonic() - start
    if result.returncode == 0:
        return None
    output = (result.stdout + result.stderr).rstrip()
    return (f"  {stage} failed with exit code {result.returncode}\n"
            f"  $ {shlex.join(command)}\n"
            + "".join(f"  | {line}\n" for line in output.splitlines()))


def random_schedule(rng, cases, width):
    """A `--schedule` override valid for every case of `cases` at vector
    width `width` (the rules of ScheduleAttr::verify and the op verifier)."""
    qvecs = rng.choice([1, 2, 3])
    tile_q = width * qvecs * rng.choice([1, 2])
    qk_keys = rng.choice([1, 2, 4, 8])
    tile_kv = rng.choice([16, 32, 48, 64, 128])
    pv_vecs = 2 if all(c.dv % (2 * width) == 0 for c in cases) and \
        rng.random() < 0.5 else 1
    fields = dict(tile_q=tile_q, tile_kv=tile_kv, qk_keys=qk_keys,
                  qk_qvecs=qvecs,
                  pv_rows=rng.choice([r for r in (1, 2, 3, 4, 6, 8)
                                      if tile_q % r == 0]),
                  pv_vecs=pv_vecs, prefetch=rng.choice([0, 1]),
                  qk_dot=int(all(c.d % width == 0 for c in cases) and
                             rng.random() < 0.5))
    # Attention maps neither pack heads nor split keys; ALiBi reads the
    # head of each row, so its tiles hold one head.
    if not any(c.probs for c in cases):
        group = math.gcd(*(c.hq // c.hkv for c in cases))
        if not any(c.alibi for c in cases):
            fields["heads_per_tile"] = rng.choice(
                [h for h in (1, 2, 4) if group % h == 0])
        kv_tiles = min(-(-c.skv // tile_kv) for c in cases)
        fields["kv_splits"] = rng.choice([1, 1, min(2, kv_tiles),
                                          min(3, kv_tiles)])
    return ",".join(f"{key}={value}" for key, value in fields.items())


def run_group(label, members, width, args, times, schedule=None):
    """Compiles the cases [(index, case)] as one model (with the override
    `schedule` if given), runs it once and checks each output. Returns
    (whole, {index: None or a failure report}), whole true when the compile
    or run failed (the report of every case)."""
    folder = os.path.join(args.work, f"{label}-w{width}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    model = os.path.join(folder, "group.model")
    with open(model, "w") as file:
        file.write(f"# sweep {label}, --vector-width {width}\n"
                   f"model sweep_{label.replace('-', '_')}\n"
                   + "".join(op_text(index, case) for index, case in members))
    exe = os.path.join(folder, "group")
    inputs = os.path.join(folder, "in")
    outputs = os.path.join(folder, "out")
    run = [exe, "--seed", str(members[0][0]), "--save-inputs", inputs,
           "--output", outputs, "--quiet", "--threads", "2"]
    for index, case in members:
        if case.aux == "file":
            run += [f"--input={value}" for value in
                    aux_files(case, args.seed, folder, index)]
        if case.sharp:
            run += [f"--input={value}" for value in
                    sharp_files(case, args.seed, folder, index)]
        if case.bias == "file":
            run.append(f"--input={bias_file(case, args.seed, folder, index)}")
    compile = [args.attnc, model, "-o", exe, f"--vector-width={width}"]
    compile += args.attnc_flag
    if schedule:
        compile.append(f"--schedule={schedule}")
    stages = [("compile", compile)] + ([] if args.compile_only
                                        else [("run", run)])
    for stage, command in stages:
        report = run_stage(stage, command, times)
        if report:
            return True, {index: report for index, _ in members}
    if args.compile_only:
        return False, {index: None for index, _ in members}
    return False, {index: run_stage("reference",
                             reference_command(args, index, case, inputs,
                                               outputs), times)
            for index, case in members}


def parse_shard(text):
    try:
        k, n = map(int, text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N, got '{text}'")
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"expected 1 <= K <= N, got '{text}'")
    return k, n


def parse_widths(text):
    try:
        widths = [int(width) for width in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 8,16")
    if not widths or any(width <= 0 for width in widths):
        raise argparse.ArgumentTypeError(f"expected widths like 8,16")
    return widths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attnc", required=True, help="the attnc compiler")
    parser.add_argument("--ref", required=True, help="the attn-ref checker")
    parser.add_argument("--compile-only", action="store_true",
                        help="only compile the groups (e.g. for a target "
                             "this machine cannot run)")
    parser.add_argument("--attnc-flag", action="append", default=[],
                        help="a flag added to every compile (repeatable), "
                             "e.g. --attnc-flag=--target=cuda")
    parser.add_argument("--work", required=True, help="scratch directory")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random cases (default 0)")
    parser.add_argument("--count", type=int, default=12,
                        help="number of random cases (default 12)")
    parser.add_argument("--shard", type=parse_shard, default=(1, 1),
                        help="run the K-th of N slices of the groups (K/N)")
    parser.add_argument("--widths", type=parse_widths, default=[8, 16],
                        help="vector widths, each case runs under each "
                        "(default 8,16)")
    parser.add_argument("--overrides", choices=["half", "none", "all"],
                        default="half",
                        help="compiles that take a random --schedule "
                        "override (default half)")
    parser.add_argument("--group", type=int, default=GROUP,
                        help=f"cases per compiled model (default {GROUP})")
    parser.add_argument("--dense-only", action="store_true",
                        help="skip cases with window, global, segments or "
                        "lengths")
    parser.add_argument("--dtype", choices=["f16", "bf16"],
                        help="every case's q, k, v (and bias) in this type "
                        "(sharp cases then take random inputs)")
    parser.add_argument("--modifiers", action="store_true",
                        help="the score-modifier sweep (see above)")
    parser.add_argument("--decode", action="store_true",
                        help="the decode sweep (see above)")
    parser.add_argument("--list", action="store_true",
                        help="print the cases and the first group's model; "
                        "run nothing")
    args = parser.parse_args()
    if args.count < 0:
        parser.error("--count must not be negative")
    if args.group < 1:
        parser.error("--group must be positive")
    for tool in (args.attnc, args.ref):
        if shutil.which(tool) is None and not args.list:
            parser.error(f"'{tool}' is not an executable file or on PATH")
    os.makedirs(args.work, exist_ok=True)

    rng = random.Random(args.seed)
    if args.decode:
        cases = DECODE_CORNER_CASES + [
            random_decode_case(rng, DECODE_KINDS[i % len(DECODE_KINDS)])
            for i in range(args.count)]
    elif args.modifiers:
        cases = MODIFIER_CORNER_CASES + [
            random_case(rng, KINDS[i % len(KINDS)],
                        MODIFIER_KINDS[i % len(MODIFIER_KINDS)])
            for i in range(args.count)]
    else:
        cases = CORNER_CASES + [random_case(rng, KINDS[i % len(KINDS)])
                                for i in range(args.count)]
    if args.dtype:
        cases = [dataclasses.replace(case, dtype=args.dtype, sharp=False)
                 for case in cases]
    indexed = [(index, case) for index, case in enumerate(cases)
               if not (args.dense_only and case.has_masks())]
    groups = [indexed[i:i + args.group]
              for i in range(0, len(indexed), args.group)]
    shard, shards = args.shard
    if args.list:
        for index, case in indexed:
            print(f"#{index}  {describe(case)}")
        print("".join(op_text(index, case) for index, case in groups[0]),
              end="")
        return 0
    start = time.monotonic()
    times = {}
    passed = failed = 0
    for number, members in enumerate(groups):
        if number % shards != shard - 1:
            continue
        for position, width in enumerate(args.widths):
            schedule = None
            if args.overrides == "all" or (args.overrides == "half" and
                                           (number + position) % 2):
                # Its own generator: the cases do not depend on it.
                schedule = random_schedule(
                    random.Random(f"{args.seed}/{number}/{width}"),
                    [case for _, case in members], width)
            whole, results = run_group(f"group-{number:03d}", members,
                                       width, args, times, schedule)
            if whole and len(members) > 1:
                # The group failed to compile or run: pin it down.
                for index, case in members:
                    results.update(run_group(f"case-{index:03d}",
                                             [(index, case)], width, args,
                                             times, schedule)[1])
            for index, case in members:
                report = results[index]
                print(f"{'FAIL' if report else 'PASS'}  #{index} w={width}"
                      f"{' schedule=' + schedule if schedule else ''}  "
                      f"{describe(case)}", flush=True)
                if report:
                    failed += 1
                    print(report, end="" if report.endswith("\n") else "\n",
                          flush=True)
                else:
                    passed += 1
    print("time: " + ", ".join(f"{stage} {seconds:.0f} s"
                               for stage, seconds in times.items())
          + f", total {time.monotonic() - start:.0f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
