//===- Pipelines.h - attn pass pipelines ------------------------*- C++ -*-===//
//
// The pass pipelines of the compiler, as C++ builders. `attnc` and
// `attn-opt --attn-cpu-pipeline` run exactly these pass lists.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_PIPELINES_H
#define ATTN_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::attn {

struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> vectorWidth{*this, "vector-width",
                              llvm::cl::desc("f32 lanes per vector register"),
                              llvm::cl::init(16)};
  Option<int64_t> vectorRegisters{
      *this, "vector-registers",
      llvm::cl::desc("number of architectural vector registers"),
      llvm::cl::init(32)};
  Option<std::string> schedule{
      *this, "schedule",
      llvm::cl::desc("schedule fields overriding the heuristic, e.g. "
                     "'tile_q=64,tile_kv=128'")};
  Option<bool> report{
      *this, "report",
      llvm::cl::desc("emit a remark per attention op describing its schedule"),
      llvm::cl::init(false)};
  Option<std::string> tuningFile{
      *this, "tuning-file",
      llvm::cl::desc("schedules measured by attnc --tune, used where they "
                     "match an op and the target")};
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("the target's name in the tuning file"),
      llvm::cl::init("generic")};
  Option<std::string> prefix{
      *this, "prefix",
      llvm::cl::desc("symbol prefix of the model (default: the entry "
                     "function's name)")};
  Option<std::string> gpuArch{
      *this, "gpu-arch",
      llvm::cl::desc("run attn.sdpa on an NVIDIA GPU of this architecture "
                     "(sm_80, sm_86, sm_89, sm_90, sm_90a); empty: the CPU")};
  Option<bool> gpuEmulate{
      *this, "gpu-emulate",
      llvm::cl::desc("with gpu-arch: run the kernels on CPU threads instead "
                     "(tests the GPU lowering without a GPU)"),
      llvm::cl::init(false)};
  Option<bool> mainAlias{
      *this, "main-alias",
      llvm::cl::desc("define attn_main_model for the harness main"),
      llvm::cl::init(false)};
};

/// Stage 1+2: attn ops on tensors -> flash loop nests on buffers (the IR that
/// `attnc --emit=loops` prints).
void buildCpuLoopsPipeline(OpPassManager &pm, const CpuPipelineOptions &opts);
/// Stage 3: loops on buffers -> LLVM dialect with the runtime entry point.
void buildCpuToLLVMPipeline(OpPassManager &pm, const CpuPipelineOptions &opts);
/// With gpu-arch, the first part of stage 3: the gpu.module kernels (which
/// stage 2 outlined) lowered to the NVVM and LLVM dialects (`attnc
/// --emit=nvvm`); buildCpuToLLVMPipeline runs it, then lowers the host and
/// embeds the kernels as PTX.
void buildGpuToNVVMPipeline(OpPassManager &pm, const CpuPipelineOptions &opts);
/// Both stages: attn on tensors -> LLVM dialect.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &opts);

/// Registers `--attn-cpu-pipeline`, `--attn-cpu-loops-pipeline` and
/// `--attn-cpu-to-llvm-pipeline`.
void registerAttnPipelines();

} // namespace mlir::attn

#endif // ATTN_PASSES_PIPELINES_H
