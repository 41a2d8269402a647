//===- AttnDialect.cpp - attn dialect and attributes ----------------------===//
//
// Dialect registration and the attributes: #attn.mask (its syntax, verifier
// and its MaskAttrInterface answers) and the schedule verifier.
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
#include "dialect/AttnAttrInterfaces.cpp.inc"
#include "dialect/AttnOpInterfaces.cpp.inc"

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

LogicalResult MaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               MaskKind kind, int64_t left, int64_t right,
                               ArrayRef<int64_t> global) {
  if ((left < 0) != (right < 0) || left < -1 || right < -1)
    return emitError() << "expected window sizes to be non-negative, got ["
                       << left << ", " << right << "]";
  // Positions are int64 arithmetic in the lowering: keep pos ± size exact.
  constexpr int64_t kMaxWindow = int64_t(1) << 40;
  if (left > kMaxWindow || right > kMaxWindow)
    return emitError() << "expected window sizes of at most 2^40, got ["
                       << left << ", " << right << "]";
  if (kind == MaskKind::causal && right > 0)
    return emitError() << "expected a causal window to have right = 0 "
                          "(causal hides later keys), got "
                       << right;
  for (auto [i, p] : llvm::enumerate(global)) {
    if (p < 0)
      return emitError() << "expected global positions to be non-negative, "
                            "got "
                         << p;
    if (i > 0 && global[i - 1] >= p)
      return emitError() << "expected global positions to be sorted and "
                            "distinct, got "
                         << global[i - 1] << " before " << p;
  }
  return success();
}

Attribute MaskAttr::parse(AsmParser &parser, Type) {
  // `<` kind [`,` `window` `=` `[` L `,` R `]`] [`,` `global` `=` `[` P... `]`] `>`
  StringRef kindName;
  SMLoc kindLoc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseKeyword(&kindName))
    return {};
  std::optional<MaskKind> kind = symbolizeMaskKind(kindName);
  if (!kind) {
    parser.emitError(kindLoc) << "expected mask kind 'none' or 'causal', got '"
                              << kindName << "'";
    return {};
  }
  int64_t left = -1, right = -1;
  SmallVector<int64_t> global;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "window") {
      if (parser.parseLSquare() || parser.parseInteger(left) ||
          parser.parseComma() || parser.parseInteger(right) ||
          parser.parseRSquare())
        return {};
    } else if (key == "global") {
      if (parser.parseCommaSeparatedList(
              AsmParser::Delimiter::Square, [&]() -> ParseResult {
                return parser.parseInteger(global.emplace_back());
              }))
        return {};
    } else {
      parser.emitError(keyLoc) << "expected 'window' or 'global', got '"
                               << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<MaskAttr>(parser.getContext(), *kind, left, right,
                                     global);
}

void MaskAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyMaskKind(getKind());
  if (hasWindow())
    printer << ", window = [" << getWindowLeft() << ", " << getWindowRight()
            << "]";
  if (!getGlobal().empty()) {
    printer << ", global = [";
    llvm::interleaveComma(getGlobal(), printer);
    printer << "]";
  }
  printer << ">";
}

/// The local keys of `row`, written once for both arithmetics (see
/// MaskTiling.h): every term is a max of non-decreasing lower bounds or a min
/// of non-decreasing upper bounds, so the ends never decrease with the row.
template <typename A>
static RowKeys<typename A::V, typename A::B>
maskRowKeys(MaskAttr mask, A &a, typename A::V row,
            const MaskRuntime<typename A::V> &rt) {
  auto zero = a.c(0);
  auto pos = a.add(row, a.sub(rt.kvLen, rt.qLen));
  auto limit = rt.kvLen;
  if (mask.isCausal())
    limit = a.min(limit, a.max(a.add(pos, a.c(1)), zero));
  auto begin = zero, end = limit;
  if (mask.hasWindow()) {
    begin = a.max(begin, a.sub(pos, a.c(mask.getWindowLeft())));
    end = a.min(end, a.max(a.add(pos, a.c(mask.getWindowRight() + 1)), zero));
  }
  if (rt.segmentKeys) {
    auto [segBegin, segEnd] = rt.segmentKeys(row);
    begin = a.max(begin, segBegin);
    end = a.min(end, segEnd);
  }
  return {begin, end, limit, pos, a.lt(row, rt.qLen)};
}

StaticRowKeys MaskAttr::getRowKeys(int64_t row, int64_t, int64_t,
                                   const StaticMaskRuntime &runtime) const {
  StaticArith a;
  return maskRowKeys(*this, a, row, runtime);
}

IRRowKeys MaskAttr::buildRowKeys(OpBuilder &b, Location loc, Value row,
                                 int64_t, int64_t,
                                 const IRMaskRuntime &runtime) const {
  IRArith a{b, loc};
  return maskRowKeys(*this, a, row, runtime);
}

SmallVector<KeyRange<int64_t>> MaskAttr::getGlobalRuns() const {
  SmallVector<KeyRange<int64_t>> runs;
  for (int64_t p : getGlobal()) {
    if (!runs.empty() && runs.back().end == p)
      ++runs.back().end;
    else
      runs.push_back({p, p + 1});
  }
  return runs;
}

std::string MaskAttr::describe() const {
  std::string text = stringifyMaskKind(getKind()).str();
  llvm::raw_string_ostream os(text);
  if (hasWindow())
    os << ", window [" << getWindowLeft() << ", " << getWindowRight() << "]";
  if (!getGlobal().empty())
    os << ", " << getGlobal().size() << " global";
  return text;
}

//===----------------------------------------------------------------------===//
// ScheduleAttr
//===----------------------------------------------------------------------===//

/// Every field of a schedule is positive and the vector width a power of
/// two up to 64.
static LogicalResult
verifyScheduleFields(function_ref<InFlightDiagnostic()> emitError,
                     ArrayRef<std::pair<const char *, int64_t>> fields,
                     int64_t vectorWidth) {
  for (auto [name, value] : fields)
    if (value <= 0)
      return emitError() << "expected " << name << " to be positive, got "
                         << value;
  if (!llvm::isPowerOf2_64(vectorWidth) || vectorWidth > 64)
    return emitError() << "expected vector_width to be a power of two <= 64, "
                          "got "
                       << vectorWidth;
  return success();
}

LogicalResult
ScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t tileQ, int64_t tileKv, int64_t vectorWidth,
                     int64_t qkKeys, int64_t qkQvecs, int64_t pvRows,
                     int64_t pvVecs, int64_t headsPerTile, int64_t kvSplits,
                     int64_t prefetch, int64_t qkDot) {
  std::pair<const char *, int64_t> fields[] = {
      {"tile_q", tileQ},   {"tile_kv", tileKv}, {"vector_width", vectorWidth},
      {"qk_keys", qkKeys}, {"qk_qvecs", qkQvecs}, {"pv_rows", pvRows},
      {"pv_vecs", pvVecs}, {"heads_per_tile", headsPerTile},
      {"kv_splits", kvSplits}};
  if (failed(verifyScheduleFields(emitError, fields, vectorWidth)))
    return failure();
  if (tileQ % (qkQvecs * vectorWidth) != 0)
    return emitError() << "expected tile_q (" << tileQ
                       << ") to be a multiple of qk_qvecs * vector_width ("
                       << qkQvecs * vectorWidth << ")";
  if (tileQ % pvRows != 0)
    return emitError() << "expected tile_q (" << tileQ
                       << ") to be a multiple of pv_rows (" << pvRows << ")";
  if (prefetch != 0 && prefetch != 1)
    return emitError() << "expected prefetch to be 0 or 1, got " << prefetch;
  if (qkDot != 0 && qkDot != 1)
    return emitError() << "expected qk_dot to be 0 or 1, got " << qkDot;
  if (qkDot && vectorWidth % qkKeys != 0)
    return emitError() << "expected qk_keys (" << qkKeys
                       << ") to divide vector_width (" << vectorWidth
                       << ") with qk_dot = 1";
  if (tileQ % headsPerTile != 0)
    return emitError() << "expected tile_q (" << tileQ
                       << ") to be a multiple of heads_per_tile ("
                       << headsPerTile << ")";
  if (tileKv % qkKeys != 0)
    return emitError() << "expected tile_kv (" << tileKv
                       << ") to be a multiple of qk_keys (" << qkKeys << ")";
  return success();
}

LogicalResult
GemmScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         int64_t vectorWidth, int64_t rows, int64_t vecs,
                         int64_t tileM, int64_t tileN, int64_t tileK,
                         int64_t mGroups) {
  std::pair<const char *, int64_t> fields[] = {
      {"vector_width", vectorWidth}, {"rows", rows},       {"vecs", vecs},
      {"tile_m", tileM},             {"tile_n", tileN},   {"tile_k", tileK},
      {"m_groups", mGroups}};
  if (failed(verifyScheduleFields(emitError, fields, vectorWidth)))
    return failure();
  if (tileN % (vecs * vectorWidth) != 0)
    return emitError() << "expected tile_n (" << tileN
                       << ") to be a multiple of vecs * vector_width ("
                       << vecs * vectorWidth << ")";
  if (tileM % rows != 0)
    return emitError() << "expected tile_m (" << tileM
                       << ") to be a multiple of rows (" << rows << ")";
  return success();
}
