//===- Compiler.h - the attnc compilation driver ----------------*- C++ -*-===//
//
// The library behind `attnc`: load a model description (or `.mlir` file, or
// a Hugging Face config.json, imported as a description by HFImport.h), run
// the pipelines from passes/Pipelines.h, and emit the requested phase.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_COMPILER_H
#define ATTN_TOOLS_ATTNC_COMPILER_H

#include "tools/attnc/HFImport.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::attn {

/// Where compilation stops. Every phase but `Exe` prints to stdout (or to
/// the output file when one is given); `Obj` needs an output file. `Model`
/// is the model description: a config's import, a `.model` file as is.
/// `Gpu`, `NVVM` and `PTX` (cuda target only) print the kernels alone: in
/// the gpu dialect, in NVVM/LLVM, and as the embedded PTX.
enum class EmitPhase {
  Model, Attn, Loops, Gpu, NVVM, PTX, LLVM, LL, Asm, Obj, Lib, Exe
};

struct CompileOptions {
  std::string inputPath;
  std::string outputPath; // empty: stdout for text phases, the stem for Exe
  EmitPhase emit = EmitPhase::Exe;
  std::string mcpu = "native";
  std::string gpuArch;    // non-empty: attention runs on this NVIDIA GPU
  bool gpuEmulate = false; // with gpuArch: its kernels on CPU threads (tests)
  unsigned optLevel = 3;
  int64_t vectorWidth = 0;     // 0: from the target's features
  int64_t vectorRegisters = 0; // 0: from the target's features
  std::string schedule; // overrides of the heuristic's schedule fields
  bool report = false;  // print each op's schedule, FLOPs and tiles
  std::string prefix;   // symbol prefix of the model; empty: attn_<name>
  bool printIRAfterAll = false;
  bool verbose = false;
  std::string linker;      // empty: the C++ compiler attnc was built with
  std::vector<std::string> embedWeights; // weight files to embed (Exe only)
  std::string runtimeDir;  // holds libAttnHarness.a and libAttnRuntime.a;
                           // empty: ../lib next to attnc, else the build's
  HFImportOptions hf;      // only for a config.json input (else an error)
  std::string tuningFile;  // schedules measured by --tune, where they match
  std::string tuneFile;    // --tune: measure schedules, write them here
  double tuneBudget = 60;  // seconds of tuning per model
  int tuneThreads = 0;     // threads of the timed runs; 0: the default
};

/// Runs the compilation. Errors are printed (located in the input file when
/// they come from it); returns the process exit code.
int compile(const CompileOptions &options);

/// Lowers an attn-level `module` and emits `options.emit` (the path after
/// parsing; `stem` names default outputs). For the tuner's candidates.
int compileModule(ModuleOp module, const CompileOptions &options,
                  llvm::StringRef stem);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_COMPILER_H
