//===- AttnDialect.cpp - attn dialect and attributes ----------------------===//
//
// Dialect registration and the attributes' helpers: the mask's visible-key
// query (used by the lowering for tile skipping and by FLOP counting) and the
// schedule verifier.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnDialect.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

#include "dialect/AttnDialect.cpp.inc"
#include "dialect/AttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/AttnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/AttnAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// MaskAttr
//===----------------------------------------------------------------------===//

std::pair<int64_t, int64_t> MaskAttr::getKeyRange(int64_t row, int64_t sq,
                                                  int64_t skv) const {
  switch (getKind()) {
  case MaskKind::none:
    return {0, skv};
  case MaskKind::causal:
    return {0, std::clamp<int64_t>(row + (skv - sq) + 1, 0, skv)};
  }
  llvm_unreachable("unknown mask kind");
}

std::pair<Value, Value> MaskAttr::buildKeyRange(OpBuilder &b, Location loc,
                                                Value row, int64_t sq,
                                                int64_t skv) const {
  // `row` is an index or a vector of indices; constants follow its type.
  auto cst = [&](int64_t v) -> Value {
    if (auto vecType = dyn_cast<VectorType>(row.getType()))
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vecType, b.getIndexAttr(v)));
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value zero = cst(0), end = cst(skv);
  switch (getKind()) {
  case MaskKind::none:
    return {zero, end};
  case MaskKind::causal: {
    Value limit = arith::AddIOp::create(b, loc, row, cst(skv - sq + 1));
    limit = arith::MaxSIOp::create(b, loc, limit, zero);
    return {zero, arith::MinSIOp::create(b, loc, limit, end)};
  }
  }
  llvm_unreachable("unknown mask kind");
}

int64_t MaskAttr::countVisiblePairs(int64_t sq, int64_t skv) const {
  int64_t pairs = 0;
  for (int64_t row = 0; row < sq; ++row) {
    auto [begin, end] = getKeyRange(row, sq, skv);
    pairs += end - begin;
  }
  return pairs;
}

MaskAttr::TileCounts MaskAttr::countTiles(int64_t sq, int64_t skv,
                                          int64_t tileQ, int64_t tileKv) const {
  // The same interval reasoning as the lowering (see buildQueryTile in
  // passes/LowerAttentionToLoops.cpp): ranges of the first and last row.
  TileCounts counts;
  int64_t kvTiles = llvm::divideCeil(skv, tileKv);
  for (int64_t q0 = 0; q0 < sq; q0 += tileQ) {
    int64_t last = std::min(q0 + tileQ, sq) - 1;
    auto [firstBegin, firstEnd] = getKeyRange(q0, sq, skv);
    auto [lastBegin, lastEnd] = getKeyRange(last, sq, skv);
    int64_t live = llvm::divideCeil(lastEnd, tileKv) - firstBegin / tileKv;
    int64_t full = std::max<int64_t>(
        0, firstEnd / tileKv - llvm::divideCeil(lastBegin, tileKv));
    counts.full += full;
    counts.boundary += live - full;
    counts.skipped += kvTiles - live;
  }
  return counts;
}

//===----------------------------------------------------------------------===//
// ScheduleAttr
//===----------------------------------------------------------------------===//

LogicalResult
ScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t tileQ, int64_t tileKv, int64_t vectorWidth,
                     int64_t qkKeys, int64_t qkQvecs, int64_t pvRows,
                     int64_t pvVecs) {
  std::pair<const char *, int64_t> fields[] = {
      {"tile_q", tileQ},   {"tile_kv", tileKv}, {"vector_width", vectorWidth},
      {"qk_keys", qkKeys}, {"qk_qvecs", qkQvecs}, {"pv_rows", pvRows},
      {"pv_vecs", pvVecs}};
  for (auto [name, value] : fields)
    if (value <= 0)
      return emitError() << "expected " << name << " to be positive, got "
                         << value;
  if (!llvm::isPowerOf2_64(vectorWidth) || vectorWidth > 64)
    return emitError() << "expected vector_width to be a power of two <= 64, "
                          "got "
                       << vectorWidth;
  if (tileQ % (qkQvecs * vectorWidth) != 0)
    return emitError() << "expected tile_q (" << tileQ
                       << ") to be a multiple of qk_qvecs * vector_width ("
                       << qkQvecs * vectorWidth << ")";
  if (tileQ % pvRows != 0)
    return emitError() << "expected tile_q (" << tileQ
                       << ") to be a multiple of pv_rows (" << pvRows << ")";
  if (tileKv % qkKeys != 0)
    return emitError() << "expected tile_kv (" << tileKv
                       << ") to be a multiple of qk_keys (" << qkKeys << ")";
  return success();
}
