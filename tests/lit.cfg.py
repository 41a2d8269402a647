# -*- Python -*-
import os
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
# Generated executables must not depend on the environment's thread count.
config.environment["OMP_NUM_THREADS"] = "1"
# Linking compiled objects by hand: the C++ compiler and the runtime archives.
config.substitutions.append(("%cxx", config.attn_cxx))
config.substitutions.append(("%attn_lib", config.attn_lib_dir))
