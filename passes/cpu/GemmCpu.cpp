//===- GemmCpu.cpp - attn.linear as a packed, tiled GEMM ------------------===//
//
// C[M, N] = epilogue(A[M, K] · B[K, N]) with A the input (all leading dims
// are rows), B the weight read through its layout, and the epilogue
// bias → activation → · gate → + residual. Per #attn.gemm_schedule
// (vector_width w, rows r, vecs v, tile_m, tile_n, tile_k), nr = v·w:
//
//   1. pack B into panels of nr columns, [N/nr][K][nr] (one scf.parallel
//      over panels; columns past N repeat column N-1 and are never stored);
//   2. one scf.parallel over (column block of tile_n, group of m_groups'
//      share of the row tiles); per iteration, per K block of tile_k (the
//      first block starts from zero, the last applies the epilogue:
//      run-time conditions, so each kernel exists once), per row tile of
//      tile_m, per panel, per r rows: the shared micro-kernel
//      (MicroKernel.h) keeps r × v accumulators in registers, broadcasting
//      A[i, k] and loading B's panel row.
//
// Packing an [N, K] weight transposes w × w blocks in registers with
// w·log2(w) shuffles.
//
// A K-block's panel (tile_k × nr floats) stays in L1 while every row block
// of a row tile passes over it; the row tile's A block (tile_m × tile_k,
// copied with padded rows so that the kernel's rows do not collide in L1)
// stays in L2 across the panels; the column block's K block of B stays in
// L2 across the row tiles. Columns past N are masked off in C (loads
// and stores); rows past M compute on zero padding and are not stored.
//
//===----------------------------------------------------------------------===//
#include "passes/cpu/BlockOpsCpu.h"
#include "passes/cpu/MicroKernel.h"
#include "passes/cpu/VectorLoops.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::attn {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

class GemmLowering {
public:
  GemmLowering(OpBuilder &b, LinearOp op, ModuleOp module, bool constantWeight)
      : b(b), op(op), loc(op.getLoc()), module(module),
        constantWeight(constantWeight) {
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
    mGroups = s.getMGroups();
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
    if (!constantWeight) {
      packed = allocPacked(b);
      pack();
    } else {
      // A model weight is packed on the first run only: the runtime keeps
      // the packed buffer by (weight address, packing), see runtime/Memory.cpp.
      Value address = arith::IndexCastOp::create(
          b, loc, b.getI64Type(),
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, weight));
      Value tag = arith::ConstantIntOp::create(b, loc, packingTag(), 64);
      Value fresh = runtimeCall(b, "attnrt_packed_begin", {address, tag},
                                b.getI32Type());
      packed = allocPacked(b);
      Value mustPack = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ne, fresh,
          arith::ConstantIntOp::create(b, loc, 0, 32));
      scf::IfOp::create(b, loc, mustPack, [&](OpBuilder &tb, Location) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(scf::YieldOp::create(tb, loc));
        pack();
        runtimeCall(b, "attnrt_packed_end", {address, tag}, Type());
      });
    }
    compute();
    return resultTensor(b, loc, op.getResult().getType(), out);
  }

private:
  Value allocPacked(OpBuilder &ab) {
    return memref::AllocOp::create(
        ab, loc, MemRefType::get({panels * k * nr}, ab.getF32Type()),
        ValueRange{}, ab.getI64IntegerAttr(64));
  }

  /// Identifies how the weight is packed (layout, panel width, K, N), so
  /// that a weight packed two ways keeps both.
  int64_t packingTag() {
    return int64_t(llvm::hash_combine(op.isWeightInOut(), nr, k, n) &
                   0x7fffffffffffffff);
  }

  /// Calls the runtime function `name` (declared on first use).
  Value runtimeCall(OpBuilder &cb, StringRef name, ValueRange args,
                    Type result) {
    auto type = FunctionType::get(cb.getContext(), ValueRange(args).getTypes(),
                                  result ? TypeRange(result) : TypeRange());
    if (!module.lookupSymbol(name)) {
      OpBuilder mb(module.getBodyRegion());
      func::FuncOp::create(mb, loc, name, type).setPrivate();
    }
    auto call = func::CallOp::create(cb, loc, name,
                                     result ? TypeRange(result) : TypeRange(),
                                     args);
    return result ? call.getResult(0) : Value();
  }

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

  /// B[kk, col] = W[col, kk] (W is [N, K]): per vector of w columns, loads
  /// w rows of w consecutive k, transposes the block in registers and stores
  /// it as w panel rows. A K tail shorter than w goes element by element.
  void packOutIn(OpBuilder &pb, Value p, Value panelBase) {
    IndexMath im{pb, loc};
    int64_t fullK = k / width * width;
    forLoop(pb, loc, im.c(0), im.c(vecs), 1, [&](OpBuilder &jb, Value jv) {
      IndexMath jm{jb, loc};
      Value col0 = jm.add(jm.mul(p, nr), jm.mul(jv, width));
      Value dst0 = jm.add(panelBase, jm.mul(jv, width));
      SmallVector<Value> rowBase;
      for (int64_t l = 0; l < width; ++l)
        rowBase.push_back(jm.mul(jm.min(jm.add(col0, l), jm.c(n - 1)), k));
      forLoop(jb, loc, jm.c(0), jm.c(fullK), width, [&](OpBuilder &kb, Value kk) {
        IndexMath km{kb, loc};
        SmallVector<Value> block;
        for (int64_t l = 0; l < width; ++l)
          block.push_back(loadVector(kb, loc, vectorType, weight,
                                     km.add(rowBase[l], kk)));
        transposeSquare(kb, loc, block);
        for (int64_t t = 0; t < width; ++t)
          storeVector(kb, loc, block[t], packed,
                      km.add(dst0, km.mul(km.add(kk, t), nr)));
      });
      if (fullK == k)
        return;
      forLoop(jb, loc, jm.c(fullK), jm.c(k), 1, [&](OpBuilder &kb, Value kk) {
        IndexMath km{kb, loc};
        SmallVector<Value> lanes;
        for (int64_t l = 0; l < width; ++l)
          lanes.push_back(memref::LoadOp::create(
              kb, loc, weight, ValueRange{km.add(rowBase[l], kk)}));
        storeVector(kb, loc,
                    vector::FromElementsOp::create(kb, loc, vectorType, lanes),
                    packed, km.add(dst0, km.mul(kk, nr)));
      });
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
  /// The register block at rows i0..i0+rows-1 of panel p over one K block.
  /// When M is not a multiple of the block's rows, the last block's rows
  /// past M compute on zero padding, read C at row M-1 and store nothing,
  /// so one kernel serves every row block.
  void kernel(OpBuilder &kb, Value m0, Value i0, Value p, Value k0, Value k1,
              Value first, Value last) {
    IndexMath im{kb, loc};
    Value panelBase = im.mul(im.mul(p, k), nr);
    Value col0 = im.mul(p, nr);
    MicroKernel mk;
    mk.rows = rows;
    mk.vecs = vecs;
    mk.vectorType = vectorType;
    mk.kBegin = k0;
    mk.kEnd = k1;
    // A from the tile's copy of its K block (see copyA).
    Value rowBase = im.mul(arith::SubIOp::create(kb, loc, i0, m0), lda());
    Value kOffset = arith::SubIOp::create(kb, loc, im.c(0), k0);
    mk.loadA = [&](OpBuilder &lb, Value kk, int64_t i) -> Value {
      IndexMath lm{lb, loc};
      return memref::LoadOp::create(
          lb, loc, aBlock,
          ValueRange{lm.add(lm.add(rowBase, i * lda()), lm.add(kk, kOffset))});
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
    // The first K block starts from zero (C is not read: it holds garbage).
    mk.init = [&](OpBuilder &ib, int64_t i, int64_t j) -> Value {
      IndexMath lm{ib, loc};
      Value col = lm.add(col0, j * width);
      if (partialPanel)
        col = lm.min(col, lm.c(n - width));
      auto ifOp = scf::IfOp::create(
          ib, loc, first,
          [&](OpBuilder &tb, Location) {
            scf::YieldOp::create(tb, loc, splat(tb, loc, vectorType, 0));
          },
          [&](OpBuilder &eb, Location) {
            IndexMath em{eb, loc};
            Value row = em.add(i0, i);
            if (m % rows != 0)
              row = em.min(row, em.c(m - 1));
            scf::YieldOp::create(eb, loc, loadRowVector(eb, c, row, col));
          });
      return ifOp.getResult(0);
    };
    mk.epilogue = [&](OpBuilder &eb, ArrayRef<Value> acc) {
      for (int64_t i = 0; i < rows; ++i) {
        // Rows past M (padding of the last block) store nothing.
        OpBuilder::InsertionGuard guard(eb);
        if (m % rows != 0) {
          Value valid = arith::CmpIOp::create(
              eb, loc, arith::CmpIPredicate::ult,
              IndexMath{eb, loc}.add(i0, i), IndexMath{eb, loc}.c(m));
          auto ifOp = scf::IfOp::create(eb, loc, valid, /*withElse=*/false);
          eb.setInsertionPoint(ifOp.thenBlock()->getTerminator());
        }
        for (int64_t j = 0; j < vecs; ++j) {
          IndexMath lm{eb, loc};
          Value row = lm.add(i0, i), col = lm.add(col0, j * width);
          // The last K block stores through the epilogue.
          auto store = [&](OpBuilder &sb) {
            Value v = acc[i * vecs + j];
            auto ifOp = scf::IfOp::create(
                sb, loc, last,
                [&](OpBuilder &tb, Location) {
                  scf::YieldOp::create(tb, loc,
                                       applyEpilogue(tb, v, row, col));
                },
                [&](OpBuilder &eb, Location) {
                  scf::YieldOp::create(eb, loc, v);
                });
            storeC(sb, ifOp.getResult(0), row, col);
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
              Value k0, Value first, Value last) {
    IndexMath im{tb, loc};
    Value k1 = im.min(im.add(k0, tileK), im.c(k));
    // The rows past M of the last row block are padding (see copyA).
    forLoop(tb, loc, p0, pEnd, 1, [&](OpBuilder &pb, Value p) {
      forLoop(pb, loc, m0, mEnd, rows, [&](OpBuilder &rb, Value i0) {
        kernel(rb, m0, i0, p, k0, k1, first, last);
      });
    });
  }

  /// Row stride of the A block copy: a K block plus one cache line, so that
  /// the r rows the kernel reads at once fall into different L1 sets (rows
  /// of A itself are often a multiple of 4 KiB apart and would collide).
  int64_t lda() const { return tileK + 16; }

  /// Copies A[m0:mEnd, k0:k1] into the tile's block (row stride lda()); when
  /// M is not a multiple of the kernel's rows, zeroes the padding rows up to
  /// the next multiple (the kernel reads them; zeros keep them finite).
  void copyA(OpBuilder &cb, Value m0, Value mEnd, Value k0, Value k1) {
    IndexMath im{cb, loc};
    if (m % rows != 0) {
      Value padEnd = im.add(
          m0, im.mul(im.div(im.add(arith::SubIOp::create(cb, loc, mEnd, m0),
                                   rows - 1),
                            rows),
                     rows));
      forLoop(cb, loc, mEnd, padEnd, 1, [&](OpBuilder &zb, Value r) {
        IndexMath zm{zb, loc};
        Value dst = zm.mul(arith::SubIOp::create(zb, loc, r, m0), lda());
        forEachVector(zb, loc, dst, tileK, width,
                      [&](OpBuilder &vb, Value i, VectorType vt) {
                        storeVector(vb, loc, splat(vb, loc, vt, 0), aBlock, i);
                      });
      });
    }
    Value len = arith::SubIOp::create(cb, loc, k1, k0);
    Value vecEnd = im.mul(im.div(len, width), width);
    forLoop(cb, loc, m0, mEnd, 1, [&](OpBuilder &rb, Value r) {
      IndexMath rm{rb, loc};
      Value src = rm.add(rm.mul(r, k), k0);
      Value dst = rm.mul(arith::SubIOp::create(rb, loc, r, m0), lda());
      forLoop(rb, loc, rm.c(0), vecEnd, width, [&](OpBuilder &vb, Value j) {
        IndexMath vm{vb, loc};
        storeVector(vb, loc,
                    loadVector(vb, loc, vectorType, a, vm.add(src, j)), aBlock,
                    vm.add(dst, j));
      });
      forLoop(rb, loc, vecEnd, len, 1, [&](OpBuilder &sb, Value j) {
        IndexMath sm{sb, loc};
        Value v = memref::LoadOp::create(sb, loc, a, ValueRange{sm.add(src, j)});
        memref::StoreOp::create(sb, loc, v, aBlock, ValueRange{sm.add(dst, j)});
      });
    });
  }

  /// One parallel iteration per (column block of tile_n, group of row
  /// tiles). Inside, the K blocks are the outer loop: a K block of the
  /// column block's packed B (tile_k × tile_n) stays in L2 while every row
  /// tile of the group passes over it, so B is read from memory once per
  /// group, however large K is.
  void compute() {
    int64_t tilesM = ceilDiv(m, tileM), tilesN = ceilDiv(panels, panelsPerTile);
    int64_t groups = std::min(mGroups, tilesM);
    int64_t groupRows = ceilDiv(tilesM, groups) * tileM;
    int64_t blocks = ceilDiv(k, tileK);
    parallelFor(b, loc, tilesN * groups, [&](OpBuilder &tb, Value t) {
      IndexMath im{tb, loc};
      // The groups of a column block run side by side: they share its B.
      Value p0 = im.mul(im.div(t, groups), panelsPerTile);
      Value pEnd = im.min(im.add(p0, panelsPerTile), im.c(panels));
      Value mFirst = im.mul(im.rem(t, groups), groupRows);
      Value mLast = im.min(im.add(mFirst, groupRows), im.c(m));
      // Each thread's own copy of a row tile's A block.
      aBlock = memref::AllocOp::create(
          tb, loc, MemRefType::get({tileM * lda()}, tb.getF32Type()),
          ValueRange{}, tb.getI64IntegerAttr(64));
      forLoop(tb, loc, im.c(0), im.c(blocks * tileK), tileK,
              [&](OpBuilder &kb, Value k0) {
        IndexMath km{kb, loc};
        Value k1 = km.min(km.add(k0, tileK), km.c(k));
        auto eq = [&](int64_t v) -> Value {
          return arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::eq, k0,
                                       km.c(v));
        };
        Value first = eq(0), last = eq((blocks - 1) * tileK);
        forLoop(kb, loc, mFirst, mLast, tileM, [&](OpBuilder &mb, Value m0) {
          IndexMath mm{mb, loc};
          Value mEnd = mm.min(mm.add(m0, tileM), mm.c(m));
          copyA(mb, m0, mEnd, k0, k1);
          kBlock(mb, m0, mEnd, p0, pEnd, k0, first, last);
        });
      });
    });
  }

  OpBuilder &b;
  LinearOp op;
  Location loc;
  ModuleOp module;
  bool constantWeight;
  int64_t m, k, n, width, rows, vecs, nr, tileM, tileK, mGroups, panelsPerTile,
      panels;
  VectorType vectorType;
  bool masked; // N is not a multiple of the vector width
  Value a, weight, bias, gate, residual, c, packed;
  Value aBlock; // the current tile's copy of a K block of A
};

} // namespace

Value lowerLinearToLoops(OpBuilder &b, LinearOp op, ModuleOp module,
                         bool constantWeight) {
  return GemmLowering(b, op, module, constantWeight).build();
}

} // namespace mlir::attn
