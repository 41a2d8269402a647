//===- IRGen.h - model AST to attn IR ---------------------------*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTNC_IRGEN_H
#define ATTN_TOOLS_ATTNC_IRGEN_H

#include "tools/attnc/ModelAST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace mlir::attn {

/// Builds a module with one entry function `@attn_<model name>` taking the
/// model's inputs and returning its outputs as tensors. Every op carries the
/// file:line:col of the statement it comes from. Returns null after emitting
/// a located error (unknown op, bad argument, undefined value, or an op the
/// verifier rejects).
OwningOpRef<ModuleOp> buildModelIR(MLIRContext &context,
                                   const llvm::SourceMgr &sourceMgr,
                                   const model::Model &model);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_IRGEN_H
