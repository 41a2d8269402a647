//===- Passes.h - attn passes -----------------------------------*- C++ -*-===//
#ifndef ATTN_PASSES_PASSES_H
#define ATTN_PASSES_PASSES_H

#include "dialect/AttnOps.h"
#include "passes/ScheduleHeuristics.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Attaches the ScheduledOpInterface models of the attn ops (the schedule
/// heuristics live in this library, not in the dialect).
void registerScheduleModels(DialectRegistry &registry);

/// The heuristics' view of an attention op: its shape, and whether its
/// modifiers allow packing heads.
AttentionProblem getAttentionProblem(AttentionOpInterface op);
/// `params` as an #attn.schedule (null, after `emitError`, if it is not
/// one) and back.
ScheduleAttr getScheduleAttr(function_ref<InFlightDiagnostic()> emitError,
                             MLIRContext *context,
                             const ScheduleParams &params);
ScheduleParams getScheduleParams(ScheduleAttr schedule);

/// Name of the module attribute holding the model's typed tensor table.
inline constexpr llvm::StringLiteral kSignatureAttrName = "attn.signature";
/// Name of the module attribute naming the entry function.
inline constexpr llvm::StringLiteral kEntryAttrName = "attn.entry";
/// Name of the argument/result attribute giving a tensor's user-facing name.
inline constexpr llvm::StringLiteral kNameAttrName = "attn.name";
/// Unit attribute on the private function that runs an attn.sdpa on the GPU.
inline constexpr llvm::StringLiteral kGpuHostAttrName = "attn.gpu_host";
/// Unit attribute on an scf.parallel whose iterations must run at once, on
/// threads of their own (attnrt_cooperative_for; --attn-emulate-gpu), and
/// the barrier between them.
inline constexpr llvm::StringLiteral kCooperativeAttrName = "attn.cooperative";
inline constexpr llvm::StringLiteral kCooperativeBarrier =
    "attnrt_cooperative_barrier";
/// Unit attribute on an entry argument that is a model weight (role weight).
inline constexpr llvm::StringLiteral kWeightAttrName = "attn.weight";

} // namespace mlir::attn

#endif // ATTN_PASSES_PASSES_H
