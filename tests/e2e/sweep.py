"""Randomized end-to-end sweep: compile, run and check attention variants.

    sweep.py --attnc ATTNC --ref ATTN_REF --work DIR [--seed N] [--count N]

Each case is written as a model description, compiled with attnc, run with
two threads on seeded random inputs (saved with --save-inputs), and compared
with the independent double-precision reference at max abs error 1e-4. A fixed
list of corner cases comes first, then --count random ones. Prints one line
per case and `N passed, M failed`; exits 1 if any case failed.
"""
import argparse
import os
import random
import subprocess
import sys

# (batch, query heads, kv heads, Sq, Skv, head dim, value dim, mask, scale)
CORNER_CASES = [
    (1, 1, 1, 1, 1, 32, 32, "none", None),        # a single element
    (1, 2, 2, 7, 7, 32, 32, "causal", None),       # shorter than any tile
    (2, 4, 2, 100, 77, 64, 64, "causal", 0.125),   # GQA, Sq > Skv: empty rows
    (1, 4, 1, 33, 257, 64, 64, "causal", None),    # MQA, decoding-style Sq < Skv
    (1, 8, 2, 257, 100, 128, 128, "none", None),   # GQA cross, D = 128
    (3, 2, 1, 65, 65, 64, 32, "causal", None),     # Dv != D, batch 3
    (1, 1, 1, 129, 1, 32, 32, "causal", None),     # one key: most rows empty
    (2, 3, 3, 64, 128, 32, 48, "none", 0.3),       # Dv = 48 (8-lane vectors)
    (1, 2, 1, 200, 200, 128, 128, "causal", None), # ragged self-attention
]


def random_case(rng):
    hkv = rng.choice([1, 2, 4])
    return (rng.choice([1, 2]), hkv * rng.choice([1, 2, 4]), hkv,
            rng.randint(1, 200), rng.randint(1, 200), rng.choice([32, 64, 128]),
            rng.choice([16, 32, 64, 128]), rng.choice(["none", "causal"]),
            rng.choice([None, round(rng.uniform(0.05, 0.5), 4)]))


def describe(case):
    b, hq, hkv, sq, skv, d, dv, mask, scale = case
    return (f"b={b} hq={hq} hkv={hkv} sq={sq} skv={skv} d={d} dv={dv} "
            f"mask={mask}" + (f" scale={scale}" if scale else ""))


def run_case(index, case, args):
    b, hq, hkv, sq, skv, d, dv, mask, scale = case
    folder = os.path.join(args.work, f"case{index}")
    os.makedirs(folder, exist_ok=True)
    model = os.path.join(folder, "case.model")
    scale_arg = f", scale = {scale}" if scale else ""
    with open(model, "w") as f:
        f.write(f"model sweep_case_{index}\n"
                f"input q: [{b}, {hq}, {sq}, {d}]\n"
                f"input k: [{b}, {hkv}, {skv}, {d}]\n"
                f"input v: [{b}, {hkv}, {skv}, {dv}]\n"
                f"o = attention(q, k, v, mask = {mask}{scale_arg})\n"
                f"output o\n")
    exe = os.path.join(folder, "case")
    inputs, outputs = os.path.join(folder, "in"), os.path.join(folder, "out")
    commands = [
        [args.attnc, model, "-o", exe],
        [exe, "--quiet", "--threads", "2", "--seed", str(index),
         "--save-inputs", inputs, "--output", outputs],
        [args.ref, "--q", f"{inputs}/q.npy", "--k", f"{inputs}/k.npy",
         "--v", f"{inputs}/v.npy", "--out", f"{outputs}/o.npy", "--mask", mask,
         "--atol", "1e-4"] + (["--scale", str(scale)] if scale else []),
    ]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            return False, (f"$ {' '.join(command)}\n{result.stdout}"
                           f"{result.stderr}")
    return True, result.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attnc", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=12)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    cases = CORNER_CASES + [random_case(rng) for _ in range(args.count)]
    failures = []
    for index, case in enumerate(cases):
        ok, detail = run_case(index, case, args)
        print(f"{'PASS' if ok else 'FAIL'}  {describe(case)}  {detail if ok else ''}",
              flush=True)
        if not ok:
            failures.append(detail)
    for detail in failures:
        print(detail)
    print(f"{len(cases) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
