#!/usr/bin/env python3
"""Randomized end-to-end sweep: compile, run and check attention variants.

    sweep.py --attnc ATTNC --ref ATTN_REF --work DIR [--seed N] [--count N]

Each case is written as a model description, compiled with attnc, run with
two threads on seeded random inputs (saved with --save-inputs), and compared
with the independent double-precision reference (attn-ref) at max abs error
1e-4. A fixed list of corner cases comes first, then --count random cases
drawn from random.Random(--seed), each kept under MAX_FLOPS so that the sweep
stays fast on two cores. Prints one line per case, the failing commands with
their output, and finally `N passed, M failed`; exits 1 if any case failed.
Python 3 standard library only.
"""
import argparse
import collections
import os
import random
import shlex
import shutil
import subprocess
import sys

Case = collections.namedtuple("Case", "b hq hkv sq skv d dv mask scale")

ATOL = "1e-4"
MAX_FLOPS = 50e6
TIMEOUT_S = {"compile": 300, "run": 120, "reference": 120}

CORNER_CASES = [
    Case(1, 1, 1, 1, 1, 32, 32, "none", None),  # a single element
    Case(1, 2, 2, 7, 7, 32, 32, "causal", None),  # shorter than any tile
    # GQA cross attention, Sq > Skv: causal rows 0-22 see no key; Dv != D.
    Case(2, 4, 2, 100, 77, 64, 32, "causal", 0.125),
    Case(1, 4, 1, 33, 257, 64, 64, "causal", None),  # MQA, Sq < Skv
    Case(2, 8, 1, 1, 257, 64, 64, "causal", None),  # MQA decoding step
    Case(1, 8, 2, 100, 33, 128, 128, "none", None),  # GQA 8/2, D = 128
    Case(3, 2, 1, 65, 65, 64, 32, "causal", None),  # batch 3, Dv < D
    Case(1, 1, 1, 129, 1, 32, 32, "causal", None),  # one key, 128 empty rows
    Case(2, 3, 3, 64, 128, 32, 48, "none", 0.3),  # Dv = 48, explicit scale
    Case(1, 2, 1, 7, 100, 32, 64, "none", None),  # Dv > D, Sq < Skv
    Case(1, 1, 1, 257, 257, 128, 128, "causal", None),  # ragged self
    Case(1, 2, 2, 33, 33, 64, 64, "none", 1.0),  # large logits
]


def flops(case):
    """FLOPs of the two matmuls, ignoring the mask."""
    return 2 * case.b * case.hq * case.sq * case.skv * (case.d + case.dv)


def random_case(rng):
    """A case under MAX_FLOPS; self attention (Sq = Skv) a third of the time."""
    while True:
        hkv = rng.choice([1, 2, 4])
        d = rng.choice([32, 64, 128])
        sq = rng.randint(1, 300)
        case = Case(
            b=rng.choice([1, 2, 3]),
            hq=hkv * rng.choice([1, 2, 4]),
            hkv=hkv,
            sq=sq,
            skv=sq if rng.random() < 1 / 3 else rng.randint(1, 300),
            d=d,
            dv=rng.choice([d, d, 16, 32, 64, 128]),
            mask=rng.choice(["none", "causal"]),
            scale=rng.choice([None, round(rng.uniform(0.02, 0.5), 4)]),
        )
        if flops(case) <= MAX_FLOPS:
            return case


def describe(case):
    text = (f"b={case.b} hq={case.hq} hkv={case.hkv} sq={case.sq} "
            f"skv={case.skv} d={case.d} dv={case.dv} mask={case.mask}")
    return text if case.scale is None else f"{text} scale={case.scale!r}"


def model_text(index, case):
    scale = "" if case.scale is None else f", scale = {case.scale!r}"
    return (f"# sweep case {index}: {describe(case)}\n"
            f"model sweep_case_{index}\n"
            f"input q: [{case.b}, {case.hq}, {case.sq}, {case.d}]\n"
            f"input k: [{case.b}, {case.hkv}, {case.skv}, {case.d}]\n"
            f"input v: [{case.b}, {case.hkv}, {case.skv}, {case.dv}]\n"
            f"o = attention(q, k, v, mask = {case.mask}{scale})\n"
            f"output o\n")


def run_stage(stage, command):
    """Runs one command; returns None on success, else a failure report."""
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=TIMEOUT_S[stage])
    except subprocess.TimeoutExpired:
        return (f"  {stage} timed out after {TIMEOUT_S[stage]} s\n"
                f"  $ {shlex.join(command)}")
    except OSError as error:
        return f"  {stage} could not start: {error}\n  $ {shlex.join(command)}"
    if result.returncode == 0:
        return None
    output = (result.stdout + result.stderr).rstrip()
    return (f"  {stage} failed with exit code {result.returncode}\n"
            f"  $ {shlex.join(command)}\n"
            + "".join(f"  | {line}\n" for line in output.splitlines()))


def run_case(index, case, args):
    """Compiles, runs and checks one case; returns None or a report."""
    folder = os.path.join(args.work, f"case-{index:02d}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    model = os.path.join(folder, "case.model")
    with open(model, "w") as file:
        file.write(model_text(index, case))
    exe = os.path.join(folder, "case")
    inputs = os.path.join(folder, "in")
    outputs = os.path.join(folder, "out")
    reference = [args.ref, "--q", os.path.join(inputs, "q.npy"),
                 "--k", os.path.join(inputs, "k.npy"),
                 "--v", os.path.join(inputs, "v.npy"),
                 "--out", os.path.join(outputs, "o.npy"),
                 "--mask", case.mask, "--atol", ATOL]
    if case.scale is not None:
        reference += ["--scale", repr(case.scale)]
    stages = [
        ("compile", [args.attnc, model, "-o", exe]),
        ("run", [exe, "--seed", str(index), "--save-inputs", inputs,
                 "--output", outputs, "--quiet", "--threads", "2"]),
        ("reference", reference),
    ]
    for stage, command in stages:
        report = run_stage(stage, command)
        if report:
            return report
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attnc", required=True, help="the attnc compiler")
    parser.add_argument("--ref", required=True, help="the attn-ref checker")
    parser.add_argument("--work", required=True, help="scratch directory")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random cases (default 0)")
    parser.add_argument("--count", type=int, default=12,
                        help="number of random cases (default 12)")
    args = parser.parse_args()
    if args.count < 0:
        parser.error("--count must not be negative")
    for tool in (args.attnc, args.ref):
        if shutil.which(tool) is None:
            parser.error(f"'{tool}' is not an executable file or on PATH")
    os.makedirs(args.work, exist_ok=True)

    rng = random.Random(args.seed)
    cases = CORNER_CASES + [random_case(rng) for _ in range(args.count)]
    failed = 0
    for index, case in enumerate(cases):
        report = run_case(index, case, args)
        print(f"{'FAIL' if report else 'PASS'}  {describe(case)}", flush=True)
        if report:
            failed += 1
            print(report, end="" if report.endswith("\n") else "\n",
                  flush=True)
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
