#!/usr/bin/env python3
"""The PyTorch CPU baseline of the decode rows (benchmark code, not part of
attnc): times torch.nn.functional.scaled_dot_product_attention(q, k, v,
enable_gqa=True) on one decode shape, no mask, seeded random inputs.

    torch_decode.py SQ SKV HQ HKV D KV_DTYPE THREADS REPS
        -> "ms=<median> ms_min=<N> torch=<version> dtypes=<q>/<kv>"

q is [1, HQ, SQ, D], k and v [1, HKV, SKV, D]. KV_DTYPE f32: everything
f32. KV_DTYPE f16: q, k and v all f16 (and so the output): PyTorch's SDPA
needs one dtype for all three, and upcasting K/V to f32 on every call would
time a conversion pass over the cache (about 3x slower) rather than
attention over f16 K/V. The K/V bytes read are the same as attnc's f16 K/V
rows; q is tiny. torch.set_num_threads(THREADS); under
torch.inference_mode(); one untimed warm-up call, then the median of REPS
calls (time.perf_counter).

Run with a Python that has torch (run.py looks for one); prints
"error=torch not installed" and exits with status 3 without it.
"""
import statistics
import sys
import time


def main():
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    sq, skv, hq, hkv, d = (int(a) for a in sys.argv[1:6])
    kv_dtype, threads, reps = sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("error=torch not installed")
        sys.exit(3)
    dtype = {"f32": torch.float32, "f16": torch.float16}[kv_dtype]
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    q = torch.rand(1, hq, sq, d, generator=gen).mul_(2).sub_(1).to(dtype)
    k = torch.rand(1, hkv, skv, d, generator=gen).mul_(2).sub_(1).to(dtype)
    v = torch.rand(1, hkv, skv, d, generator=gen).mul_(2).sub_(1).to(dtype)
    times = []
    with torch.inference_mode():
        out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        for _ in range(reps):
            start = time.perf_counter()
            out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
            times.append((time.perf_counter() - start) * 1e3)
    if not torch.isfinite(out.float()).all():
        sys.exit("torch_decode.py: non-finite output")
    print(f"ms={statistics.median(times):.4f} ms_min={min(times):.4f} "
          f"torch={torch.__version__} dtypes={str(q.dtype)[6:]}/"
          f"{str(k.dtype)[6:]}")


if __name__ == "__main__":
    main()
