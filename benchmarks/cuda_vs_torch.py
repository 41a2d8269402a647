#!/usr/bin/env python3
"""attnc's CUDA attention kernels against PyTorch's scaled_dot_product_attention
on the same GPU (benchmark code, not part of attnc; needs an NVIDIA GPU and a
Python with torch built for CUDA).

    cuda_vs_torch.py --attnc build/bin/attnc [--quick] [--decode]
                     [--reps N] [--arch sm_XX] [--csv FILE]

For each shape of the FlashAttention benchmarks' convention (B·S = 16k
tokens, H·D = 2048; B at least 4): S in {1024, 2048, 4096, 8192}, D in
{64, 128}, causal and not, f16 and bf16 (--quick: S 2048 only):

  - attnc: a one-op model description compiled with --target=cuda
    --gpu-arch=ARCH (default: the device's sm_XY; sm_90a on Hopper), run
    with --bench N; the time is the program's "gpu kernels: median" line
    (CUDA events around the kernel launches, without the host-device
    copies);
  - PyTorch: torch.nn.attention.sdpa_kernel with FLASH_ATTENTION
    (FlashAttention-2) and CUDNN_ATTENTION, CUDA events around each call,
    median of N after 10 warm-up calls, no L2 flush.

--decode times decode instead (memory-bound): one query per head, 32
query heads over 8 K/V heads (Llama-3-8B), D = 128, bf16, B in {1, 8},
2048 to 32768 keys; the rate is the K/V bytes read per second (GB/s),
PyTorch with enable_gqa=True.

FLOP: 4·B·H·S²·D, halved for causal. Prints a Markdown table (TFLOP/s and
the ratio of attnc to FA2) with the device name, and with --csv writes the
rows. Correctness is the e2e tests' business (tests/e2e/cuda-compare.test,
sweep-cuda.test); this script only times.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile


class Shape:
    def __init__(self, b, h, s, d, causal, dtype, hkv=None, sq=None):
        self.b, self.h, self.s, self.d = b, h, s, d
        self.causal, self.dtype = causal, dtype
        self.hkv = hkv or h        # K/V heads
        self.sq = sq or s          # queries (keys: s)

    def work(self):
        """FLOP, or for decode the K/V bytes."""
        if self.sq == 1:
            return 2 * self.b * self.hkv * self.s * self.d * 2
        return 4 * self.b * self.h * self.s * self.s * self.d / (
            2 if self.causal else 1)


def shapes(quick, decode):
    if decode:
        for b in (1, 8):
            for s in ([8192] if quick else [2048, 8192, 32768]):
                yield Shape(b, 32, s, 128, False, "bf16", hkv=8, sq=1)
        return
    for s in ([2048] if quick else [1024, 2048, 4096, 8192]):
        for d in (64, 128):
            for causal in (False, True):
                for dtype in ("f16", "bf16"):
                    yield Shape(max(4, 16384 // s), 2048 // d, s, d, causal,
                                dtype)


def attnc_ms(args, work, x):
    model = os.path.join(work, "bench.model")
    with open(model, "w") as f:
        f.write(f"model bench\n"
                f"input q: {x.dtype}[{x.b}, {x.h}, {x.sq}, {x.d}]\n"
                f"input k: {x.dtype}[{x.b}, {x.hkv}, {x.s}, {x.d}]\n"
                f"input v: {x.dtype}[{x.b}, {x.hkv}, {x.s}, {x.d}]\n"
                f"o = attention(q, k, v, mask = "
                f"{'causal' if x.causal else 'none'})\noutput o\n")
    exe = os.path.join(work, "bench")
    subprocess.run([args.attnc, model, "--target=cuda",
                    f"--gpu-arch={args.arch}", "-o", exe], check=True)
    out = subprocess.run([exe, "--quiet", "--bench", str(args.reps)],
                         check=True, capture_output=True, text=True).stdout
    match = re.search(r"gpu kernels: median ([0-9.]+) ms", out)
    if not match:
        sys.exit(f"no 'gpu kernels' line in the program's output:\n{out}")
    return float(match.group(1))


def torch_ms(torch, backend, x, reps):
    from torch.nn.attention import sdpa_kernel
    from torch.nn.functional import scaled_dot_product_attention as sdpa
    t = {"f16": torch.float16, "bf16": torch.bfloat16}[x.dtype]
    q = torch.randn(x.b, x.h, x.sq, x.d, device="cuda", dtype=t)
    k, v = (torch.randn(x.b, x.hkv, x.s, x.d, device="cuda", dtype=t)
            for _ in range(2))
    gqa = {"enable_gqa": True} if x.hkv != x.h else {}
    times = []
    try:
        with sdpa_kernel(backend), torch.inference_mode():
            for i in range(10 + reps):
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                sdpa(q, k, v, is_causal=x.causal, **gqa)
                end.record()
                end.synchronize()
                if i >= 10:
                    times.append(start.elapsed_time(end))
    except RuntimeError as error:  # backend unavailable for this shape
        print(f"  {backend}: {error}".splitlines()[0], file=sys.stderr)
        return None
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attnc", required=True)
    parser.add_argument("--arch", help="--gpu-arch (default: the device's)")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--decode", action="store_true")
    parser.add_argument("--csv")
    args = parser.parse_args()
    try:
        import torch
        from torch.nn.attention import SDPBackend
    except ImportError:
        sys.exit("needs torch")
    if not torch.cuda.is_available():
        sys.exit("needs a CUDA GPU")
    major, minor = torch.cuda.get_device_capability()
    if not args.arch:
        args.arch = f"sm_{major}{minor}" + ("a" if major == 9 else "")
    device = torch.cuda.get_device_name()
    print(f"device: {device} ({args.arch}), torch {torch.__version__}, "
          f"median of {args.reps}\n")
    unit, scale = ("GB/s", 1e9) if args.decode else ("TFLOP/s", 1e12)
    print(f"| B | H | Hkv | Sq | S | D | causal | dtype | attnc {unit} "
          f"| FA2 {unit} | cuDNN {unit} | attnc / FA2 |")
    print("|" + " --- |" * 12)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for x in shapes(args.quick, args.decode):
            ms = {"attnc": attnc_ms(args, work, x)}
            for name, backend in (("fa2", SDPBackend.FLASH_ATTENTION),
                                  ("cudnn", SDPBackend.CUDNN_ATTENTION)):
                ms[name] = torch_ms(torch, backend, x, args.reps)
            rate = {k: (x.work() / (v * 1e-3) / scale if v else None)
                    for k, v in ms.items()}
            text = lambda r: f"{r:.1f}" if r else "-"
            ratio = (f"{rate['attnc'] / rate['fa2']:.2f}" if rate["fa2"]
                     else "-")
            print(f"| {x.b} | {x.h} | {x.hkv} | {x.sq} | {x.s} | {x.d} "
                  f"| {'yes' if x.causal else 'no'} | {x.dtype} "
                  f"| {text(rate['attnc'])} | {text(rate['fa2'])} "
                  f"| {text(rate['cudnn'])} | {ratio} |", flush=True)
            rows.append([device, x.b, x.h, x.hkv, x.sq, x.s, x.d,
                         int(x.causal), x.dtype, ms["attnc"], ms["fa2"],
                         ms["cudnn"]])
    if args.csv:
        with open(args.csv, "w") as f:
            f.write("device,b,h,hkv,sq,s,d,causal,dtype,attnc_ms,fa2_ms,"
                    "cudnn_ms\n")
            for row in rows:
                f.write(",".join("" if x is None else str(x) for x in row)
                        + "\n")


if __name__ == "__main__":
    main()
