//===- MicroKernel.cpp - one register-blocked FMA block builder -----------===//
#include "passes/cpu/MicroKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::attn {

void buildMicroKernel(OpBuilder &b, Location loc, const MicroKernel &kernel) {
  SmallVector<Value> init;
  for (int64_t i = 0; i < kernel.rows; ++i)
    for (int64_t j = 0; j < kernel.vecs; ++j)
      init.push_back(kernel.init(b, i, j));
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, kernel.kBegin, kernel.kEnd, one, init,
      [&](OpBuilder &nb, Location l, Value k, ValueRange acc) {
        SmallVector<Value> bv, next;
        for (int64_t j = 0; j < kernel.vecs; ++j)
          bv.push_back(kernel.loadB(nb, k, j));
        for (int64_t i = 0; i < kernel.rows; ++i) {
          Value a = vector::BroadcastOp::create(nb, l, kernel.vectorType,
                                                kernel.loadA(nb, k, i));
          for (int64_t j = 0; j < kernel.vecs; ++j)
            next.push_back(vector::FMAOp::create(nb, l, a, bv[j],
                                                 acc[i * kernel.vecs + j]));
        }
        scf::YieldOp::create(nb, l, next);
      });
  SmallVector<Value> results(loop.getResults());
  kernel.epilogue(b, results);
}

} // namespace mlir::attn
