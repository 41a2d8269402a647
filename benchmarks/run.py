#!/usr/bin/env python3
"""Benchmarks attnc-compiled attention against the machine's FMA peak and an
unfused OpenBLAS baseline, all in one run, and writes RESULTS.md + chart.png.

    benchmarks/run.py                 # the full grid (about 10 minutes on 2 cores)
    benchmarks/run.py --quick         # S <= 2048 only

Needs a built attnc (tools/setup.sh) and `apt-get install libopenblas-dev`
(plus `python3-matplotlib` for the chart). FLOPs = 4·B·H·S²·D, halved for
causal; every time is the median of 3 alternating rounds of attnc and the
baseline (each round itself a median of 1-2 runs after a warm-up).
"""
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "benchmarks")
ROUNDS = 3  # alternating attnc/baseline measurements per table cell


def sh(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env=env).stdout


def value(text, key):
    match = re.search(rf"{key}=([0-9.e+]+)", text)
    if not match:
        sys.exit(f"no '{key}=' in output:\n{text}")
    return float(match.group(1))


def machine():
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    flags = open("/proc/cpuinfo").read()
    isa = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "SSE"
    host = sh(["/usr/lib/llvm-22/bin/llc", "--version"])
    cpu_name = re.search(r"Host CPU: (\S+)", host)
    return (f"{cpu.group(1) if cpu else platform.processor()} "
            f"({cpu_name.group(1) if cpu_name else '?'}, {isa}), "
            f"{os.cpu_count()} cores, Linux {platform.release()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attnc", default=os.path.join(ROOT, "build/bin/attnc"))
    parser.add_argument("--quick", action="store_true",
                        help="only S <= 2048 (a smoke run, not for RESULTS.md)")
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = parser.parse_args()

    sizes = [512, 1024, 2048] if args.quick else [512, 1024, 2048, 4096, 16384]
    heads, threads = 8, [1, 2]
    work = tempfile.mkdtemp(prefix="attnc-bench-")
    # OpenBLAS must use the CPU's real kernels (TOOLCHAIN.md §8).
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    env["OPENBLAS_NUM_THREADS"] = "1"

    flags = ["-O3", "-march=native", "-ffast-math", "-fopenmp-simd"]
    peak_exe, unfused_exe = (os.path.join(work, n) for n in ("peak", "unfused"))
    sh(["g++", *flags, os.path.join(HERE, "peak.cpp"), "-o", peak_exe, "-lpthread"])
    sh(["g++", *flags, os.path.join(HERE, "unfused.cpp"), "-o", unfused_exe,
        "-lopenblas", "-lmvec", "-lpthread"])

    def peak(t):
        return statistics.median(value(sh([peak_exe, str(t)]), "gflops")
                                 for _ in range(3))

    peaks = {t: peak(t) for t in threads}
    print("peak FMA: " + ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s"
                                   for t, p in peaks.items()), flush=True)

    rows = []
    header = ("| S | D | causal | threads | attnc ms | attnc GFLOP/s | % of peak "
              "| unfused ms | unfused GFLOP/s | speed-up |")
    print(header, flush=True)
    for s in sizes:
        for d in (64, 128):
            for causal in (False, True):
                flops = 4 * heads * s * s * d / (2 if causal else 1)
                reps = 2 if flops < 2e10 else 1
                model = os.path.join(work, f"m{s}_{d}_{int(causal)}.model")
                exe = model[:-6]
                with open(model, "w") as f:
                    f.write(f"model bench\n" + "".join(
                        f"input {n}: [1, {heads}, {s}, {d}]\n" for n in "qkv") +
                        f"o = attention(q, k, v, mask = "
                        f"{'causal' if causal else 'none'})\noutput o\n")
                sh([args.attnc, model, "-o", exe])
                for t in threads:
                    # Alternate attnc and the baseline for ROUNDS rounds so
                    # that a burst of noise on the VM hits both columns.
                    ours, theirs = [], []
                    for _ in range(ROUNDS):
                        ours.append(value(sh([exe, "--threads", str(t),
                                              "--bench", str(reps)]), "ms"))
                        theirs.append(value(sh([unfused_exe, str(s), str(d),
                                                str(int(causal)), str(t),
                                                str(heads), str(reps)],
                                               env=env), "ms"))
                    ms = statistics.median(ours)
                    base = statistics.median(theirs)
                    gf, base_gf = flops / ms * 1e-6, flops / base * 1e-6
                    row = (s, d, causal, t, ms, gf, 100 * gf / peaks[t], base,
                           base_gf, base / ms)
                    rows.append(row)
                    line = (f"| {s} | {d} | {'yes' if causal else 'no'} | {t} "
                            f"| {ms:.2f} | {gf:.0f} | {row[6]:.0f} % "
                            f"| {base:.2f} | {base_gf:.0f} | {row[9]:.2f}× |")
                    print(line, flush=True)

    # Long context: O(S·D) memory, reported by the generated binary.
    long_model = os.path.join(work, "long.model")
    with open(long_model, "w") as f:
        f.write("model long\n" + "".join(
            f"input {n}: [1, 1, 32768, 128]\n" for n in "qkv") +
            "o = attention(q, k, v, mask = causal)\noutput o\n")
    sh([args.attnc, long_model, "-o", long_model[:-6]])
    out = sh([long_model[:-6], "--threads", "2"])
    long_ms, rss, tensors = (value(out, k) for k in
                             ("ms", "peak_rss_bytes", "tensor_bytes"))
    long_line = (f"S = 32768, H = 1, D = 128, causal, 2 threads: {long_ms:.0f} ms, "
                 f"peak RSS {rss / 2**20:.1f} MiB for {tensors / 2**20:.1f} MiB "
                 f"of tensors (+{(rss - tensors) / 2**20:.1f} MiB; the S×S "
                 f"scores alone would be {32768**2 * 4 / 2**30:.0f} GiB)")
    print(long_line)

    if args.quick:
        return
    write_results(args.out, rows, peaks, long_line)
    chart(os.path.join(HERE, "chart.png"), rows, peaks)


def write_results(path, rows, peaks, long_line):
    with open(path, "w") as f:
        f.write("# attnc CPU benchmark results\n\n")
        f.write(f"Measured {datetime.date.today()} with `benchmarks/run.py` "
                f"on {machine()}.\n\n")
        f.write("B = 1, H = 8, f32. FLOPs = 4·B·H·S²·D, halved for causal. "
                "Each time is the median of 3 rounds that alternate attnc "
                "and the baseline (a round: the median of 1–2 runs after a "
                "warm-up), so noise on the VM hits both. Peak = the FMA "
                "microbenchmark (`peak.cpp`) with the same thread count, in "
                "the same run: " + ", ".join(
                    f"{t} thread(s) {p:.0f} GFLOP/s" for t, p in peaks.items())
                + ". Unfused baseline = `unfused.cpp` (OpenBLAS 0.3.21 sgemm "
                "per head, heads over threads, vectorized softmax, causal "
                "computes only the lower triangle; `OPENBLAS_CORETYPE` unset)."
                "\n\n![GFLOP/s](chart.png)\n\n")
        f.write("| S | D | causal | threads | attnc ms | attnc GFLOP/s | "
                "% of peak | unfused ms | unfused GFLOP/s | speed-up |\n")
        f.write("|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|\n")
        for s, d, causal, t, ms, gf, pct, base, base_gf, speed in rows:
            f.write(f"| {s} | {d} | {'yes' if causal else 'no'} | {t} | "
                    f"{ms:.2f} | {gf:.0f} | {pct:.0f} % | {base:.2f} | "
                    f"{base_gf:.0f} | {speed:.2f}× |\n")
        f.write(f"\nLong context: {long_line}.\n")


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
        ax.plot(sizes, [r[8] for r in sel], "s--", label="unfused OpenBLAS")
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
