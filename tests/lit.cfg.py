# -*- Python -*-
import os
import shutil
import subprocess
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "attn"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "tests")
config.excludes = ["Inputs", "CMakeLists.txt", "README.md", "reference", "unit",
                   "lit.cfg.py", "lit.site.cfg.py"]

llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(
    ["attn-opt", "attnc", "attn-ref", "attn-fake-model", "attn-bad-abi-model",
     "attn-fake-weights-model", "not", "split-file"],
    [config.attn_tools_dir, config.llvm_tools_dir])
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(
    ("%npy", sys.executable + " " + os.path.join(config.attn_src_root, "tests",
                                                 "npy.py")))
config.substitutions.append(
    ("%safetensors", sys.executable + " " + os.path.join(
        config.attn_src_root, "tests", "tools", "Inputs", "safetensors.py")))
config.substitutions.append(
    ("%examples", os.path.join(config.attn_src_root, "examples")))
# A sanitizer build (tools/check-sanitized.sh): every report fails its test;
# leaks are reported at exit. libMLIR.so is not instrumented, but LLVM's
# inline allocator code in our objects poisons and unpoisons its slabs, so
# manual poisoning is ignored (allow_user_poisoning=0) or memory that
# libMLIR hands out would read as poisoned.
if config.attn_sanitized:
    config.available_features.add("sanitized")
    config.environment["ASAN_OPTIONS"] = (
        "detect_leaks=1:halt_on_error=1:allow_user_poisoning=0")
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
# Generated executables must not depend on the environment's thread count.
config.environment["OMP_NUM_THREADS"] = "1"
# Linking compiled objects by hand: the C++ compiler and the runtime archives.
config.substitutions.append(("%cxx", config.attn_cxx))
config.substitutions.append(("%attn_lib", config.attn_lib_dir))

# The whole-model references (tests/e2e/model_ref.py, hf_ref.py) need numpy,
# which only Debian's python3 has: %pyref, feature `numpy`. The check against
# Hugging Face (hf_transformers_check.py) needs torch, transformers and
# safetensors: the virtual environment `tools/setup.sh --with-transformers`
# makes (build/pyref), else the python3 on PATH: %pyhf (its real executable,
# not a pyenv shim), feature `transformers`.


def python_executable(python, modules):
    """The interpreter's sys.executable if it imports `modules`, else None."""
    try:
        result = subprocess.run(
            [python, "-c", f"import sys, {modules}; print(sys.executable)"],
            capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


pyref = "/usr/bin/python3"
if python_executable(pyref, "numpy"):
    config.available_features.add("numpy")
# tools/heatmap.py draws with Debian's matplotlib: feature `matplotlib`,
# %heatmap.
if python_executable(pyref, "numpy, matplotlib"):
    config.available_features.add("matplotlib")
config.substitutions.append(
    ("%heatmap", pyref + " " + os.path.join(config.attn_src_root, "tools",
                                            "heatmap.py")))
config.substitutions.append(("%pyref", pyref))
pyhf = None
venv = os.path.join(config.attn_obj_root, "pyref", "bin", "python3")
for candidate in (venv if os.path.exists(venv) else None,
                  shutil.which("python3"), sys.executable, pyref):
    pyhf = candidate and python_executable(
        candidate, "numpy, safetensors, torch, transformers")
    if pyhf:
        config.available_features.add("transformers")
        break
config.substitutions.append(("%pyhf", pyhf or "python3"))

# CUDA: ptxas checks the PTX of --target=cuda where the toolkit is installed
# (feature `ptxas`); the GPU tests run where a GPU and its driver are
# (feature `cuda-gpu`, from nvidia-smi). Neither is needed for the rest.
ptxas = shutil.which("ptxas") or next(
    (p for p in ("/usr/local/cuda/bin/ptxas",) if os.path.exists(p)), None)
if ptxas:
    config.available_features.add("ptxas")
config.substitutions.append(("%ptxas", ptxas or "ptxas"))
def has_cuda_gpu():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        result = subprocess.run([smi, "-L"], capture_output=True, text=True,
                                timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and "GPU" in result.stdout
if has_cuda_gpu():
    config.available_features.add("cuda-gpu")
