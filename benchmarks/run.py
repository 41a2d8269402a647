#!/usr/bin/env python3
"""Benchmarks attnc-compiled attention against the machine's FMA peak and an
unfused OpenBLAS baseline, all in one run, and writes RESULTS.md + chart.png.

    benchmarks/run.py                 # the full grid + mask rows (about 10 minutes on 2 cores)
    benchmarks/run.py --quick         # S <= 2048 only, prints, writes nothing
    benchmarks/run.py --peak          # only the FMA peak, per ISA this CPU runs
    benchmarks/run.py --masks         # only the structured-mask rows (S = 8192)
    benchmarks/run.py --baseline-attnc /tmp/old/build/bin/attnc [--quick]
                                      # old attnc vs this one on the grid
    benchmarks/run.py --dense         # dense layers (GEMM shapes of real
                                      # layers) and a whole Llama layer
                                      # against OpenBLAS (about 5 minutes)
    benchmarks/run.py --modifiers     # score modifiers and the lse output
                                      # against plain attention (S = 2048,
                                      # about 3 minutes)
    benchmarks/run.py --decode        # decode attention (Sq <= 16) against
                                      # the read bandwidth (stream.cpp) and
                                      # PyTorch SDPA (about 6 minutes)
    benchmarks/run.py --decode-quick  # three decode rows, prints only

Needs a built attnc (tools/setup.sh) and `apt-get install libopenblas-dev`
(plus `python3-matplotlib` for the chart). FLOPs = 4·B·H·S²·D, halved for
causal; every time is the median of 3 alternating rounds of attnc and the
baseline (each round itself a median of 1-2 runs after a warm-up). See
benchmarks/README.md.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "benchmarks")
ROUNDS = 3  # alternating attnc/baseline measurements per table cell
FLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp-simd"]


def sh(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"command failed (exit status {proc.returncode}): "
                 f"{' '.join(cmd)}\n{proc.stderr.strip()}")
    return proc.stdout


def try_sh(cmd, env=None):
    """(stdout, None) on success, else (None, the first line of the error)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode == 0:
        return proc.stdout, None
    lines = [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
    first = next((l for l in lines if "error" in l.lower() or
                  "undefined reference" in l),
                 lines[0] if lines else f"exit status {proc.returncode}")
    return None, first.strip()


def value(text, key):
    match = re.search(rf"{key}=([0-9.e+]+)", text)
    if not match:
        sys.exit(f"no '{key}=' in output:\n{text}")
    return float(match.group(1))


def cpu_isa():
    """(ISA name, vector width in bits) of the best vector unit of this CPU."""
    flags = re.search(r"^flags\s*:(.*)$", open("/proc/cpuinfo").read(), re.M)
    flags = set(flags.group(1).split()) if flags else set()
    if "avx512f" in flags:
        return "AVX-512", 512
    if "avx2" in flags and "fma" in flags:
        return "AVX2+FMA", 256
    return "SSE", 128


def machine():
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    isa, width = cpu_isa()
    try:
        host = sh(["/usr/lib/llvm-22/bin/llc", "--version"])
        cpu_name = re.search(r"Host CPU: (\S+)", host)
    except (OSError, SystemExit):
        cpu_name = None
    return (f"{cpu.group(1) if cpu else platform.processor()} "
            f"(LLVM host CPU {cpu_name.group(1) if cpu_name else '?'}, {isa}, "
            f"{width}-bit vectors), {os.cpu_count()} cores, "
            f"Linux {platform.release()}")


# --- The FMA peak ------------------------------------------------------------

# peak.cpp variants: (name, extra g++ flags, needed ISA width). The native
# build is the denominator of "% of peak"; on an AVX-512 machine the AVX2
# variant is built too, to check that its loop (12 accumulators in 16
# registers) does not spill either.
PEAK_VARIANTS = [("native", [], 128),
                 ("avx2", ["-mavx2", "-mfma", "-mno-avx512f"], 512)]


def check_peak_loop(exe, accumulators):
    """Disassembles `exe` and fails unless its hot loop (the backward branch
    enclosing the most vfmadd*ps) is exactly `accumulators` FMAs with no
    memory operand anywhere in the loop: no spilled accumulator, no FMA that
    reads an operand from memory. Returns a one-line description."""
    try:
        dis = sh(["objdump", "-d", "--no-show-raw-insn", exe])
    except (OSError, SystemExit) as e:
        sys.exit(f"cannot disassemble {exe} to check the peak loop: {e} "
                 "(apt-get install binutils)")
    insns = []
    for line in dis.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(\S.*)$", line)
        if m:
            insns.append((int(m.group(1), 16), m.group(2).split("#")[0].strip()))
    best = None  # (number of FMAs, first address, last address, body)
    for i, (addr, text) in enumerate(insns):
        m = re.match(r"j(?!mp)[a-z]+\s+([0-9a-f]+)\b", text)
        if not m or int(m.group(1), 16) >= addr:
            continue
        target = int(m.group(1), 16)
        j = i
        while j > 0 and insns[j - 1][0] >= target:
            j -= 1
        body = [t for _, t in insns[j:i + 1]]
        fmas = sum(1 for t in body if re.match(r"vfmadd\d{3}ps\b", t))
        if fmas and (best is None or fmas > best[0]):
            best = (fmas, target, addr, body)
    if best is None:
        sys.exit(f"peak check: no loop of vfmadd*ps found in {exe}")
    fmas, first, last, body = best
    memory = [t for t in body if "(" in t and not t.startswith("nop")]
    if memory or fmas != accumulators:
        why = []
        if fmas != accumulators:
            why.append(f"{fmas} FMAs where the binary reports {accumulators} "
                       "accumulators (not fully unrolled?)")
        if memory:
            why.append(f"{len(memory)} memory operand(s) (spilled "
                       "accumulators):\n    " + "\n    ".join(memory[:8]))
        sys.exit(f"peak check failed for {exe}, hot loop {first:#x}-{last:#x}: "
                 + "; ".join(why) + "\nThe peak would read low: fix "
                 "ACCUMULATORS in benchmarks/peak.cpp for this ISA.")
    return (f"hot loop {first:#x}-{last:#x}: {fmas} register-only FMAs, "
            f"{len(body)} instructions, no memory operand")


def build_peak(work, variant, extra):
    exe = os.path.join(work, f"peak-{variant}")
    sh(["g++", *FLAGS, *extra, os.path.join(HERE, "peak.cpp"), "-o", exe,
        "-lpthread"])
    out = sh([exe, "0"])  # 0 threads: prints the configuration only
    isa = re.search(r"isa=(\S+)", out).group(1)
    width = int(value(out, "width"))
    acc = int(value(out, "accumulators"))
    check = check_peak_loop(exe, acc)
    return exe, f"{isa}, {width}-bit, {acc} accumulators; {check}"


class Peaks:
    """The FMA peak per thread count, measured in this run. `percent`
    re-measures the peak once when a rate exceeds it and returns None when
    it still does: no "% of peak" above 100 is ever printed."""

    def __init__(self, exe, threads):
        self.exe = exe
        self.values = {t: self.measure(t) for t in threads}

    def measure(self, t):
        return statistics.median(value(sh([self.exe, str(t)]), "gflops")
                                 for _ in range(3))

    def percent(self, gf, t):
        if t not in self.values:
            self.values[t] = self.measure(t)
        if gf > self.values[t]:
            again = self.measure(t)
            print(f"warning: {gf:.0f} GFLOP/s measured on {t} thread(s) is "
                  f"above the peak {self.values[t]:.0f} GFLOP/s; re-measured "
                  f"the peak: {again:.0f} GFLOP/s", flush=True)
            self.values[t] = max(self.values[t], again)
        return percent_of(gf, self.values[t])

    def text(self):
        return ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s"
                         for t, p in sorted(self.values.items()))


def percent_of(gf, peak):
    return 100 * gf / peak if gf <= peak else None


def pct_text(pct, gf, peak):
    if pct is None:
        return f"peak too low (measured {gf:.0f} > peak {peak:.0f})"
    return f"{pct:.0f} %"


def peak_section(work, threads, measure_all):
    """Builds and checks every peak variant this CPU runs; returns the
    native Peaks. With `measure_all`, also measures the other variants."""
    _, width = cpu_isa()
    native = None
    for variant, extra, needs in PEAK_VARIANTS:
        if width < needs:
            continue
        exe, desc = build_peak(work, variant, extra)
        print(f"peak.cpp ({variant}): {desc}", flush=True)
        if variant == "native":
            native = Peaks(exe, threads)
            print(f"  peak FMA: {native.text()}", flush=True)
        elif measure_all:
            print(f"  peak FMA: {Peaks(exe, threads).text()}", flush=True)
    return native


# --- Model files ---------------------------------------------------------------

def write_model(path, s, d, heads, attention_args, extra_inputs=""):
    with open(path, "w") as f:
        f.write(f"model bench\n" + "".join(
            f"input {n}: [1, {heads}, {s}, {d}]\n" for n in "qkv") +
            extra_inputs +
            f"o = attention(q, k, v, {attention_args})\noutput o\n")


def write_npy(path, descr, shape, data):
    """Writes a C-order .npy (format 1.0) holding `data`, raw little-endian
    bytes of dtype `descr` ('<i4' or '<f4')."""
    dims = ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "")
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
                header.encode("latin1") + data)


def grid_cells(quick):
    sizes = [512, 1024, 2048] if quick else [512, 1024, 2048, 4096, 16384]
    for s in sizes:
        for d in (64, 128):
            for causal in (False, True):
                yield s, d, causal


def grid_flops(s, d, causal, heads):
    return 4 * heads * s * s * d / (2 if causal else 1)


# --- The standard grid: attnc vs unfused OpenBLAS ---------------------------

# OpenBLAS core types too weak for the CPU's ISA, and what to force instead.
WEAK_CORES = {"AVX-512": ({"Prescott", "Nehalem", "Core2", "Penryn",
                           "Dunnington", "Atom", "Sandybridge", "Haswell",
                           "Zen"}, "SkylakeX"),
              "AVX2+FMA": ({"Prescott", "Nehalem", "Core2", "Penryn",
                            "Dunnington", "Atom", "Sandybridge"}, "Haswell")}


def openblas_env(probe):
    """The environment of the baseline, and a line saying what it uses.
    OpenBLAS must use the CPU's real kernels (TOOLCHAIN.md §8): the
    environment's OPENBLAS_CORETYPE=Haswell is removed, and when OpenBLAS's
    own detection picks kernels below the CPU's ISA (0.3.21 does not know
    Emerald Rapids and picks Prescott), the matching core type is forced."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    env["OPENBLAS_NUM_THREADS"] = "1"
    was = os.environ.get("OPENBLAS_CORETYPE")
    core = re.search(r"core=(\S+)", sh(probe, env=env))
    core = core.group(1) if core else "?"
    isa, _ = cpu_isa()
    weak, better = WEAK_CORES.get(isa, (set(), None))
    note = (f"OpenBLAS kernels '{core}' (OPENBLAS_CORETYPE "
            f"{'was ' + was + ', unset' if was else 'unset'})")
    if core in weak:
        env["OPENBLAS_CORETYPE"] = better
        forced = re.search(r"core=(\S+)", sh(probe, env=env))
        note = (f"OpenBLAS detected '{core}' on this {isa} CPU; forced "
                f"OPENBLAS_CORETYPE={better} -> kernels "
                f"'{forced.group(1) if forced else '?'}'"
                + (f" (the environment had {was})" if was else ""))
    return env, note


def grid(args, work, peaks, heads, threads):
    unfused_exe = os.path.join(work, "unfused")
    if not os.path.exists("/usr/include/x86_64-linux-gnu/cblas.h") and \
            not os.path.exists("/usr/include/cblas.h"):
        sys.exit("the unfused baseline needs OpenBLAS: "
                 "apt-get install libopenblas-dev")
    sh(["g++", *FLAGS, os.path.join(HERE, "unfused.cpp"), "-o", unfused_exe,
        "-lopenblas", "-lmvec", "-lpthread"])
    env, note = openblas_env([unfused_exe, "256", "64", "0", "1", "1", "1"])
    print(f"unfused baseline: {note}", flush=True)
    rows = []
    print("| S | D | causal | threads | attnc ms | attnc GFLOP/s | % of peak "
          "| unfused ms | unfused GFLOP/s | speed-up |", flush=True)
    for s, d, causal in grid_cells(args.quick):
        flops = grid_flops(s, d, causal, heads)
        reps = 2 if flops < 2e10 else 1
        model = os.path.join(work, f"m{s}_{d}_{int(causal)}.model")
        exe = model[:-6]
        write_model(model, s, d, heads,
                    f"mask = {'causal' if causal else 'none'}")
        sh([args.attnc, model, "-o", exe])
        for t in threads:
            # Alternate attnc and the baseline for ROUNDS rounds so that a
            # burst of noise on the VM hits both columns.
            ours, theirs = [], []
            for _ in range(ROUNDS):
                ours.append(value(sh([exe, "--threads", str(t),
                                      "--bench", str(reps)]), "ms"))
                theirs.append(value(sh([unfused_exe, str(s), str(d),
                                        str(int(causal)), str(t), str(heads),
                                        str(reps)], env=env), "ms"))
            ms = statistics.median(ours)
            base = statistics.median(theirs)
            gf, base_gf = flops / ms * 1e-6, flops / base * 1e-6
            pct = peaks.percent(gf, t)
            rows.append((s, d, causal, t, ms, gf, base, base_gf, base / ms))
            print(f"| {s} | {d} | {'yes' if causal else 'no'} | {t} "
                  f"| {ms:.2f} | {gf:.0f} | {pct_text(pct, gf, peaks.values[t])} "
                  f"| {base:.2f} | {base_gf:.0f} | {base / ms:.2f}× |",
                  flush=True)
    return rows, note


def long_context(args, work):
    """Long context: O(S·D) memory, reported by the generated binary."""
    long_model = os.path.join(work, "long.model")
    write_model(long_model, 32768, 128, 1, "mask = causal")
    sh([args.attnc, long_model, "-o", long_model[:-6]])
    out = sh([long_model[:-6], "--threads", "2"])
    long_ms, rss, tensors = (value(out, k) for k in
                             ("ms", "peak_rss_bytes", "tensor_bytes"))
    line = (f"S = 32768, H = 1, D = 128, causal, 2 threads: {long_ms:.0f} ms, "
            f"peak RSS {rss / 2**20:.1f} MiB for {tensors / 2**20:.1f} MiB "
            f"of tensors (+{(rss - tensors) / 2**20:.1f} MiB; the S×S "
            f"scores alone would be {32768**2 * 4 / 2**30:.0f} GiB)")
    print(line, flush=True)
    return line


# --- Old attnc vs new attnc ---------------------------------------------------

def old_vs_new(args, work, heads, threads):
    old = os.path.abspath(args.baseline_attnc)
    if not os.access(old, os.X_OK):
        sys.exit(f"--baseline-attnc: {old} is not an executable")
    print(f"old attnc: {old}\nnew attnc: {os.path.abspath(args.attnc)}",
          flush=True)
    lines = []

    def emit(line):
        lines.append(line)
        print(line, flush=True)

    emit("| S | D | causal | threads | old ms | new ms | new/old |")
    emit("|---:|---:|:---:|---:|---:|---:|---:|")
    ratios = []
    for s, d, causal in grid_cells(args.quick):
        flops = grid_flops(s, d, causal, heads)
        reps = 2 if flops < 2e10 else 1
        model = os.path.join(work, f"on{s}_{d}_{int(causal)}.model")
        write_model(model, s, d, heads,
                    f"mask = {'causal' if causal else 'none'}")
        exes = {}
        for who, compiler in (("old", old), ("new", args.attnc)):
            exes[who] = f"{model[:-6]}-{who}"
            _, err = try_sh([compiler, model, "-o", exes[who]])
            if err:
                exes[who] = None
                print(f"  {who} attnc cannot compile S={s} D={d}: {err}")
        for t in threads:
            if None in exes.values():
                emit(f"| {s} | {d} | {'yes' if causal else 'no'} | {t} "
                     f"| {'-' if exes['old'] is None else '?'} "
                     f"| {'-' if exes['new'] is None else '?'} | - |")
                continue
            o, n = alternate_swapped(
                [[exes[who], "--threads", str(t), "--bench", str(reps)]
                 for who in ("old", "new")], ROUNDS)
            ratios.append(n / o)
            emit(f"| {s} | {d} | {'yes' if causal else 'no'} | {t} "
                 f"| {o:.2f} | {n:.2f} | {n / o:.3f} |")
    if ratios:
        geo = math.exp(sum(map(math.log, ratios)) / len(ratios))
        emit(f"\nnew/old geometric mean over {len(ratios)} cells: {geo:.3f} "
             f"(< 1: the new attnc is faster; range {min(ratios):.3f}–"
             f"{max(ratios):.3f})")
    return lines


# --- Structured masks -----------------------------------------------------------

def visible_pairs(s, window=None, segments=1):
    """Visible (query, key) pairs of a causal S×S mask with an optional
    window = [window, 0] and `segments` equal segments (dialect/README.md)."""
    length = s // segments
    per = sum(min(i + 1, window + 1) if window is not None else i + 1
              for i in range(length))
    return segments * per


def mask_rows(s, standin):
    """(name, attention keywords, extra model inputs, {input: (descr, shape,
    data)}, visible pairs, target ratio to causal or None)."""
    ids = [i * 4 // s for i in range(s)]  # 4 equal segments 0,0,...,3
    rows = [
        ("causal", "mask = causal", "", {}, visible_pairs(s), None),
        ("causal, window = [256, 0]", "mask = causal, window = [256, 0]", "",
         {}, visible_pairs(s, window=256), 1 / 8),
        ("causal, 4 segments", "mask = causal, segments = seg",
         f"input seg: i32[1, {s}]\n",
         {"seg": ("<i4", (1, s), struct.pack(f"<{s}i", *ids))},
         visible_pairs(s, segments=4), 0.3),
    ]
    if standin:
        # Rows in the syntax attnc accepts today, to test this code path
        # (compile errors, --input .npy files, ratios, targets).
        rows += [
            ("stand-in: no mask (ratio ~2)", "mask = none", "", {}, s * s, 2.5),
            ("stand-in: causal, q from .npy", "mask = causal", "",
             {"q": ("<f4", (1, 8, s, 128),
                    struct.pack("<f", 0.5) * (8 * s * 128))},
             visible_pairs(s), 1.2),
            ("stand-in: unknown keyword", "mask = causal, bogus = 1", "", {},
             visible_pairs(s), None),
        ]
    return rows


def masks(args, work, peaks):
    s, heads, d, t = args.masks_seq, 8, 128, 2
    print(f"structured masks: S = {s}, H = {heads}, D = {d}, {t} threads, "
          f"median of {ROUNDS} alternating rounds", flush=True)
    runs = []  # (name, exe or None, cmd args, pairs, target, error)
    for k, (name, kw, extra, inputs, pairs, target) in enumerate(
            mask_rows(s, args.masks_standin)):
        model = os.path.join(work, f"mask{k}.model")
        exe = model[:-6]
        write_model(model, s, d, heads, kw, extra)
        _, err = try_sh([args.attnc, model, "-o", exe])
        if err and not err.startswith(model + ":"):
            # Not a diagnostic on the model (e.g. a link error): attnc
            # itself is broken, which is not "unsupported".
            err = f"compile failed: {err}"
        cmd = [exe, "--threads", str(t)]
        for n, (descr, shape, data) in inputs.items():
            path = os.path.join(work, f"mask{k}-{n}.npy")
            write_npy(path, descr, shape, data)
            cmd += ["--input", f"{n}={path}"]
        flops = 4 * heads * d * pairs
        cmd += ["--bench", "1" if flops > 2e10 else "3"]
        runs.append([name, None if err else cmd, pairs, target, err, []])
    for _ in range(ROUNDS):
        for run in runs:
            if run[1] is None:
                continue
            out, err = try_sh(run[1])
            if err:
                run[1], run[4] = None, f"run failed: {err}"
                continue
            run[5].append((value(out, "ms"), value(out, "gflops")))
    causal_ms = (statistics.median(m for m, _ in runs[0][5])
                 if runs[0][5] else None)
    causal_pairs = runs[0][2]
    lines = ["| mask | ms | GFLOP/s (useful) | % of peak | time / causal "
             "| visible pairs / causal | target |",
             "|:---|---:|---:|---:|---:|---:|:---|"]
    print(lines[0], flush=True)
    for name, cmd, pairs, target, err, samples in runs:
        share = pairs / causal_pairs
        tgt = f"≤ {target:.3g}" if target else ""
        if not samples:
            why = ("failed" if err.startswith(("run failed", "compile failed"))
                   else "unsupported")
            line = (f"| {name} | {why} | | | | {share:.3f} | {tgt} |")
            print(line + f"  ({err})", flush=True)
            lines.append(line)
            continue
        ms = statistics.median(m for m, _ in samples)
        harness = statistics.median(g for _, g in samples)
        # The rate of useful work: visible pairs. The harness's count is the
        # compile-time one, which cannot see run-time segments.
        gf = 4 * heads * d * pairs / ms * 1e-6
        if abs(harness - gf) > 0.02 * gf:
            print(f"  note: the harness counts {harness:.0f} GFLOP/s for "
                  f"{name} (compile-time FLOPs: one segment); visible pairs "
                  f"give {gf:.0f}", flush=True)
        pct = pct_text(peaks.percent(gf, t), gf, peaks.values[t])
        if causal_ms:
            ratio = ms / causal_ms
            verdict = ((" met" if ratio <= target else " MISSED")
                       if target else "")
            rtext = f"{ratio:.3f}"
        else:
            rtext, verdict = "-", ""
        line = (f"| {name} | {ms:.2f} | {gf:.0f} | {pct} | {rtext} "
                f"| {share:.3f} | {tgt}{verdict} |")
        print(line, flush=True)
        lines.append(line)
    return lines


# --- Score modifiers ----------------------------------------------------------------

MODIFIERS_BEGIN, MODIFIERS_END = "<!-- modifiers begin -->", "<!-- modifiers end -->"
MODIFIER_SEQ = 2048
MODIFIER_ROUNDS = 12  # rounds over all rows (each run is ~0.3 s)


def modifier_rows(s, heads):
    """(name, attention keywords, extra model inputs, target speed ratio to
    plain attention or None, result names, (query type, key/value type))."""
    bias = f"input b: [1, {heads}, {s}, {s}]\n"
    f32 = ("", "")
    return [
        ("plain", "mask = none", "", None, "o", f32),
        # The same model again: how far apart equal work measures (noise).
        ("plain again (control)", "mask = none", "", None, "o", f32),
        ("softcap = 50", "softcap = 50", "", 0.85, "o", f32),
        ("alibi = true", "alibi = true", "", 0.85, "o", f32),
        ("similarity = cosine, temperature = 10",
         "similarity = cosine, temperature = 10", "", 0.85, "o", f32),
        (f"bias = b [1, {heads}, S, S]", "bias = b", bias, 0.75, "o", f32),
        ("plain, also lse", "mask = none", "", 0.97, "o, lse", f32),
        ("plain, f16 K/V", "mask = none", "", 1.0, "o", ("", "f16")),
        ("plain, f16 Q/K/V (f16 output)", "mask = none", "", 1.0, "o",
         ("f16", "f16")),
        ("plain, bf16 K/V", "mask = none", "", 1.0, "o", ("", "bf16")),
    ]


def modifiers(args, work, peaks):
    """Each modifier row against plain attention at S = 2048, D = 128, 2
    threads, rounds alternating over every row; returns the markdown lines
    of the section."""
    s, heads, d, t = MODIFIER_SEQ, 8, 128, 2
    print(f"score modifiers: S = {s}, H = {heads}, D = {d}, {t} threads, "
          f"median of {MODIFIER_ROUNDS} rounds over all rows", flush=True)
    runs = []  # [name, cmd, target, samples]
    for k, (name, kw, extra, target, results, (qtype, kvtype)) in enumerate(
            modifier_rows(s, heads)):
        model = os.path.join(work, f"mod{k}.model")
        with open(model, "w") as f:
            f.write("model bench\n" + "".join(
                f"input {n}: {qtype if n == 'q' else kvtype}"
                f"[1, {heads}, {s}, {d}]\n" for n in "qkv") +
                extra + f"{results} = attention(q, k, v, {kw})\n"
                f"output {results}\n")
        sh([args.attnc, model, "-o", model[:-6]])
        runs.append([name, [model[:-6], "--threads", str(t), "--bench", "5"],
                     target, []])
    # Round r starts at row r (mod the row count), so that no row always
    # runs first, right after the previous round's last one.
    for r in range(MODIFIER_ROUNDS):
        for run in runs[r % len(runs):] + runs[:r % len(runs)]:
            run[3].append(value(sh(run[1]), "ms"))
    plain_ms = statistics.median(runs[0][3])
    # The peak again after the rounds: a busy neighbour during the first
    # measurement must not inflate "% of peak".
    peaks.values[t] = max(peaks.values[t], peaks.measure(t))
    flops = 4 * heads * s * s * d
    lines = ["| scores | ms | GFLOP/s | % of peak | speed / plain | target |",
             "|:---|---:|---:|---:|---:|:---|"]
    print(lines[0], flush=True)
    for name, _, target, samples in runs:
        ms = statistics.median(samples)
        gf = flops / ms * 1e-6
        ratio = plain_ms / ms
        tgt = (f"≥ {target:.2f}{' met' if ratio >= target else ' MISSED'}"
               if target else "")
        line = (f"| {name} | {ms:.1f} | {gf:.0f} | "
                f"{pct_text(peaks.percent(gf, t), gf, peaks.values[t])} | "
                f"{ratio:.3f} | {tgt} |")
        print(line, flush=True)
        lines.append(line)
    return [MODIFIERS_BEGIN, "## Score modifiers and the lse output", "",
            f"Measured {datetime.date.today()} with `benchmarks/run.py "
            f"--modifiers` on {machine()}. S = {s}, H = {heads}, D = {d}, "
            f"no mask, {t} threads; peak (same run) "
            f"{peaks.values[t]:.0f} GFLOP/s. GFLOP/s count the two matmuls "
            "only (4·H·S²·D), so rows compare as speeds. Each time is the "
            f"median of {MODIFIER_ROUNDS} rounds, every round running each row "
            "once in a rotating order (a run: the median of 5 after a "
            "warm-up); speed / plain is the ratio of the medians. "
            "The control row is the plain model measured again: its "
            "distance from 1 is this run's noise.", "", *lines,
            MODIFIERS_END]


# --- The tuner against the heuristic -------------------------------------------------

TUNER_BEGIN, TUNER_END = "<!-- tuner begin -->", "<!-- tuner end -->"
TUNER_ROUNDS = 5
TUNER_BUDGET_S = 15


def tuner_shapes(quick):
    """(S, D, causal) of the CPU-speed grid, and the decode target shape."""
    seqs = [512, 2048] if quick else [512, 1024, 2048, 4096]
    return [(s, d, c) for s in seqs for d in (64, 128) for c in (False, True)]


def tuner(args, work, quick):
    """Per grid shape: attnc --tune (TUNER_BUDGET_S seconds), then the
    heuristic's program and the tuned one (--tuning, read back) in
    alternating rounds; returns the markdown lines of the section."""
    t, heads = 2, 8
    shapes = [(f"S = {s}, D = {d}{', causal' if c else ''}",
               f"[1, {heads}, {s}, {d}]", f"[1, {heads}, {s}, {d}]",
               "mask = causal" if c else "mask = none")
              for s, d, c in tuner_shapes(quick)]
    shapes.append(("decode: Hq = 32, Hkv = 8, Sq = 1, Skv = 16384, D = 128",
                   "[1, 32, 1, 128]", "[1, 8, 16384, 128]", "mask = none"))
    print(f"tuner: {len(shapes)} shapes, {TUNER_BUDGET_S} s of tuning each, "
          f"{t} threads, {TUNER_ROUNDS} alternating rounds", flush=True)
    lines = ["| shape | heuristic ms | tuned ms | speed heuristic / tuned | "
             "≥ 0.95 | tuned schedule (differences) | read back |",
             "|:---|---:|---:|---:|:---|:---|:---|"]
    print(lines[0], flush=True)
    for k, (name, qshape, kvshape, mask) in enumerate(shapes):
        model = os.path.join(work, f"tune{k}.model")
        with open(model, "w") as f:
            f.write(f"model tune{k}\ninput q: {qshape}\ninput k: {kvshape}\n"
                    f"input v: {kvshape}\no = attention(q, k, v, {mask})\n"
                    "output o\n")
        table = os.path.join(work, f"tune{k}.json")
        heuristic, tuned = model[:-6] + "-h", model[:-6] + "-t"
        base = reported_schedule(attnc_report(args, model, "-o", heuristic))
        sh([args.attnc, model, "--tune", table, "--tune-budget",
            str(TUNER_BUDGET_S), "--tune-threads", str(t), "-o", tuned])
        entry = json.load(open(table))["entries"][0]
        schedule = set(entry["schedule"].split(","))
        # Read back: a compile with --tuning reports the file's schedule.
        report = attnc_report(args, model, "--tuning", table, "-o", tuned)
        back = ("yes" if "schedule from: tuning file" in report and
                reported_schedule(report) == schedule else "NO")
        diff = ", ".join(sorted(schedule - base))
        if diff:
            h, tu = alternate_swapped(
                [[exe, "--threads", str(t), "--bench", "5"]
                 for exe in (heuristic, tuned)], TUNER_ROUNDS)
            ratio = f"{tu / h:.3f}"
            met = "met" if tu / h >= 0.95 else "MISSED"
        else:
            # The tuner kept the heuristic's schedule: one program, so the
            # heuristic is the best found (timing it twice measures noise).
            h = tu = alternate_swapped(
                [[heuristic, "--threads", str(t), "--bench", "5"]],
                TUNER_ROUNDS)[0]
            ratio, met, diff = "1 (same)", "met", "same as heuristic"
        line = (f"| {name} | {h:.2f} | {tu:.2f} | {ratio} | {met} | "
                f"{diff} | {back} |")
        print(line, flush=True)
        lines.append(line)
    return [TUNER_BEGIN, "## The tuner against the heuristic", "",
            f"Measured {datetime.date.today()} with `benchmarks/run.py "
            f"--tuner` on {machine()}, {t} threads. Per shape (B = 1, H = 8, "
            f"f32, and the decode target): `attnc --tune` with "
            f"{TUNER_BUDGET_S} s of budget (coordinate descent from the "
            "heuristic's schedule, the best confirmed against it), then the "
            "heuristic's program and the tuned one (compiled with "
            f"`--tuning`) in {TUNER_ROUNDS} alternating rounds of 5 runs; "
            "the speed ratio is tuned ms / heuristic ms of the medians (≥ "
            "0.95: the heuristic is within 5 % of the best schedule found; "
            "where the tuner kept the heuristic's schedule there is one "
            "program, timed once, and the ratio is 1 by definition). \"read "
            "back\": a compile with `--tuning` reports every field of the "
            "file's schedule and \"schedule from: tuning file\".", "",
            *lines, TUNER_END]


def attnc_report(args, model, *flags):
    """attnc's --report remarks (stderr) for `model` compiled with `flags`."""
    proc = subprocess.run([args.attnc, model, "--report", *flags],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"attnc failed on {model}:\n{proc.stderr.strip()}")
    return proc.stderr


def reported_schedule(report):
    """The first schedule of a --report, as a set of override fields
    (`tile_q=48`, ...), the fields it omits at their defaults."""
    inner = report[report.index("#attn.schedule<") + 15:]
    inner = inner[:inner.index(">")]
    fields = {"heads_per_tile": "1", "kv_splits": "1", "prefetch": "0",
              "qk_dot": "0"}
    fields.update(kv.split(" = ") for kv in inner.split(", "))
    return {f"{k}={v}" for k, v in fields.items()}


# --- Dense layers ------------------------------------------------------------------

DENSE_BEGIN, DENSE_END = "<!-- dense begin -->", "<!-- dense end -->"
# The Llama-style layer of the issue: hidden 2048, 16 query / 4 KV heads of
# 128, intermediate 5632, 512 tokens.
LAYER = {"model_type": "llama", "hidden_size": 2048, "intermediate_size": 5632,
         "num_hidden_layers": 1, "num_attention_heads": 16,
         "num_key_value_heads": 4, "head_dim": 128, "rms_norm_eps": 1e-5,
         "vocab_size": 32000, "rope_theta": 10000.0}
LAYER_SEQ = 512


def alternate_swapped(cmds, rounds):
    """Medians (ms) of `rounds` rounds running each command once, the order
    reversed every other round so that neither always runs first."""
    times = [[] for _ in cmds]
    for r in range(rounds):
        order = list(enumerate(cmds))
        for i, cmd in (order if r % 2 == 0 else order[::-1]):
            times[i].append(value(sh(cmd), "ms"))
    return [statistics.median(t) for t in times]


def alternate(ours_cmd, theirs_cmd, env):
    """Medians of ROUNDS alternating runs of attnc and the baseline (ms)."""
    ours, theirs = [], []
    for _ in range(ROUNDS):
        ours.append(value(sh(ours_cmd), "ms"))
        theirs.append(value(sh(theirs_cmd, env=env), "ms"))
    return statistics.median(ours), statistics.median(theirs)


def dense(args, work, peaks):
    """GEMM shapes of real layers and a whole Llama layer, attnc against
    OpenBLAS, in one run; returns the markdown lines of the section."""
    exe = os.path.join(work, "dense")
    sh(["g++", *FLAGS, os.path.join(HERE, "dense.cpp"), "-o", exe,
        "-lopenblas", "-lmvec", "-lpthread"])
    env, note = openblas_env([exe, "sgemm", "64", "64", "64", "1", "1"])
    print(f"OpenBLAS: {note}", flush=True)
    lines = ["| M | N | K | threads | attnc ms | attnc GFLOP/s | % of peak | "
             "OpenBLAS ms | OpenBLAS GFLOP/s | attnc / OpenBLAS |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print(lines[0], flush=True)
    ratios = []
    for m in (512, 2048):
        for n, k in ((2048, 2048), (5632, 2048), (2048, 5632)):
            model = os.path.join(work, f"gemm_{m}_{n}_{k}.model")
            with open(model, "w") as f:
                f.write(f"model gemm\ninput x: [1, {m}, {k}]\n"
                        f"weight w: [{n}, {k}]\ny = linear(x, w)\noutput y\n")
            sh([args.attnc, model, "-o", model[:-6]])
            flops = 2 * m * n * k
            reps = "3" if flops < 3e10 else "2"
            for t in (1, 2):
                env["OPENBLAS_NUM_THREADS"] = str(t)
                ms, base = alternate(
                    [model[:-6], "--threads", str(t), "--bench", reps],
                    [exe, "sgemm", str(m), str(n), str(k), str(t), reps], env)
                gf, base_gf = flops / ms * 1e-6, flops / base * 1e-6
                ratios.append(base / ms)
                line = (f"| {m} | {n} | {k} | {t} | {ms:.1f} | {gf:.0f} | "
                        f"{pct_text(peaks.percent(gf, t), gf, peaks.values[t])} "
                        f"| {base:.1f} | {base_gf:.0f} | {base / ms:.2f}× |")
                print(line, flush=True)
                lines.append(line)
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))

    config = os.path.join(work, "layer.json")
    with open(config, "w") as f:
        f.write(str(LAYER).replace("'", '"'))
    layer_exe = os.path.join(work, "layer")
    sh([args.attnc, config, "--seq", str(LAYER_SEQ), "-o", layer_exe])
    flops = float(re.search(r"([0-9.]+) GFLOP/run",
                            sh([layer_exe, "--threads", "1"])).group(1)) * 1e9
    layer_lines = ["| threads | attnc ms | tokens/s | GFLOP/s | % of peak | "
                   "unfused OpenBLAS ms | tokens/s | speed-up |",
                   "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in (1, 2):
        env["OPENBLAS_NUM_THREADS"] = str(t)
        ms, base = alternate(
            [layer_exe, "--threads", str(t), "--bench", "3"],
            [exe, "layer", str(LAYER_SEQ), "2048", "16", "4", "128", "5632",
             str(t), "3"], env)
        gf = flops / ms * 1e-6
        line = (f"| {t} | {ms:.0f} | {LAYER_SEQ / ms * 1e3:.0f} | {gf:.0f} | "
                f"{pct_text(peaks.percent(gf, t), gf, peaks.values[t])} | "
                f"{base:.0f} | {LAYER_SEQ / base * 1e3:.0f} | "
                f"{base / ms:.2f}× |")
        print(line, flush=True)
        layer_lines.append(line)
    return [DENSE_BEGIN, "## Dense layers and a whole Llama layer", "",
            f"Measured {datetime.date.today()} with `benchmarks/run.py "
            f"--dense` on {machine()}. Peak (same run): "
            + ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s"
                        for t, p in sorted(peaks.values.items()))
            + f". {note}. attnc's `linear` (`x·Wᵀ` with a model weight W "
            "`[N, K]` as `nn.Linear`, packed into panels at the first run "
            "and kept; the timed runs reuse it) against one `cblas_sgemm` "
            "(`benchmarks/dense.cpp`, which packs inside every call) on the "
            "same thread count; each time the median of 3 alternating "
            "rounds.", "", *lines, "",
            f"Geometric mean of attnc / OpenBLAS speed: {geo:.2f}×.", "",
            f"A whole Llama-style layer (hidden 2048, 16 query / 4 KV heads "
            f"of 128, intermediate 5632, S = {LAYER_SEQ}, batch 1, "
            f"{flops * 1e-9:.1f} useful GFLOP), compiled from a "
            "`config.json` by `attnc`, against the same layer written "
            "unfused on OpenBLAS (`dense.cpp layer`: sgemm projections, "
            "scores and P·V per head, separate norm, RoPE, softmax and "
            "SwiGLU loops):", "", *layer_lines, DENSE_END]


# --- Decode: memory-bound attention against the read bandwidth ------------------------

DECODE_BEGIN, DECODE_END = "<!-- decode begin -->", "<!-- decode end -->"
DECODE_HQ, DECODE_D, DECODE_THREADS = 32, 128, 2
# The targets: % of the measured read bandwidth (2 threads), by
# (Sq, Skv, Hkv, K/V type).
DECODE_TARGETS = {(1, 16384, 8, "f32"): 60, (1, 4096, 8, "f32"): 50}
ELEMENT_BYTES = {"f32": 4, "f16": 2}


def llc_text():
    """The last-level cache, e.g. "L3, 260 MiB", from sysfs."""
    best = None
    base = "/sys/devices/system/cpu/cpu0/cache"
    for index in (os.listdir(base) if os.path.isdir(base) else []):
        try:
            level = int(open(os.path.join(base, index, "level")).read())
            size = open(os.path.join(base, index, "size")).read().strip()
        except (OSError, ValueError):
            continue
        if best is None or level > best[0]:
            best = (level, size)
    if best is None:
        return "size unknown"
    level, size = best
    m = re.fullmatch(r"(\d+)K", size)
    if m and int(m.group(1)) % 1024 == 0:
        size = f"{int(m.group(1)) // 1024} MiB"
    return f"L{level}, {size}"


def decode_shapes(quick):
    """(Sq, Skv, Hkv, K/V type) of the decode rows; quick: the two target
    rows and one f16 row."""
    if quick:
        return [(1, 16384, 8, "f32"), (1, 4096, 8, "f32"), (1, 4096, 8, "f16")]
    return [(sq, skv, hkv, kv) for sq in (1, 4, 16) for skv in (4096, 16384)
            for hkv in (8, 32) for kv in ("f32", "f16")]


def kv_bytes(skv, hkv, kv):
    """Unique K and V bytes one run reads (B = 1, D = Dv)."""
    return hkv * skv * (DECODE_D + DECODE_D) * ELEMENT_BYTES[kv]


class Stream:
    """stream.cpp, built here: read bandwidth in GB/s (1e9 bytes)."""

    def __init__(self, work):
        self.exe = os.path.join(work, "stream")
        sh(["g++", *FLAGS, os.path.join(HERE, "stream.cpp"), "-o", self.exe,
            "-lpthread"])
        out = sh([self.exe, "0"])
        isa = re.search(r"isa=(\S+)", out).group(1)
        self.desc = (f"{isa}, "
                     f"{int(value(out, 'width'))}-bit loads, "
                     f"{int(value(out, 'accumulators'))} accumulators")

    def gbps(self, threads, mib=1024, reps=11):
        return value(sh([self.exe, str(threads), str(mib), str(reps)]), "gbps")


def torch_python(explicit):
    """(the Python executable that imports torch, torch version), or (None,
    None): the given one, else this Python, python3 on PATH, build/pyref."""
    candidates = ([explicit] if explicit else
                  [sys.executable, shutil.which("python3"),
                   os.path.join(ROOT, "build/pyref/bin/python3")])
    for python in candidates:
        if not python or not os.access(python, os.X_OK):
            continue
        out, _ = try_sh([python, "-c", "import sys, torch; "
                         "print(sys.executable, torch.__version__)"])
        if out and len(out.split()) == 2:
            return tuple(out.split())
    return None, None


def decode_flops(sq, skv):
    """FLOPs of one decode run: 4·Hq·Sq·Skv·D (Q·Kᵀ and P·V)."""
    return 4 * DECODE_HQ * sq * skv * DECODE_D


def decode_line(row, bw, peak, at_size):
    """The markdown table line of one decode row at read bandwidth `bw`
    (GB/s) and FMA peak `peak` (GFLOP/s)."""
    sq, skv, hkv, kv = row["shape"]
    nbytes, ms, base = row["bytes"], row["ms"], row["base"]
    target = DECODE_TARGETS.get(row["shape"])
    # The most "% of read BW" the FMA peak allows: FLOP per K/V byte grows
    # with the queries per K/V head (Sq·Hq/Hkv) and doubles for f16.
    ceiling = 100 * peak / (decode_flops(sq, skv) / nbytes) / bw
    cells = [str(sq), str(skv), str(hkv), kv, f"{nbytes / 2**20:.0f}",
             "memory" if ceiling >= 100 else f"compute, ≤ {ceiling:.0f} %"]
    if ms is not None:
        gbps = nbytes / ms * 1e-6
        pct = 100 * gbps / bw
        cells += [f"{ms:.2f}", f"{gbps:.1f}", f"{pct:.0f} %",
                  (f"≥ {target} % {'met' if pct >= target else 'MISSED'}"
                   if target else "")]
    else:
        cells += ["failed", "", "", f"≥ {target} %" if target else ""]
    cells.append(f"{at_size[nbytes]:.1f}")
    if base is not None:
        cells += [f"{base:.2f}", f"{nbytes / base * 1e-6:.1f}",
                  f"{base / ms:.2f}×" if ms is not None else ""]
    else:
        cells += [row["why"], "", ""]
    return "| " + " | ".join(cells) + " |"


def decode(args, work, quick, peaks):
    """The decode rows: attnc against the read bandwidth measured by
    stream.cpp and PyTorch's SDPA, in one run; returns the markdown lines
    of the section."""
    t, hq, d = DECODE_THREADS, DECODE_HQ, DECODE_D
    rounds = 2 if quick else ROUNDS
    stream = Stream(work)
    print(f"stream.cpp: {stream.desc}", flush=True)
    bw = {n: stream.gbps(n) for n in (1, t)}
    print("  read bandwidth (1 GiB): " + ", ".join(
        f"{n} thread(s) {g:.1f} GB/s" for n, g in sorted(bw.items())),
        flush=True)
    shapes = decode_shapes(quick)
    # The same bytes as each row's K/V, read over and over like the timed
    # runs do: how much a cache-resident K/V could read.
    sizes = sorted({kv_bytes(skv, hkv, kv) for _, skv, hkv, kv in shapes})
    at_size = {b: stream.gbps(t, b >> 20, 21) for b in sizes}
    print(f"  read bandwidth at the K/V sizes, {t} threads: " + ", ".join(
        f"{b >> 20} MiB {g:.1f} GB/s" for b, g in at_size.items()),
        flush=True)
    python, torch_version = torch_python(args.torch_python)
    print("baseline: " + (f"PyTorch {torch_version} ({python})" if python
                           else "torch not installed"), flush=True)

    print(f"decode: Hq = {hq}, D = {d}, no mask, {t} threads, median of "
          f"{rounds} rounds alternating attnc and PyTorch", flush=True)
    header = ("| Sq | Skv | Hkv | K/V | K/V MiB | bound at FMA peak "
              "| attnc ms | attnc GB/s | % of read BW | target "
              "| stream at K/V size GB/s | PyTorch ms | PyTorch GB/s "
              "| speed-up |")
    lines = [header, "|---:|---:|---:|:---:|---:|:---|---:|---:|---:|:---|"
             "---:|---:|---:|---:|"]
    print(header, flush=True)
    rows = []  # per shape: the medians, or None
    for sq, skv, hkv, kv in shapes:
        nbytes = kv_bytes(skv, hkv, kv)
        reps = max(5, min(40, 2**31 // nbytes))
        model = os.path.join(work, f"dec{sq}_{skv}_{hkv}_{kv}.model")
        kvt = "" if kv == "f32" else kv
        with open(model, "w") as f:
            f.write(f"model decode\ninput q: [1, {hq}, {sq}, {d}]\n"
                    f"input k: {kvt}[1, {hkv}, {skv}, {d}]\n"
                    f"input v: {kvt}[1, {hkv}, {skv}, {d}]\n"
                    "o = attention(q, k, v, mask = none)\noutput o\n")
        _, err = try_sh([args.attnc, model, "-o", model[:-6]])
        ours_cmd = None if err else [model[:-6], "--threads", str(t),
                                     "--bench", str(reps)]
        theirs_cmd = ([python, os.path.join(HERE, "torch_decode.py"),
                       str(sq), str(skv), str(hq), str(hkv), str(d), kv,
                       str(t), str(reps)] if python else None)
        ours, theirs, torch_err = [], [], None
        for r in range(rounds):
            # Alternate, and swap who goes first each round.
            order = ("attnc", "torch") if r % 2 == 0 else ("torch", "attnc")
            for who in order:
                if who == "attnc" and ours_cmd:
                    out, err = try_sh(ours_cmd)
                    if err:
                        ours_cmd, err = None, f"run failed: {err}"
                    else:
                        ours.append(value(out, "ms"))
                elif who == "torch" and theirs_cmd:
                    out, torch_err = try_sh(theirs_cmd)
                    if torch_err:
                        theirs_cmd = None
                    else:
                        theirs.append(value(out, "ms"))
        row = dict(shape=(sq, skv, hkv, kv), bytes=nbytes,
                   ms=statistics.median(ours) if ours else None,
                   base=statistics.median(theirs) if theirs else None,
                   why=("torch not installed" if not python else
                        f"failed ({torch_err})" if torch_err else "n/a"))
        rows.append(row)
        print(decode_line(row, bw[t], peaks.values[t], at_size) +
              (f"  (attnc: {err})" if not ours and err else ""), flush=True)
    # The bandwidth again after the rows: a busy neighbour during the first
    # measurement must not inflate "% of read BW". The higher one counts.
    again = stream.gbps(t)
    print(f"  read bandwidth again ({t} threads): {again:.1f} GB/s"
          + (f"; RESULTS.md's percentages use it, not {bw[t]:.1f}"
             if again > bw[t] else ""), flush=True)
    bw[t] = max(bw[t], again)
    at_size = {b: max(g, stream.gbps(t, b >> 20, 21))
               for b, g in at_size.items()}
    peaks.values[t] = max(peaks.values[t], peaks.measure(t))
    lines += [decode_line(row, bw[t], peaks.values[t], at_size)
              for row in rows]
    baseline = (f"PyTorch {torch_version} CPU "
                "`torch.nn.functional.scaled_dot_product_attention(q, k, v, "
                f"enable_gqa=True)` with `torch.set_num_threads({t})` "
                "(`benchmarks/torch_decode.py`, a process per measurement: "
                "a warm-up call, then the median of as many calls as attnc's "
                "`--bench`); f32 rows all f32, f16 rows q, k and v all f16 "
                "(SDPA needs one dtype; upcasting K/V on every call would "
                "time a conversion pass over the cache, ~3× slower)"
                if python else "PyTorch: torch not installed")
    return [DECODE_BEGIN, "## Decode: attention bound by reading K and V", "",
            f"Measured {datetime.date.today()} with `benchmarks/run.py "
            f"--decode{'-quick' if quick else ''}` on {machine()}. "
            f"B = 1, Hq = {hq} query heads over Hkv K/V heads (GQA), "
            f"D = Dv = {d}, no mask, f32 queries and output, K/V f32 or f16, "
            f"{t} threads (`--threads {t}`). Read bandwidth in the same "
            f"run, `benchmarks/stream.cpp` ({stream.desc}; each thread "
            "sums its own slice of a 1 GiB buffer, median of 11 "
            "repetitions): " + ", ".join(
                f"{n} thread(s) {g:.1f} GB/s" for n, g in sorted(bw.items()))
            + f" ({t} threads: the higher of a measurement before and one "
            "after the rows). "
            "GB/s = unique K/V bytes (Hkv·Skv·(D + Dv)·element size, "
            "1 GB = 1e9 bytes) / median time; % of read BW = that over the "
            f"{t}-thread bandwidth. attnc time: the generated program's "
            "`--bench N` median (N = 5–40 runs after a warm-up, fewer for "
            f"larger K/V); each time is the median of {rounds} rounds "
            "alternating attnc and PyTorch (who goes first swapped each "
            f"round). Baseline: {baseline}. speed-up = PyTorch ms / attnc "
            "ms. The timed runs read the same K/V over and over, so K/V "
            f"that fits the last-level cache ({llc_text()}) is partly read "
            "from it: `stream at K/V size` is stream.cpp over a buffer of "
            f"exactly the row's K/V bytes ({t} threads, median of 21, the "
            "higher of a measurement before and one after the rows), the "
            "ceiling for that row on this machine. `bound at FMA peak`: "
            "`memory` if the row could reach the read bandwidth at the FMA "
            f"peak (`peak.cpp`, same run, {t} threads: "
            f"{peaks.values[t]:.0f} GFLOP/s) with its 4·Hq·Sq·Skv·D FLOPs "
            "over its K/V bytes, else the most % of read BW that peak "
            "allows (softmax and conversions not counted: the real ceiling "
            "is lower).", "", *lines,
            DECODE_END]


def replace_section(path, section):
    """Puts `section` (from its begin marker to its end marker, its first and
    last lines) into `path`, replacing an earlier one or appending it."""
    text = open(path).read() if os.path.exists(path) else ""
    block = "\n".join(section) + "\n"
    begin, end_marker = section[0], section[-1]
    if begin in text and end_marker in text:
        start = text.index(begin)
        end = text.index(end_marker) + len(end_marker) + 1
        text = text[:start] + block + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(text)


# --- Main --------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attnc", default=os.path.join(ROOT, "build/bin/attnc"))
    parser.add_argument("--quick", action="store_true",
                        help="only S <= 2048 (a smoke run, not for RESULTS.md)")
    parser.add_argument("--peak", action="store_true",
                        help="only build, check and measure the FMA peak of "
                             "every ISA variant this CPU runs")
    parser.add_argument("--masks", action="store_true",
                        help="only the structured-mask rows")
    parser.add_argument("--dense", action="store_true",
                        help="only the dense-layer and whole-layer rows "
                             "(written into RESULTS.md's dense section)")
    parser.add_argument("--modifiers", action="store_true",
                        help="only the score-modifier rows (written into "
                             "RESULTS.md's modifiers section)")
    parser.add_argument("--decode", action="store_true",
                        help="only the decode rows against the read "
                             "bandwidth and PyTorch (written into "
                             "RESULTS.md's decode section)")
    parser.add_argument("--decode-quick", action="store_true",
                        help="three decode rows, 2 rounds (a functional "
                             "check; prints only unless --out is given)")
    parser.add_argument("--tuner", action="store_true",
                        help="only the tuner against the heuristic on the "
                             "grid shapes (written into RESULTS.md's tuner "
                             "section; with --quick: S 512 and 2048 and the "
                             "decode target)")
    parser.add_argument("--torch-python", metavar="PYTHON",
                        help="the Python with torch for the decode baseline "
                             "(default: this one, python3 on PATH, or "
                             "build/pyref, the first that imports torch)")
    parser.add_argument("--masks-seq", type=int, default=8192,
                        metavar="S", help="S of the mask rows (default 8192)")
    parser.add_argument("--masks-standin", action="store_true",
                        help="add mask rows in today's syntax (tests the "
                             "script)")
    parser.add_argument("--baseline-attnc", metavar="PATH",
                        help="an older attnc: report old ms, new ms and "
                             "new/old on the grid (with --quick: only that, "
                             "S <= 2048; else also in RESULTS.md)")
    parser.add_argument("--out", help="the results file (default "
                        "benchmarks/RESULTS.md)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch folder (models, binaries)")
    args = parser.parse_args()
    args.out_given = args.out is not None
    args.out = args.out or os.path.join(HERE, "RESULTS.md")
    if args.masks_seq % 4 or args.masks_seq < 512:
        parser.error("--masks-seq must be a multiple of 4, at least 512")

    work = tempfile.mkdtemp(prefix="attnc-bench-")
    try:
        run_modes(args, work)
    finally:
        if args.keep:
            print(f"scratch folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_modes(args, work):
    heads, threads = 8, [1, 2]
    print(f"machine: {machine()}", flush=True)
    peaks = peak_section(work, threads, measure_all=args.peak)
    if args.peak:
        return
    if args.baseline_attnc and args.quick:
        old_vs_new(args, work, heads, threads)
        return
    if args.masks:
        masks(args, work, peaks)
        return
    if args.dense:
        replace_section(args.out, dense(args, work, peaks))
        return
    if args.modifiers:
        replace_section(args.out, modifiers(args, work, peaks))
        return
    if args.tuner:
        replace_section(args.out, tuner(args, work, args.quick))
        return
    if args.decode or args.decode_quick:
        section = decode(args, work, not args.decode, peaks)
        if args.decode or args.out_given:
            replace_section(args.out, section)
            print(f"wrote the decode section of {args.out}", flush=True)
        return

    rows, blas_note = grid(args, work, peaks, heads, threads)
    long_line = long_context(args, work)
    if args.quick:
        return
    mask_lines = masks(args, work, peaks)
    old_lines = (old_vs_new(args, work, heads, threads)
                 if args.baseline_attnc else None)
    write_results(args.out, rows, peaks.values, long_line, mask_lines,
                  blas_note, old_lines, args.baseline_attnc)
    chart(os.path.join(HERE, "chart.png"), rows, peaks.values)


def write_results(path, rows, peaks, long_line, mask_lines, blas_note,
                  old_lines, old_attnc):
    # The dense, modifier and decode sections come from their own runs:
    # keep them.
    old = open(path).read() if os.path.exists(path) else ""
    kept = "\n\n".join(
        old[old.index(begin):old.index(end) + len(end)]
        for begin, end in ((DENSE_BEGIN, DENSE_END),
                           (MODIFIERS_BEGIN, MODIFIERS_END),
                           (DECODE_BEGIN, DECODE_END),
                           (TUNER_BEGIN, TUNER_END))
        if begin in old and end in old)
    with open(path, "w") as f:
        f.write("# attnc CPU benchmark results\n\n")
        f.write(f"Measured {datetime.date.today()} with `benchmarks/run.py` "
                f"on {machine()}.\n\n")
        f.write("B = 1, H = 8, f32. FLOPs = 4·B·H·S²·D, halved for causal. "
                "Each time is the median of 3 rounds that alternate attnc "
                "and the baseline (a round: the median of 1–2 runs after a "
                "warm-up), so noise on the VM hits both. Peak = the FMA "
                "microbenchmark (`peak.cpp`, register-only loop checked by "
                "disassembly) with the same thread count, in the same run: "
                + ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s"
                            for t, p in sorted(peaks.items()))
                + ". Unfused baseline = `unfused.cpp` (OpenBLAS 0.3.21 sgemm "
                "per head, heads over threads, vectorized softmax, causal "
                f"computes only the lower triangle; {blas_note})."
                "\n\n![GFLOP/s](chart.png)\n\n")
        f.write("| S | D | causal | threads | attnc ms | attnc GFLOP/s | "
                "% of peak | unfused ms | unfused GFLOP/s | speed-up |\n")
        f.write("|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|\n")
        for s, d, causal, t, ms, gf, base, base_gf, speed in rows:
            pct = pct_text(percent_of(gf, peaks[t]), gf, peaks[t])
            f.write(f"| {s} | {d} | {'yes' if causal else 'no'} | {t} | "
                    f"{ms:.2f} | {gf:.0f} | {pct} | {base:.2f} | "
                    f"{base_gf:.0f} | {speed:.2f}× |\n")
        f.write(f"\nLong context: {long_line}.\n")
        f.write("\nStructured masks (S = 8192, H = 8, D = 128, 2 threads; "
                "GFLOP/s count only visible pairs; time / causal is the "
                "ratio of medians to the full causal row):\n\n")
        f.write("\n".join(mask_lines) + "\n")
        if old_lines:
            f.write(f"\nThis attnc against an older one (`{old_attnc}`), "
                    "same grid, same run, rounds alternating old and new:\n\n")
            f.write("\n".join(old_lines) + "\n")
        if kept:
            f.write("\n" + kept + "\n")


def chart(path, rows, peaks):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not found (apt-get install python3-matplotlib): "
              "no chart")
        return
    fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=True)
    for ax, (d, causal) in zip(axes, [(64, False), (128, False), (64, True),
                                      (128, True)]):
        sel = [r for r in rows if r[1] == d and r[2] == causal and r[3] == 2]
        sizes = [r[0] for r in sel]
        ax.plot(sizes, [r[5] for r in sel], "o-", label="attnc")
        ax.plot(sizes, [r[7] for r in sel], "s--", label="unfused OpenBLAS")
        ax.axhline(peaks[2], color="gray", linestyle=":", label="FMA peak")
        ax.set_xscale("log", base=2)
        ax.set_title(f"D={d}, {'causal' if causal else 'no mask'}, 2 threads")
        ax.set_xlabel("sequence length S")
    axes[0].set_ylabel("GFLOP/s")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
