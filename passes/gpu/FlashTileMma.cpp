//===- FlashTileMma.cpp - one flash tile on tensor cores ------------------===//
//
// The f16/bf16 tile computation: FlashAttention-2's warp layout on
// mma.sync m16n8k16 (f32 accumulators). A block of 2 · tile_q threads is
// tile_q / 16 warps; warp w owns tile rows [16w, 16w + 16), and lane l of
// it the rows g = 16w + l/4 and g + 8 at columns 2 (l % 4) + {0, 1} of
// every 8-column accumulator fragment (PTX ISA, "mma.m16n8k16" fragment
// layouts).
//
//   begin:   cp.async the Q tile into shared memory; with D <= 128 each warp
//            keeps its Q fragments in registers (ldmatrix)
//   kv tile: cp.async K, unless the previous tile prefetched it
//            wait; barrier; cp.async V
//            S = Q · Kᵀ            mma.sync, K fragments by ldmatrix
//            S · scale · log2(e), modifiers, mask (boundary tiles)
//            m' = max(m, rowmax S)  (4-lane shuffles)
//            P = exp2(S - m'); l = α l + Σ P (per thread); O = α O
//            wait for V; barrier; cp.async the next tile's K (if the loop
//            goes on)
//            O += P · V            P's accumulators packed to 16 bits are
//                                  the A fragments; V fragments by
//                                  ldmatrix.trans
//
// So the V copy runs during Q · Kᵀ and the softmax, the next K copy during
// P · V (FlashAttention-2's order), with one K and one V buffer.
//   end:     l summed over the 4 lanes of a row; out = O / l, lse (with kv
//            splits into the chunk's f32 partial buffers)
//
// Tile row r is query query(r) of head head(r) (packed heads for decode:
// the Q copy gathers each row from its head).
//
// Shared tiles keep the input type, rows padded by 8 elements so that the 8
// row addresses of one ldmatrix fall in different banks. The accumulators
// and statistics live in private arrays indexed by constants only (LLVM
// keeps them in registers). Every thread of a block runs the same kv loop,
// so the barriers and warp collectives are reached uniformly.
//
//===----------------------------------------------------------------------===//
#include "passes/gpu/FlashTileGpu.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::attn {

namespace {

/// Query rows in registers up to this head dim (its fragments take D / 4
/// registers per thread); wider heads reload them from shared memory.
constexpr int64_t kQueryInRegistersMaxDim = 128;

class MmaFlashTile final : public FlashTileComputation, GpuTileBuilder {
public:
  MmaFlashTile(SdpaOp op, const FlashBuffers &buffers, FlashTiling &tiling,
               const GpuTileMemory &memory)
      : GpuTileBuilder(op.getLoc()), shape(op.getShape()), buffers(buffers),
        tiling(tiling), mem(memory), modifiers(op.getScoreModifiers()),
        tileQ(op.getScheduleAttr().getTileQ()),
        tileKv(op.getScheduleAttr().getTileKv()),
        element(cast<MemRefType>(buffers.key.getType()).getElementType()),
        packScale(op.getScaleOrDefault() * llvm::numbers::log2ef) {}

  bool usesRowTable() const override { return false; }
  void beginQueryTile(OpBuilder &builder, const QueryTile &qt) override;
  void computeKvTile(OpBuilder &builder, Value kv0, bool boundary) override;
  void endQueryTile(OpBuilder &builder) override;

private:
  Value addc(Value x, int64_t c) { return c ? add(x, idx(c)) : x; }
  Value mulc(Value x, int64_t c) {
    return arith::MulIOp::create(*b, loc, x, idx(c));
  }
  Value divc(Value x, int64_t c) {
    return arith::DivUIOp::create(*b, loc, x, idx(c));
  }
  Value remc(Value x, int64_t c) {
    return arith::RemUIOp::create(*b, loc, x, idx(c));
  }
  VectorType pairType(Type t) { return VectorType::get({2}, t); }
  Value splat(VectorType type, Value scalar) {
    return vector::BroadcastOp::create(*b, loc, type, scalar);
  }
  Value zeros(VectorType type) {
    return arith::ConstantOp::create(*b, loc, b->getZeroAttr(type));
  }
  Value loadPair(Value memory, int64_t at) {
    return vector::LoadOp::create(*b, loc, pairType(b->getF32Type()), memory,
                                  ValueRange{idx(at)});
  }
  void storePair(Value v, Value memory, int64_t at) {
    vector::StoreOp::create(*b, loc, v, memory, ValueRange{idx(at)});
  }
  Value loadStat(int64_t i) {
    return memref::LoadOp::create(*b, loc, mem.stats, ValueRange{idx(i)});
  }
  void storeStat(Value v, int64_t i) {
    memref::StoreOp::create(*b, loc, v, mem.stats, ValueRange{idx(i)});
  }

  /// The block copies `rows` rows of `source` into `tileMem` with 16-byte
  /// cp.async, as one commit group (returned): tile row r from (batch,
  /// head, row) = (tile.batch, rowAt(r)).
  Value asyncCopyRows(Value source,
                      function_ref<std::pair<Value, Value>(Value)> rowAt,
                      int64_t rows, Value tileMem, int64_t cols);
  /// The same for keys [first, first + rows) of the tile's kv head, keys
  /// past the sequence clamped to its last.
  Value asyncCopyKeys(Value source, Value first, int64_t rows, Value tileMem,
                      int64_t cols);
  /// ldmatrix x4 (optionally .trans) of `tileMem`, lane l giving the address
  /// (`row`, `col`) of row l % 8 of matrix l / 8 (the callers place the
  /// four 8x8 matrices).
  Value ldmatrix(Value tileMem, Value row, Value col, bool transpose);
  /// Rows {0, 1} or {2, 3} of an x4 ldmatrix result: one B fragment.
  Value bFragment(Value x4, int64_t half);
  Value mma(Value a, Value bFrag, Value c);
  /// The max or sum of `x` over the 4 lanes of a row.
  Value quadReduce(Value x, bool max);
  /// Fragment row `i` (0: row g, 1: row g + 8) of a vector<2x2xf32>.
  Value fragRow(Value frag, int64_t i) {
    return vector::ExtractOp::create(*b, loc, frag, ArrayRef<int64_t>{i});
  }
  Value fromRows(Value row0, Value row1) {
    auto type = VectorType::get({2, 2}, cast<VectorType>(row0.getType())
                                            .getElementType());
    Value v = vector::InsertOp::create(*b, loc, row0, zeros(type),
                                       ArrayRef<int64_t>{0});
    return vector::InsertOp::create(*b, loc, row1, v, ArrayRef<int64_t>{1});
  }
  Value queryFragment(int64_t k);
  /// Waits until at most `pending` commit groups of this thread (the last
  /// `group`) are in flight, then for the block's threads.
  void waitGroups(Value group, int32_t pending);
  /// Waits for every copy of this thread in flight (no barrier).
  void waitAll();

  AttentionShape shape;
  FlashBuffers buffers;
  FlashTiling &tiling;
  GpuTileMemory mem;
  SmallVector<ScoreModifierAttrInterface> modifiers;
  int64_t tileQ, tileKv;
  Type element; // f16 or bf16
  float packScale;
  // The current query tile and the thread's place in it.
  QueryTile tile;
  Value lane, warpRow, quad; // lane, 16 · warp, lane % 4
  Value rows[2];             // tile rows g, g + 8
  RowVisibility visibility[2];
  SmallVector<Value> queryFragments; // in registers (D <= 128)
};

Value MmaFlashTile::asyncCopyKeys(Value source, Value first, int64_t rows,
                                 Value tileMem, int64_t cols) {
  return asyncCopyRows(
      source,
      [&](Value r) -> std::pair<Value, Value> {
        return {tile.kvHead, arith::MinUIOp::create(*b, loc, add(first, r),
                                                    idx(shape.kvSeq - 1))};
      },
      rows, tileMem, cols);
}

Value MmaFlashTile::asyncCopyRows(
    Value source, function_ref<std::pair<Value, Value>(Value)> rowAt,
    int64_t rowCount, Value tileMem, int64_t cols) {
  // Chunk c of the tile: row c / (cols / 8), columns 8 (c % (cols / 8)).
  int64_t perRow = cols / 8, chunks = rowCount * cols / 8;
  int64_t threads = mem.threads;
  auto copyChunk = [&](Value c) {
    Value r = divc(c, perRow);
    Value col = mulc(remc(c, perRow), 8);
    auto [head, row] = rowAt(r);
    nvgpu::DeviceAsyncCopyOp::create(
        *b, loc, nvgpu::DeviceAsyncTokenType::get(b->getContext()), tileMem,
        ValueRange{r, col}, source, ValueRange{tile.batch, head, row, col},
        b->getIndexAttr(8), /*srcElements=*/Value(), /*bypassL1=*/
        b->getUnitAttr());
  };
  for (int64_t base = 0; base < chunks; base += threads) {
    Value c = addc(mem.thread, base);
    if (base + threads <= chunks) {
      copyChunk(c);
      continue;
    }
    Value inside = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult, c,
                                         idx(chunks));
    auto ifOp = scf::IfOp::create(*b, loc, inside, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPoint(ifOp.thenYield());
    copyChunk(c);
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(
      *b, loc, nvgpu::DeviceAsyncTokenType::get(b->getContext()),
      ValueRange{});
}

void MmaFlashTile::waitGroups(Value group, int32_t pending) {
  nvgpu::DeviceAsyncWaitOp::create(*b, loc, group,
                                   b->getI32IntegerAttr(pending));
  gpu::BarrierOp::create(*b, loc);
}

void MmaFlashTile::waitAll() {
  nvgpu::DeviceAsyncWaitOp::create(
      *b, loc,
      nvgpu::DeviceAsyncCreateGroupOp::create(
          *b, loc, nvgpu::DeviceAsyncTokenType::get(b->getContext()),
          ValueRange{}),
      b->getI32IntegerAttr(0));
}

Value MmaFlashTile::ldmatrix(Value tileMem, Value row, Value col,
                             bool transpose) {
  return nvgpu::LdMatrixOp::create(*b, loc, VectorType::get({4, 2}, element),
                                   tileMem, ValueRange{row, col}, transpose,
                                   /*numTiles=*/4);
}

Value MmaFlashTile::bFragment(Value x4, int64_t half) {
  return fromRows(
      vector::ExtractOp::create(*b, loc, x4, ArrayRef<int64_t>{2 * half}),
      vector::ExtractOp::create(*b, loc, x4, ArrayRef<int64_t>{2 * half + 1}));
}

Value MmaFlashTile::mma(Value a, Value bFrag, Value c) {
  return nvgpu::MmaSyncOp::create(*b, loc, a, bFrag, c,
                                  b->getI64ArrayAttr({16, 8, 16}));
}

Value MmaFlashTile::quadReduce(Value x, bool max) {
  for (int64_t offset : {1, 2}) {
    Value other =
        gpu::ShuffleOp::create(*b, loc, x, offset, 32, gpu::ShuffleMode::XOR)
            .getShuffleResult();
    x = max ? arith::MaximumFOp::create(*b, loc, x, other).getResult()
            : arith::AddFOp::create(*b, loc, x, other).getResult();
  }
  return x;
}

Value MmaFlashTile::queryFragment(int64_t k) {
  if (!queryFragments.empty())
    return queryFragments[k];
  // A fragment of rows [16w, 16w + 16), columns [16k, 16k + 16): lanes
  // 8-15 address the lower 8 rows, lanes 16-31 the right 8 columns.
  Value row = add(warpRow, add(remc(lane, 8), mulc(remc(divc(lane, 8), 2), 8)));
  Value col = addc(mulc(divc(lane, 16), 8), 16 * k);
  return ldmatrix(mem.query, row, col, /*transpose=*/false);
}

void MmaFlashTile::beginQueryTile(OpBuilder &builder, const QueryTile &qt) {
  b = &builder;
  tile = qt;
  queryFragments.clear();
  lane = remc(mem.thread, 32);
  warpRow = mulc(divc(mem.thread, 32), 16);
  quad = remc(lane, 4);
  rows[0] = add(warpRow, divc(lane, 4));
  rows[1] = addc(rows[0], 8);
  for (int i : {0, 1})
    visibility[i] = tiling.buildRowVisibility(*b, tile, rows[i]);

  // Tile row r is query row query(r) of head head(r) (clamped into the
  // sequence).
  auto queryRow = [&](Value r) -> std::pair<Value, Value> {
    return {tile.head(*b, loc, r),
            arith::MinUIOp::create(*b, loc, tile.query(*b, loc, r),
                                   idx(shape.querySeq - 1))};
  };
  waitGroups(asyncCopyRows(buffers.query, queryRow, tileQ, mem.query,
                           shape.headDim),
             0);
  if (shape.headDim <= kQueryInRegistersMaxDim) {
    SmallVector<Value> fragments;
    for (int64_t k = 0; k < shape.headDim / 16; ++k)
      fragments.push_back(queryFragment(k));
    queryFragments = std::move(fragments);
  }

  for (int64_t at = 0; at < shape.valueDim / 2; at += 2)
    storePair(zeros(pairType(b->getF32Type())), mem.acc, at);
  for (int i : {0, 1}) {
    storeStat(f32(-std::numeric_limits<float>::infinity()), i);
    storeStat(f32(0.0f), 2 + i);
  }
  // No K tile prefetched yet.
  memref::StoreOp::create(
      *b, loc, arith::ConstantIntOp::create(*b, loc, b->getI32Type(), -1),
      mem.prefetched, ValueRange{idx(0)});
}

void MmaFlashTile::computeKvTile(OpBuilder &builder, Value kv0,
                                 bool boundary) {
  b = &builder;
  // K of this tile, unless the previous tile prefetched it. Its readers
  // (the previous tile's Q · Kᵀ) passed a barrier since; a prefetch of a
  // tile the loop skipped must land before this copy overwrites it.
  Type i32 = b->getI32Type();
  Value kv0Word = arith::IndexCastOp::create(*b, loc, i32, kv0);
  Value prefetched = memref::LoadOp::create(*b, loc, mem.prefetched,
                                            ValueRange{idx(0)});
  Value missing = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ne,
                                        prefetched, kv0Word);
  {
    auto ifOp = scf::IfOp::create(*b, loc, missing, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPoint(ifOp.thenYield());
    waitAll();
    asyncCopyKeys(buffers.key, kv0, tileKv, mem.key, shape.headDim);
  }
  // K has landed and every thread is past the previous tile's P · V: V
  // loads while Q · Kᵀ and the softmax run.
  waitAll();
  gpu::BarrierOp::create(*b, loc);
  Value valueGroup =
      asyncCopyKeys(buffers.value, kv0, tileKv, mem.value, shape.valueDim);

  // S = Q · Kᵀ: fragment j holds keys [8j, 8j + 8). One ldmatrix reads the
  // B fragments of keys [16jj, 16jj + 16) at columns [16k, 16k + 16):
  // lanes 8-15 the right 8 columns, lanes 16-31 the next 8 keys.
  int64_t keyFrags = tileKv / 8;
  VectorType accType = VectorType::get({2, 2}, b->getF32Type());
  SmallVector<Value> s(keyFrags, zeros(accType));
  Value keyRow = add(remc(lane, 8), mulc(divc(lane, 16), 8));
  Value keyCol = mulc(remc(divc(lane, 8), 2), 8);
  for (int64_t k = 0; k < shape.headDim / 16; ++k) {
    Value a = queryFragment(k);
    for (int64_t jj = 0; jj < keyFrags / 2; ++jj) {
      Value x4 = ldmatrix(mem.key, addc(keyRow, 16 * jj), addc(keyCol, 16 * k),
                          /*transpose=*/false);
      for (int64_t half : {0, 1})
        s[2 * jj + half] = mma(a, bFragment(x4, half), s[2 * jj + half]);
    }
  }

  // Scores in the log2 domain, modifiers, mask; per thread and row i the
  // pairs scores[j][i] at keys kv0 + 8j + 2 quad + {0, 1}.
  Value minusInf = f32(-std::numeric_limits<float>::infinity());
  VectorType pair = pairType(b->getF32Type());
  SmallVector<std::array<Value, 2>> scores(keyFrags);
  Value keyBase = add(kv0, mulc(quad, 2));
  Value tileMax[2] = {minusInf, minusInf};
  for (int64_t j = 0; j < keyFrags; ++j)
    for (int i : {0, 1}) {
      Value v = arith::MulFOp::create(*b, loc, fragRow(s[j], i),
                                      splat(pair, f32(packScale)));
      if (!modifiers.empty() || boundary) {
        Value query = tile.query(*b, loc, rows[i]);
        Value clamped =
            arith::MinUIOp::create(*b, loc, query, idx(shape.querySeq - 1));
        for (int64_t h : {0, 1}) {
          Value key = addc(keyBase, 8 * j + h);
          Value x = vector::ExtractOp::create(*b, loc, v, ArrayRef<int64_t>{h});
          if (!modifiers.empty())
            x = applyGpuScoreModifiers(*b, loc, modifiers, buffers, tile,
                                       rows[i], clamped, key, shape.kvSeq, x,
                                       /*keyScale=*/{});
          if (boundary)
            x = arith::SelectOp::create(
                *b, loc, tiling.buildVisible(*b, visibility[i], key), x,
                minusInf);
          v = vector::InsertOp::create(*b, loc, x, v, ArrayRef<int64_t>{h});
        }
      }
      scores[j][i] = v;
      tileMax[i] = arith::MaximumFOp::create(
          *b, loc, tileMax[i],
          vector::ReductionOp::create(*b, loc, vector::CombiningKind::MAXIMUMF,
                                      v));
    }

  // The online softmax update per row. A row that has seen no visible key
  // keeps m = -inf; subtracting 0 instead makes its exp2() exactly 0.
  Value alpha[2], safeMax[2];
  for (int i : {0, 1}) {
    Value oldMax = loadStat(i);
    Value newMax = arith::MaximumFOp::create(*b, loc, oldMax,
                                             quadReduce(tileMax[i], true));
    Value unseen = arith::CmpFOp::create(*b, loc, arith::CmpFPredicate::OEQ,
                                         newMax, minusInf);
    safeMax[i] = arith::SelectOp::create(*b, loc, unseen, f32(0.0f), newMax);
    alpha[i] = math::Exp2Op::create(
        *b, loc, arith::SubFOp::create(*b, loc, oldMax, safeMax[i]));
    storeStat(newMax, i);
  }
  Value rowSum[2] = {f32(0.0f), f32(0.0f)};
  VectorType halfPair = pairType(element);
  SmallVector<std::array<Value, 2>> probs(keyFrags);
  for (int64_t j = 0; j < keyFrags; ++j)
    for (int i : {0, 1}) {
      Value p = math::Exp2Op::create(
          *b, loc,
          arith::SubFOp::create(*b, loc, scores[j][i], splat(pair, safeMax[i])));
      rowSum[i] = arith::AddFOp::create(
          *b, loc, rowSum[i],
          vector::ReductionOp::create(*b, loc, vector::CombiningKind::ADD, p));
      probs[j][i] = arith::TruncFOp::create(*b, loc, halfPair, p);
    }
  for (int i : {0, 1})
    storeStat(math::FmaOp::create(*b, loc, loadStat(2 + i), alpha[i],
                                  rowSum[i]),
              2 + i);

  // O = α O + P · V. Output fragment n holds columns [8n, 8n + 8); the A
  // fragment of keys [16c, 16c + 16) is P's fragments 2c and 2c + 1. One
  // ldmatrix.trans reads the B fragments of columns [16nn, 16nn + 16) at
  // keys [16c, 16c + 16): lanes 8-15 the lower 8 keys, 16-31 the right 8
  // columns.
  waitGroups(valueGroup, 0);
  {
    // Every thread is past Q · Kᵀ: the next tile's K loads during P · V
    // (the next tile the loop visits may be a later one; then it loads its
    // own).
    Value next = add(kv0, idx(tileKv));
    Value end = arith::MulIOp::create(*b, loc, tiling.getKvTileEnd(),
                                      idx(tileKv));
    Value more = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult,
                                       next, end);
    auto ifOp = scf::IfOp::create(*b, loc, more, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPoint(ifOp.thenYield());
    asyncCopyKeys(buffers.key, next, tileKv, mem.key, shape.headDim);
    memref::StoreOp::create(*b, loc,
                            arith::IndexCastOp::create(*b, loc, i32, next),
                            mem.prefetched, ValueRange{idx(0)});
  }
  int64_t outFrags = shape.valueDim / 8;
  SmallVector<Value> o(outFrags);
  for (int64_t n = 0; n < outFrags; ++n) {
    Value rowsAcc[2];
    for (int i : {0, 1})
      rowsAcc[i] = arith::MulFOp::create(*b, loc, loadPair(mem.acc, 4 * n + 2 * i),
                                         splat(pair, alpha[i]));
    o[n] = fromRows(rowsAcc[0], rowsAcc[1]);
  }
  VectorType aType = VectorType::get({4, 2}, element);
  Value valueRow = add(remc(lane, 8), mulc(remc(divc(lane, 8), 2), 8));
  Value valueCol = mulc(divc(lane, 16), 8);
  for (int64_t c = 0; c < tileKv / 16; ++c) {
    Value a = zeros(aType);
    int64_t slot = 0;
    for (int64_t j : {2 * c, 2 * c + 1})
      for (int i : {0, 1})
        a = vector::InsertOp::create(*b, loc, probs[j][i], a,
                                     ArrayRef<int64_t>{slot++});
    for (int64_t nn = 0; nn < outFrags / 2; ++nn) {
      Value x4 = ldmatrix(mem.value, addc(valueRow, 16 * c),
                          addc(valueCol, 16 * nn), /*transpose=*/true);
      for (int64_t half : {0, 1})
        o[2 * nn + half] = mma(a, bFragment(x4, half), o[2 * nn + half]);
    }
  }
  for (int64_t n = 0; n < outFrags; ++n)
    for (int i : {0, 1})
      storePair(fragRow(o[n], i), mem.acc, 4 * n + 2 * i);
}

void MmaFlashTile::endQueryTile(OpBuilder &builder) {
  b = &builder;
  // A K prefetch of a tile the loop then skipped may still be in flight: it
  // lands before the block ends.
  waitAll();
  Value zero = f32(0.0f);
  Value sums[2];
  for (int i : {0, 1})
    sums[i] = quadReduce(loadStat(2 + i), /*max=*/false);
  VectorType pair = pairType(b->getF32Type());
  for (int i : {0, 1}) {
    // Rows inside the sequence store: O / l, or 0 where the row saw no key
    // or lies past the batch's q_len.
    Value inSequence = arith::CmpIOp::create(
        *b, loc, arith::CmpIPredicate::ult, rows[i], tile.rows);
    auto ifOp =
        scf::IfOp::create(*b, loc, inSequence, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPoint(ifOp.thenYield());
    Value l = sums[i];
    Value valid = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult,
                                        rows[i], tile.validRows);
    Value seen = arith::AndIOp::create(
        *b, loc, valid,
        arith::CmpFOp::create(*b, loc, arith::CmpFPredicate::OGT, l, zero));
    Value inv = arith::SelectOp::create(
        *b, loc, seen, arith::DivFOp::create(*b, loc, f32(1.0f), l), zero);
    RowOutput target = tile.output(*b, loc, buffers, rows[i]);
    Type outElement = cast<MemRefType>(target.out.getType()).getElementType();
    Value column = mulc(quad, 2);
    for (int64_t n = 0; n < shape.valueDim / 8; ++n) {
      Value out = arith::MulFOp::create(*b, loc, loadPair(mem.acc, 4 * n + 2 * i),
                                        splat(pair, inv));
      out = arith::SelectOp::create(*b, loc, valid, out, zeros(pair));
      if (!outElement.isF32())
        out = arith::TruncFOp::create(*b, loc, pairType(outElement), out);
      vector::StoreOp::create(*b, loc, out, target.out,
                              target.outAt(addc(column, 8 * n)));
    }
    if (!target.lse)
      continue;
    // The first lane of the row stores its lse.
    Value first = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::eq,
                                        quad, idx(0));
    auto lseIf = scf::IfOp::create(*b, loc, first, /*withElseRegion=*/false);
    b->setInsertionPoint(lseIf.thenYield());
    memref::StoreOp::create(*b, loc, buildRowLse(*b, loc, loadStat(i), l, seen),
                            target.lse, target.at);
  }
}

} // namespace

std::unique_ptr<FlashTileComputation>
createMmaFlashTile(SdpaOp op, const FlashBuffers &buffers, FlashTiling &tiling,
                   const GpuTileMemory &memory) {
  return std::make_unique<MmaFlashTile>(op, buffers, tiling, memory);
}

} // namespace mlir::attn
