#!/usr/bin/env python3
"""Every example with --target=cuda (lit: cuda-examples*.test).

    cuda_examples.py --attnc ATTNC --work DIR no-driver
        each example compiles to an executable, which runs on a machine
        without a usable driver (ATTNRT_LIBCUDA=DIR/none) to a clear error:
        exit status 1 and "GPU error: cannot load the CUDA driver"
    cuda_examples.py --attnc ATTNC --work DIR ptxas PTXAS
        each example's PTX (--emit=ptx) for every supported architecture
        is accepted by `PTXAS -arch=ARCH -v`, without spills
    cuda_examples.py --attnc ATTNC --work DIR compare [--emulate]
        on a GPU (or, with --emulate, with the GPU kernels run by CPU
        threads: attnc --gpu-emulate): each example compiled for the GPU
        and for the CPU, run on
        the same seeded random inputs; every output of the GPU program
        matches the CPU program's (which the e2e tests check against the
        reference) within TOLERANCE relative to the output's largest
        magnitude. Needs numpy.

--skip NAME leaves an example out. Prints "PASS name" or "FAIL name" and
the reason per example, then
"N passed, M failed"; exits 1 if any failed.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

ARCHS = ["sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"]
# Largest difference from the CPU program, relative to the output's largest
# magnitude (at least 1), by .npy type: f32; f16; bf16 (its bits as '<u2'):
# two ulps of 16-bit outputs, since the tensor-core kernel rounds the
# probabilities to the input type before P · V, as FlashAttention does.
TOLERANCE = {"<f4": 2e-4, "<f2": 1.5e-3, "<u2": 1.2e-2}
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def run(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True,
                            env=env, timeout=600)
    return result.returncode, result.stdout + result.stderr


def compile_exe(args, model, exe, target):
    flags = ["--target=cuda"] if target == "cuda" else []
    if target == "cuda" and getattr(args, "emulate", False):
        flags.append("--gpu-emulate")
    return run([args.attnc, model, "-o", exe] + flags)


def no_driver(args, name, model):
    exe = os.path.join(args.work, name)
    rc, out = compile_exe(args, model, exe, "cuda")
    if rc:
        return f"compile failed ({rc}):\n{out}"
    env = dict(os.environ, ATTNRT_LIBCUDA=os.path.join(args.work, "none"))
    rc, out = run([exe, "--quiet"], env)
    if rc != 1 or "GPU error: cannot load the CUDA driver" not in out:
        return f"expected exit 1 and a driver error, got {rc}:\n{out}"
    return None


def ptxas(args, name, model):
    for arch in ARCHS:
        ptx = os.path.join(args.work, f"{name}.{arch}.ptx")
        rc, out = run([args.attnc, model, "--target=cuda",
                       f"--gpu-arch={arch}", "--emit=ptx", "-o", ptx])
        if rc:
            return f"{arch}: attnc failed ({rc}):\n{out}"
        rc, out = run([args.ptxas_path, f"-arch={arch}", "-v", ptx, "-o",
                       os.path.join(args.work, f"{name}.{arch}.cubin")])
        if rc:
            return f"{arch}: ptxas failed ({rc}):\n{out}"
        spills = [int(n) for n in re.findall(r"(\d+) bytes spill", out)]
        if any(spills):
            return f"{arch}: spills:\n{out}"
    return None


def compare(args, name, model):
    import numpy as np
    outputs = {}
    for target in ("cpu", "cuda"):
        exe = os.path.join(args.work, f"{name}-{target}")
        rc, out = compile_exe(args, model, exe, target)
        if rc:
            return f"{target}: compile failed ({rc}):\n{out}"
        folder = os.path.join(args.work, f"{name}-{target}-out")
        rc, out = run([exe, "--quiet", "--seed", "7", "--output", folder])
        if rc:
            return f"{target}: run failed ({rc}):\n{out}"
        outputs[target] = folder
    def values(array):
        # bf16 files hold the bits as '<u2'.
        if array.dtype == np.uint16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        return array.astype(np.float64)

    for path in sorted(glob.glob(os.path.join(outputs["cpu"], "*.npy"))):
        cpu = np.load(path)
        gpu = np.load(os.path.join(outputs["cuda"], os.path.basename(path)))
        tolerance = TOLERANCE[cpu.dtype.str]
        cpu, gpu = values(cpu), values(gpu)
        scale = max(1.0, float(np.max(np.abs(cpu))))
        error = float(np.max(np.abs(cpu - gpu))) / scale
        if not error <= tolerance:
            return (f"{os.path.basename(path)}: max error {error:.3g} "
                    f"(relative to {scale:.3g}) above {tolerance}")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attnc", required=True)
    parser.add_argument("--work", required=True)
    sub = parser.add_subparsers(dest="mode", required=True)
    parser.add_argument("--skip", action="append", default=[],
                        help="leave out this example (repeatable)")
    sub.add_parser("no-driver")
    p = sub.add_parser("ptxas")
    p.add_argument("ptxas_path")
    p = sub.add_parser("compare")
    p.add_argument("--emulate", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    check = {"no-driver": no_driver, "ptxas": ptxas, "compare": compare}
    passed = failed = 0
    for model in sorted(glob.glob(os.path.join(EXAMPLES, "*.model"))):
        name = os.path.splitext(os.path.basename(model))[0]
        if name in args.skip:
            continue
        problem = check[args.mode](args, name, model)
        print(f"{'FAIL' if problem else 'PASS'} {name}", flush=True)
        if problem:
            failed += 1
            print("".join(f"  | {line}\n" for line in problem.splitlines()),
                  end="", flush=True)
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
