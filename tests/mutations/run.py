#!/usr/bin/env python3
"""The mutation check: does the test suite notice a wrong kernel?

Each mutation below is one deliberate bug of the kind a change to the
lowering could introduce. For each, this script copies the source tree into
a scratch folder (once), applies the mutation there, rebuilds the scratch
build incrementally and runs the lit suite, which must fail. A mutation that
passes the suite "survives" and the script exits 1. At the end the tests
that caught a mutation are run once more on the unmutated scratch build,
where they must pass (so that a broken scratch build cannot pass for a
caught mutation).

    tests/mutations/run.py                  # all mutations
    tests/mutations/run.py gqa-head causal  # some of them
    tests/mutations/run.py --list

Options: --work DIR (default build-mutants/), --max-failures N (stop the
suite after N failures; default 3, 0 runs it whole), --tests A,B (only
these lit tests, e.g. e2e/gqa.test). The first run builds
the scratch tree from nothing (about as long as tools/setup.sh's build);
later runs rebuild only what a mutation touches.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# name: (file, text, replacement, what the bug is). `text` must occur
# exactly once in `file`, so that a mutation that no longer applies fails
# loudly instead of testing nothing.
MUTATIONS = {
    "kv-loop-end": (
        "passes/FlashTiling.cpp",
        "Value hullEnd = a.select(anyRow, hull.end, hull.begin);",
        "Value hullEnd = a.select(anyRow, a.sub(hull.end, a.c(1)), "
        "hull.begin);",
        "off by one: the kv loop stops one tile before the last live one"),
    "query-tile-rows": (
        "passes/FlashTiling.cpp",
        "a.sub(a.c(shape.querySeq), qt.q0));",
        "a.sub(a.c(shape.querySeq - 1), qt.q0));",
        "off by one: the last query tile has one row too few"),
    "last-key": (
        "passes/cpu/FlashTileCpu.cpp",
        "arith::SubIOp::create(*b, loc, idx(shape.kvSeq), kv0));",
        "arith::SubIOp::create(*b, loc, idx(shape.kvSeq - 1), kv0));",
        "off by one: P·V of a boundary tile stops before the last key"),
    "visible-end": (
        "passes/FlashTiling.cpp",
        "cmp(arith::CmpIPredicate::slt, keyVec, load(rowEnd)));",
        "cmp(arith::CmpIPredicate::sle, keyVec, load(rowEnd)));",
        "off by one: a boundary tile shows each row one key past its range"),
    "gqa-head": (
        "passes/FlashTiling.cpp",
        "qt.kvHead = arith::DivUIOp::create(b, loc, qt.qHead,\n"
        "                                     a.c(shape.queryHeads / "
        "shape.kvHeads));",
        "qt.kvHead = arith::RemUIOp::create(b, loc, qt.qHead,\n"
        "                                     a.c(shape.kvHeads));",
        "GQA: query head h reads kv head h % Hkv instead of h / (Hq / Hkv)"),
    "no-max-subtraction": (
        "passes/cpu/FlashTileCpu.cpp",
        "Value newMax = maxScores(oldMax, load(tileMax, r));",
        "Value newMax = zeros;",
        "online softmax without the running max: α = 1, P = exp2(S)"),
    "causal-top-left": (
        "dialect/AttnDialect.cpp",
        "limit = a.min(limit, a.max(a.add(pos, a.c(1)), zero));",
        "limit = a.min(limit, a.max(a.add(row, a.c(1)), zero));",
        "causal mask aligned top-left (key <= row) instead of bottom-right"),
    "no-inf-guard": (
        "passes/cpu/FlashTileCpu.cpp",
        "Value safeMax = arith::SelectOp::create(*b, loc, unseen, zeros, "
        "newMax);",
        "Value safeMax = arith::SelectOp::create(*b, loc, unseen, newMax, "
        "newMax);",
        "no -inf guard: a row without visible keys computes exp2(-inf + inf)"),
}


def run(cmd, **kw):
    return subprocess.run(cmd, text=True, **kw)


def copy_tree(dest):
    """The checkout's files (tracked and untracked, not ignored) in dest."""
    files = run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.split("\0")):
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue
        dst = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # Keep mtimes, so that an unchanged file does not rebuild.
        if (not os.path.exists(dst) or
                open(src, "rb").read() != open(dst, "rb").read()):
            shutil.copy2(src, dst)


def configure(src, build):
    if os.path.exists(os.path.join(build, "build.ninja")):
        return
    run(["cmake", "-G", "Ninja", "-S", src, "-B", build,
         "-DCMAKE_BUILD_TYPE=Release",
         "-DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir",
         "-DCMAKE_C_COMPILER=clang-22", "-DCMAKE_CXX_COMPILER=clang++-22",
         "-DLLVM_USE_LINKER=lld", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"],
        check=True, stdout=subprocess.DEVNULL)


def build_ok(build):
    r = run(["cmake", "--build", build], capture_output=True)
    if r.returncode:
        print(r.stdout[-3000:], r.stderr[-3000:], file=sys.stderr)
    return r.returncode == 0


def lit(build, max_failures, tests=None):
    """Runs lit on the scratch build; returns (passed, failing test names)."""
    cmd = ["/usr/lib/llvm-22/bin/lit", "-q", "--no-progress-bar"]
    if max_failures:
        cmd.append(f"--max-failures={max_failures}")
    suite = os.path.join(build, "tests")
    cmd += [os.path.join(suite, t) for t in tests] if tests else [suite]
    r = run(cmd, capture_output=True)
    failed = sorted(set(re.findall(r"^\s*attn :: (\S+)$", r.stdout, re.M)))
    return r.returncode == 0, failed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help="mutations to run (default all)")
    p.add_argument("--work", default=os.path.join(ROOT, "build-mutants"))
    p.add_argument("--max-failures", type=int, default=3)
    p.add_argument("--tests", default="",
                   help="comma-separated lit tests (paths under tests/) to "
                   "run instead of the whole suite")
    p.add_argument("--list", action="store_true")
    args = p.parse_args()
    if args.list:
        for name, m in MUTATIONS.items():
            print(f"{name:20} {m[3]} ({m[0]})")
        return 0
    unknown = [n for n in args.names if n not in MUTATIONS]
    if unknown:
        p.error(f"unknown mutation(s) {', '.join(unknown)}; "
                f"known: {', '.join(MUTATIONS)}")
    names = args.names or list(MUTATIONS)

    src = os.path.join(args.work, "src")
    build = os.path.join(args.work, "build")
    copy_tree(src)
    configure(src, build)
    print(f"mutations: building the scratch tree in {build}", flush=True)
    if not build_ok(build):
        print("mutations: the unmutated scratch tree does not build",
              file=sys.stderr)
        return 2

    survived, catching = [], set()
    for name in names:
        rel, text, replacement, what = MUTATIONS[name]
        path = os.path.join(src, rel)
        original = open(path).read()
        if original.count(text) != 1:
            print(f"{name}: the text to mutate occurs "
                  f"{original.count(text)} times in {rel}; update "
                  "tests/mutations/run.py", file=sys.stderr)
            return 2
        start = time.time()
        try:
            with open(path, "w") as f:
                f.write(original.replace(text, replacement))
            if not build_ok(build):
                print(f"{name}: the mutated tree does not build",
                      file=sys.stderr)
                return 2
            passed, failed = lit(build, args.max_failures,
                                 [t for t in args.tests.split(",") if t])
        finally:
            with open(path, "w") as f:
                f.write(original)
        seconds = time.time() - start
        if passed:
            survived.append(name)
            print(f"{name:20} SURVIVED ({what}) [{seconds:.0f} s]",
                  flush=True)
        else:
            catching.update(failed)
            print(f"{name:20} caught by {', '.join(failed) or '?'} "
                  f"[{seconds:.0f} s]", flush=True)

    # The catching tests must pass on the unmutated tree.
    if not build_ok(build):
        return 2
    if catching:
        passed, failed = lit(build, 0, sorted(catching))
        if not passed:
            print("mutations: these tests fail without a mutation too: "
                  f"{', '.join(failed)}", file=sys.stderr)
            return 2
        print(f"mutations: the {len(catching)} catching tests pass "
              "unmutated", flush=True)
    if survived:
        print(f"mutations: {len(survived)} survived: {', '.join(survived)}",
              file=sys.stderr)
        return 1
    print(f"mutations: all {len(names)} caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
