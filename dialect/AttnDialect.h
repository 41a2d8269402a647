//===- AttnDialect.h - attn dialect, attributes, interfaces -----*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTNDIALECT_H
#define ATTN_DIALECT_ATTNDIALECT_H

#include "dialect/MaskTiling.h"
#include "dialect/SizeLimits.h"
#include "dialect/ScoreModifiers.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir::attn {
// Defined by the passes library (passes/ScheduleHeuristics.h), which attaches
// the ScheduledOpInterface models.
struct ScheduleTarget;
struct ScheduleOverride;

/// What the values of a tensor mean (runtime/AttnModel.h attn_content).
enum class TensorContent : int32_t {
  Data = 0,
  Lengths = 1,
  Segments = 2,
  Tokens = 3, // token ids in [0, bound)
};
} // namespace mlir::attn

namespace mlir::attn {
/// The problem sizes of an attention op (AttentionOpInterface).
struct AttentionShape {
  int64_t batch, queryHeads, kvHeads, querySeq, kvSeq, headDim, valueDim;
};
} // namespace mlir::attn

#include "dialect/AttnDialect.h.inc"
#include "dialect/AttnEnums.h.inc"
#include "dialect/AttnAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/AttnAttrs.h.inc"

// The op interfaces' default methods use the attributes.
#include "dialect/AttnOpInterfaces.h.inc"

namespace mlir::attn {
/// Tile classification of one head over all query tiles, with full lengths
/// and no segments (what is known at compile time).
TileCounts countTiles(MaskAttrInterface mask, int64_t sq, int64_t skv,
                      int64_t tileQ, int64_t tileKv);
/// Visible (query, key) pairs of one head, with full lengths and no segments.
int64_t countVisiblePairs(MaskAttrInterface mask, int64_t sq, int64_t skv);
} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTNDIALECT_H
