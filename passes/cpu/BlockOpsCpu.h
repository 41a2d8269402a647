//===- BlockOpsCpu.h - CPU loops for transformer-block ops ------*- C++ -*-===//
#ifndef ATTN_PASSES_CPU_BLOCKOPSCPU_H
#define ATTN_PASSES_CPU_BLOCKOPSCPU_H

#include "dialect/AttnOps.h"

namespace mlir::attn {

/// What the block-op lowerings need to know about the target and module.
struct BlockLoweringContext {
  ModuleOp module;       // where constant tables (RoPE) go
  int64_t vectorWidth;   // f32 lanes per vector
};

/// Emits loops for one block op other than attn.linear (norms, RoPE,
/// activations, add/mul, head split/merge, chunk, embedding, rows) at the
/// builder's insertion point and returns the result tensor; null for other
/// ops.
Value lowerBlockOpToLoops(OpBuilder &b, Operation *op,
                          const BlockLoweringContext &ctx);

/// attn.linear as a packed, tiled, register-blocked GEMM with its epilogue
/// fused (GemmCpu.cpp). The op must carry its #attn.gemm_schedule. With
/// `constantWeight` (the weight is a model weight: the same data on every
/// run), the packed weight is made once and kept by the runtime.
Value lowerLinearToLoops(OpBuilder &b, LinearOp op, ModuleOp module,
                         bool constantWeight);

} // namespace mlir::attn

#endif // ATTN_PASSES_CPU_BLOCKOPSCPU_H
