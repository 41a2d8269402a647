//===- GemmCpu.cpp - attn.linear as a packed, tiled GEMM ------------------===//
//
// C[M, N] = epilogue(A[M, K] · B[K, N]) with A the input (all leading dims
// are rows), B the weight read through its layout, and the epilogue
// bias → activation → · gate → + residual. Per #attn.gemm_schedule
// (vector_width w, rows r, vecs v, tile_m, tile_n, tile_k), nr = v·w:
//
//   1. pack B into panels of nr columns, [N/nr][K][nr] (one scf.parallel
//      over panels; columns past N repeat column N-1 and are never stored);
//   2. one scf.parallel over tile_m × tile_n output tiles; per tile, per K
//      block of tile_k (peeled: the first block starts from zero, the last
//      applies the epilogue), per panel, per r rows: the shared micro-kernel
//      (MicroKernel.h) keeps r × v accumulators in registers, broadcasting
//      A[i, k] and loading B's panel row.
//
// A K-block's panel (tile_k × nr floats) stays in L1 while every row block
// of the tile passes over it; the tile's A block (tile_m × tile_k) stays in
// L2 across the tile's panels. Columns past N are masked off in C (loads
// and stores), rows past M use a smaller kernel.
//
//===----------------------------------------------------------------------===//
#include "passes/cpu/BlockOpsCpu.h"
#include "passes/cpu/MicroKernel.h"
#include "passes/cpu/VectorLoops.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::attn {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// One scf.parallel over [0, n) with `body(b, iv)`.
void parallelFor(OpBuilder &b, Location loc, int64_t n,
                 const std::function<void(OpBuilder &, Value)> &body) {
  IndexMath im{b, loc};
  scf::ParallelOp::create(b, loc, ValueRange{im.c(0)}, ValueRange{im.c(n)},
                          ValueRange{im.c(1)},
                          [&](OpBuilder &nb, Location, ValueRange ivs) {
                            body(nb, ivs[0]);
                          });
}

/// scf.for over [from, to) step `step` with `body(b, iv)`.
void forLoop(OpBuilder &b, Location loc, Value from, Value to, int64_t step,
             const std::function<void(OpBuilder &, Value)> &body) {
  scf::ForOp::create(b, loc, from, to, IndexMath{b, loc}.c(step), ValueRange{},
                     [&](OpBuilder &nb, Location, Value iv, ValueRange) {
                       body(nb, iv);
                       scf::YieldOp::create(nb, loc);
                     });
}

class GemmLowering {
public:
  GemmLowering(OpBuilder &b, LinearOp op) : b(b), op(op), loc(op.getLoc()) {
    LinearOp::Shape shape = op.getShape();
    m = shape.m;
    k = shape.k;
    n = shape.n;
    GemmScheduleAttr s = op.getScheduleAttr();
    width = s.getVectorWidth();
    rows = s.getRows();
    vecs = s.getVecs();
    nr = s.getPanelWidth();
    tileM = s.getTileM();
    tileK = s.getTileK();
    panelsPerTile = s.getTileN() / nr;
    panels = ceilDiv(n, nr);
    vectorType = VectorType::get({width}, b.getF32Type());
    masked = n % width != 0;
  }

  Value build() {
    a = flatBuffer(b, loc, op.getInput());
    weight = flatBuffer(b, loc, op.getWeight());
    if (op.getBias())
      bias = flatBuffer(b, loc, op.getBias());
    if (op.getGate())
      gate = flatBuffer(b, loc, op.getGate());
    if (op.getResidual())
      residual = flatBuffer(b, loc, op.getResidual());
    Value out;
    std::tie(out, c) = allocResult(b, loc, op.getResult().getType());
    packed = memref::AllocOp::create(
        b, loc, MemRefType::get({panels * k * nr}, b.getF32Type()),
        ValueRange{}, b.getI64IntegerAttr(64));
    pack();
    compute();
    return resultTensor(b, loc, op.getResult().getType(), out);
  }

private:
  /// Packs the weight: packed[(p·K + kk)·nr + j] = B[kk, p·nr + j].
  void pack() {
    parallelFor(b, loc, panels, [&](OpBuilder &pb, Value p) {
      IndexMath im{pb, loc};
      Value panelBase = im.mul(im.mul(p, k), nr);
      if (op.isWeightInOut())
        packInOut(pb, p, panelBase);
      else
        packOutIn(pb, p, panelBase);
    });
  }

  /// B[kk, col] = W[kk, col] (W is [K, N]): panel rows are runs of W's rows.
  void packInOut(OpBuilder &pb, Value p, Value panelBase) {
    IndexMath im{pb, loc};
    forLoop(pb, loc, im.c(0), im.c(k), 1, [&](OpBuilder &kb, Value kk) {
      IndexMath km{kb, loc};
      for (int64_t jv = 0; jv < vecs; ++jv) {
        Value col = km.add(km.mul(p, nr), jv * width);
        Value v;
        if (!masked) {
          // Whole vectors past N (the last panel) repeat the last vector.
          col = km.min(col, km.c(n - width));
          v = loadVector(kb, loc, vectorType, weight,
                         km.add(km.mul(kk, n), col));
        } else {
          v = maskedLoad(kb, weight, km.add(km.mul(kk, n), col), col);
        }
        storeVector(kb, loc, v, packed,
                    km.add(km.add(panelBase, km.mul(kk, nr)), jv * width));
      }
    });
  }

  /// B[kk, col] = W[col, kk] (W is [N, K]): transposes nr × w blocks.
  void packOutIn(OpBuilder &pb, Value p, Value panelBase) {
    IndexMath im{pb, loc};
    SmallVector<Value> rowBase;
    for (int64_t j = 0; j < nr; ++j) {
      Value col = im.min(im.add(im.mul(p, nr), j), im.c(n - 1));
      rowBase.push_back(im.mul(col, k));
    }
    forEachVector(pb, loc, im.c(0), k, width,
                  [&](OpBuilder &kb, Value kk, VectorType vt) {
      IndexMath km{kb, loc};
      int64_t w = vt.getNumElements();
      SmallVector<Value> block; // nr vectors of w consecutive k
      for (int64_t j = 0; j < nr; ++j)
        block.push_back(
            loadVector(kb, loc, vt, weight, km.add(rowBase[j], kk)));
      for (int64_t t = 0; t < w; ++t) {
        Value dst = km.add(panelBase, km.mul(km.add(kk, t), nr));
        for (int64_t jv = 0; jv < vecs; ++jv) {
          SmallVector<Value> lanes;
          for (int64_t l = 0; l < width; ++l)
            lanes.push_back(vector::ExtractOp::create(
                kb, loc, block[jv * width + l], ArrayRef<int64_t>{t}));
          Value v = vector::FromElementsOp::create(kb, loc, vectorType, lanes);
          storeVector(kb, loc, v, packed, km.add(dst, jv * width));
        }
      }
    });
  }

  /// The lanes of a vector at column `col` that lie below N.
  Value columnMask(OpBuilder &eb, Value col) {
    IndexMath im{eb, loc};
    Value left = arith::SubIOp::create(
        eb, loc, im.c(n), arith::MinUIOp::create(eb, loc, col, im.c(n)));
    Value lanes = im.min(left, im.c(width));
    return vector::CreateMaskOp::create(
        eb, loc, VectorType::get({width}, eb.getI1Type()), ValueRange{lanes});
  }
  Value maskedLoad(OpBuilder &eb, Value memref, Value index, Value col) {
    Value zero = splat(eb, loc, vectorType, 0);
    return vector::MaskedLoadOp::create(eb, loc, vectorType, memref,
                                        ValueRange{index},
                                        columnMask(eb, col), zero);
  }
  /// A vector of a [M, N] (or [N] when `row` is null) buffer at (row, col).
  Value loadRowVector(OpBuilder &eb, Value memref, Value row, Value col) {
    IndexMath im{eb, loc};
    Value index = row ? im.add(im.mul(row, n), col) : col;
    return masked ? maskedLoad(eb, memref, index, col)
                  : loadVector(eb, loc, vectorType, memref, index);
  }
  void storeC(OpBuilder &eb, Value v, Value row, Value col) {
    IndexMath im{eb, loc};
    Value index = im.add(im.mul(row, n), col);
    if (masked)
      vector::MaskedStoreOp::create(eb, loc, c, ValueRange{index},
                                    columnMask(eb, col), v);
    else
      storeVector(eb, loc, v, c, index);
  }

  /// Columns past N exist only in the last panel: there, C's loads and
  /// stores are masked. Whole-vector masks are needed only when N is not a
  /// multiple of the vector width; otherwise the padded vectors of the last
  /// panel are skipped by clamping (see kernel()).
  void kernel(OpBuilder &kb, Value i0, Value p, int64_t numRows, Value k0,
              Value k1, bool first, bool last) {
    IndexMath im{kb, loc};
    Value panelBase = im.mul(im.mul(p, k), nr);
    Value col0 = im.mul(p, nr);
    MicroKernel mk;
    mk.rows = numRows;
    mk.vecs = vecs;
    mk.vectorType = vectorType;
    mk.kBegin = k0;
    mk.kEnd = k1;
    mk.loadA = [&](OpBuilder &lb, Value kk, int64_t i) -> Value {
      IndexMath lm{lb, loc};
      return memref::LoadOp::create(
          lb, loc, a, ValueRange{lm.add(lm.mul(lm.add(i0, i), k), kk)});
    };
    mk.loadB = [&](OpBuilder &lb, Value kk, int64_t j) -> Value {
      IndexMath lm{lb, loc};
      return loadVector(lb, loc, vectorType, packed,
                        lm.add(lm.add(panelBase, lm.mul(kk, nr)), j * width));
    };
    // Vectors past N in the last panel (N a multiple of the width) are
    // neither loaded nor stored.
    auto inRange = [&](OpBuilder &eb, Value col) -> Value {
      return arith::CmpIOp::create(eb, loc, arith::CmpIPredicate::ult, col,
                                   IndexMath{eb, loc}.c(n));
    };
    bool partialPanel = !masked && n % nr != 0;
    mk.init = [&](OpBuilder &ib, int64_t i, int64_t j) -> Value {
      if (first)
        return splat(ib, loc, vectorType, 0);
      IndexMath lm{ib, loc};
      Value col = lm.add(col0, j * width);
      if (partialPanel)
        col = lm.min(col, lm.c(n - width));
      return loadRowVector(ib, c, lm.add(i0, i), col);
    };
    mk.epilogue = [&](OpBuilder &eb, ArrayRef<Value> acc) {
      for (int64_t i = 0; i < numRows; ++i)
        for (int64_t j = 0; j < vecs; ++j) {
          IndexMath lm{eb, loc};
          Value row = lm.add(i0, i), col = lm.add(col0, j * width);
          auto store = [&](OpBuilder &sb) {
            Value v = acc[i * vecs + j];
            if (last)
              v = applyEpilogue(sb, v, row, col);
            storeC(sb, v, row, col);
          };
          if (!partialPanel) {
            store(eb);
            continue;
          }
          scf::IfOp::create(eb, loc, inRange(eb, col),
                            [&](OpBuilder &sb, Location) {
                              store(sb);
                              scf::YieldOp::create(sb, loc);
                            });
        }
    };
    buildMicroKernel(kb, loc, mk);
  }

  /// bias → activation → · gate → + residual.
  Value applyEpilogue(OpBuilder &eb, Value v, Value row, Value col) {
    if (bias)
      v = arith::AddFOp::create(eb, loc, v,
                                loadRowVector(eb, bias, Value(), col));
    v = buildActivation(eb, loc, op.getActivationOrNone(), v);
    if (gate)
      v = arith::MulFOp::create(eb, loc, v, loadRowVector(eb, gate, row, col));
    if (residual)
      v = arith::AddFOp::create(eb, loc, v,
                                loadRowVector(eb, residual, row, col));
    return v;
  }

  /// One K block of one output tile: every panel, every row block.
  void kBlock(OpBuilder &tb, Value m0, Value mEnd, Value p0, Value pEnd,
              Value k0, bool first, bool last) {
    IndexMath im{tb, loc};
    Value k1 = im.min(im.add(k0, tileK), im.c(k));
    int64_t fullRows = m / rows * rows, rest = m % rows;
    forLoop(tb, loc, p0, pEnd, 1, [&](OpBuilder &pb, Value p) {
      IndexMath pm{pb, loc};
      forLoop(pb, loc, m0, pm.min(mEnd, pm.c(fullRows)), rows,
              [&](OpBuilder &rb, Value i0) {
                kernel(rb, i0, p, rows, k0, k1, first, last);
              });
      if (rest == 0)
        return;
      Value hasRest = arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::ugt,
                                            mEnd, pm.c(fullRows));
      scf::IfOp::create(pb, loc, hasRest, [&](OpBuilder &rb, Location) {
        kernel(rb, IndexMath{rb, loc}.c(fullRows), p, rest, k0, k1, first,
               last);
        scf::YieldOp::create(rb, loc);
      });
    });
  }

  void compute() {
    int64_t tilesM = ceilDiv(m, tileM), tilesN = ceilDiv(panels, panelsPerTile);
    int64_t blocks = ceilDiv(k, tileK);
    parallelFor(b, loc, tilesM * tilesN, [&](OpBuilder &tb, Value t) {
      IndexMath im{tb, loc};
      Value m0 = im.mul(im.div(t, tilesN), tileM);
      Value mEnd = im.min(im.add(m0, tileM), im.c(m));
      Value p0 = im.mul(im.rem(t, tilesN), panelsPerTile);
      Value pEnd = im.min(im.add(p0, panelsPerTile), im.c(panels));
      kBlock(tb, m0, mEnd, p0, pEnd, im.c(0), true, blocks == 1);
      if (blocks > 2)
        forLoop(tb, loc, im.c(tileK), im.c((blocks - 1) * tileK), tileK,
                [&](OpBuilder &kb, Value k0) {
                  kBlock(kb, m0, mEnd, p0, pEnd, k0, false, false);
                });
      if (blocks > 1)
        kBlock(tb, m0, mEnd, p0, pEnd, im.c((blocks - 1) * tileK), false,
               true);
    });
  }

  OpBuilder &b;
  LinearOp op;
  Location loc;
  int64_t m, k, n, width, rows, vecs, nr, tileM, tileK, panelsPerTile, panels;
  VectorType vectorType;
  bool masked; // N is not a multiple of the vector width
  Value a, weight, bias, gate, residual, c, packed;
};

} // namespace

Value lowerLinearToLoops(OpBuilder &b, LinearOp op) {
  return GemmLowering(b, op).build();
}

} // namespace mlir::attn
