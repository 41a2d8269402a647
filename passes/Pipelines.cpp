//===- Pipelines.cpp - attn pass pipelines --------------------------------===//
//
// The only place where pass lists are written down. Upstream passes are
// spelled textually (their registered names and options are the stable
// interface); attn passes use their generated constructors.
//
//===----------------------------------------------------------------------===//
#include "passes/Pipelines.h"
#include "passes/Passes.h"
#include "passes/ScheduleHeuristics.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::attn {

/// Adds a textual pipeline of upstream passes; they are all registered, so a
/// failure here is a bug in this file.
static void addUpstream(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error(llvm::Twine("invalid pipeline: ") + pipeline);
}

void buildCpuLoopsPipeline(OpPassManager &pm, const CpuPipelineOptions &opts) {
  // Stage 1: the model level.
  pm.addPass(createExportSignaturePass());
  pm.addNestedPass<func::FuncOp>(createFuseEpiloguesPass());
  pm.addNestedPass<func::FuncOp>(createSelectSchedulePass(
      {opts.vectorWidth.getValue(), opts.vectorRegisters.getValue(),
       opts.schedule.getValue(), opts.report.getValue(),
       opts.tuningFile.getValue(), opts.target.getValue(),
       opts.gpuArch.getValue()}));
  if (!opts.gpuArch.empty()) {
    // Each launch becomes a kernel of its own gpu.module now, so that the
    // host canonicalizations below cannot hoist its constants out of it.
    pm.addPass(createLowerAttentionToGpuPass());
    if (opts.gpuEmulate)
      pm.addPass(createEmulateGpuPass());
    else
      addUpstream(pm, "gpu-kernel-outlining");
  }
  // Stage 2: flash loops, then buffers with outputs as out-parameters and the
  // scratch/intermediate buffers freed.
  pm.addNestedPass<func::FuncOp>(createLowerAttentionToLoopsPass());
  pm.addPass(createLowerBlocksToLoopsPass({opts.vectorWidth.getValue()}));
  addUpstream(pm, "canonicalize,cse,"
                  "one-shot-bufferize{bufferize-function-boundaries "
                  "function-boundary-type-conversion=identity-layout-map},"
                  "buffer-results-to-out-params{hoist-static-allocs modify-public-functions}");
  if (opts.gpuArch.empty()) {
    addUpstream(pm, "buffer-deallocation-pipeline");
  } else {
    // buffer-deallocation-pipeline, with the deallocation pass kept out of
    // the GPU host functions.
    addUpstream(pm, "expand-realloc{emit-deallocs=false},canonicalize");
    pm.addPass(createDeallocateBuffersPass());
    addUpstream(pm, "canonicalize,buffer-deallocation-simplification,"
                    "bufferization-lower-deallocations,cse,canonicalize");
  }
  addUpstream(pm, "canonicalize,cse");
}

void buildGpuToNVVMPipeline(OpPassManager &pm, const CpuPipelineOptions &opts) {
  const GpuArch *arch = lookupGpuArch(opts.gpuArch);
  if (!arch)
    llvm::report_fatal_error(llvm::Twine("unknown GPU architecture ") +
                             opts.gpuArch.getValue());
  // Explicit PTX features: LLVM's default PTX version is too old for sm_80+.
  addUpstream(pm, "nvvm-attach-target{chip=" + arch->name +
                      " features=" + arch->ptxFeatures +
                      " O=3},"
                      // Math as NVVM intrinsics (tanh expanded first):
                      // no libdevice.
                      "gpu.module(math-expand-ops{ops=tanh},"
                      "attn-gpu-math-to-nvvm,convert-nvgpu-to-nvvm,"
                      "convert-math-to-llvm,"
                      "convert-scf-to-cf,"
                      "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv},"
                      "canonicalize,cse,reconcile-unrealized-casts)");
}

/// Whether `opts` put kernels on a GPU (not emulated ones).
static bool hasGpu(const CpuPipelineOptions &opts) {
  return !opts.gpuArch.empty() && !opts.gpuEmulate;
}

void buildCpuToLLVMPipeline(OpPassManager &pm,
                            const CpuPipelineOptions &opts) {
  if (hasGpu(opts))
    buildGpuToNVVMPipeline(pm, opts);
  pm.addPass(createOutlineParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createApproximateMathPass());
  addUpstream(pm, "expand-strided-metadata,lower-affine,"
                  "convert-scf-to-cf,"
                  "finalize-memref-to-llvm{use-generic-functions},"
                  "convert-vector-to-llvm,"
                  "convert-math-to-llvm,convert-arith-to-llvm,"
                  "convert-index-to-llvm,convert-ub-to-llvm,"
                  "convert-func-to-llvm{use-bare-ptr-memref-call-conv}");
  // The host side of the launches becomes mgpu* runtime calls; the kernels
  // are embedded as PTX, compiled by the driver when the program starts.
  if (hasGpu(opts))
    addUpstream(pm, "gpu-to-llvm{use-bare-pointers-for-host "
                    "use-bare-pointers-for-kernels},"
                    "gpu-module-to-binary{format=isa}");
  addUpstream(pm, "convert-cf-to-llvm,reconcile-unrealized-casts");
  pm.addPass(createEmitEntryPointPass({opts.prefix.getValue(),
                                       opts.mainAlias.getValue(),
                                       hasGpu(opts)}));
  addUpstream(pm, "canonicalize,cse");
}

void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &opts) {
  buildCpuLoopsPipeline(pm, opts);
  buildCpuToLLVMPipeline(pm, opts);
}

void registerAttnPipelines() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "attn-cpu-pipeline",
      "lower attn ops on tensors to LLVM dialect for the host CPU",
      buildCpuPipeline);
  PassPipelineRegistration<CpuPipelineOptions>(
      "attn-cpu-loops-pipeline",
      "lower attn ops on tensors to flash loop nests on buffers",
      buildCpuLoopsPipeline);
  PassPipelineRegistration<CpuPipelineOptions>(
      "attn-cpu-to-llvm-pipeline",
      "lower flash loop nests on buffers to LLVM dialect",
      buildCpuToLLVMPipeline);
}

} // namespace mlir::attn
