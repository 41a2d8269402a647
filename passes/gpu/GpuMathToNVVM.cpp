//===- GpuMathToNVVM.cpp - f32 math and bf16 mma.sync as NVVM -------------===//
//
// convert-gpu-to-nvvm lowers math ops to libdevice calls (__nv_exp2f, ...),
// which need the CUDA toolkit's libdevice at compile time and are slower
// than the hardware's special-function instructions the attention kernel
// wants. This pass rewrites the f32 math ops of kernels into NVVM
// intrinsics first (vectors element by element):
//
//   exp2 x -> ex2.approx x            exp x -> ex2.approx (x · log2 e)
//   log2 x -> lg2.approx x            log x -> ln 2 · lg2.approx x
//   sqrt x -> sqrt.rn x
//
// ex2.approx and lg2.approx have a maximum relative error of 2^-22 (PTX
// ISA); tanh is expanded into exp by math-expand-ops before this pass.
//
// convert-nvgpu-to-nvvm also cannot lower nvgpu.mma.sync on bf16 (it
// deduces no PTX type for it); this pass writes those as nvvm.mma.sync,
// whose bf16 operands are pairs packed in i32:
//
//   nvgpu.mma.sync(A vector<4x2xbf16>, B vector<2x2xbf16>, C vector<2x2xf32>)
//     -> nvvm.mma.sync A[4 x i32] B[2 x i32] C[4 x f32] {m16n8k16, row, col,
//                      bf16} -> struct of 4 f32 -> vector<2x2xf32>
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::attn {
#define GEN_PASS_DEF_GPUMATHTONVVMPASS
#include "passes/Passes.h.inc"

namespace {
struct GpuMathToNVVMPass final
    : impl::GpuMathToNVVMPassBase<GpuMathToNVVMPass> {
  using Base::Base;
  void runOnOperation() override;
};

/// How one math op becomes an intrinsic: `intrinsic(x · before) · after`.
struct Rewrite {
  const char *intrinsic;
  float before = 1, after = 1;
};

std::optional<Rewrite> rewriteOf(Operation *op) {
  if (isa<math::Exp2Op>(op))
    return Rewrite{"llvm.nvvm.ex2.approx.f32"};
  if (isa<math::ExpOp>(op))
    return Rewrite{"llvm.nvvm.ex2.approx.f32", llvm::numbers::log2ef};
  if (isa<math::Log2Op>(op))
    return Rewrite{"llvm.nvvm.lg2.approx.f"};
  if (isa<math::LogOp>(op))
    return Rewrite{"llvm.nvvm.lg2.approx.f", 1, llvm::numbers::ln2f};
  if (isa<math::SqrtOp>(op))
    return Rewrite{"llvm.nvvm.sqrt.rn.f"};
  return std::nullopt;
}
} // namespace

/// The rewrite of one f32 scalar `x` at the builder's insertion point.
static Value buildScalar(OpBuilder &b, Location loc, const Rewrite &r,
                         Value x) {
  auto scale = [&](Value v, float factor) -> Value {
    if (factor == 1)
      return v;
    return arith::MulFOp::create(
        b, loc, v,
        arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                       llvm::APFloat(factor)));
  };
  Value y = LLVM::CallIntrinsicOp::create(
                b, loc, b.getF32Type(), b.getStringAttr(r.intrinsic),
                ValueRange{scale(x, r.before)})
                .getResult(0);
  return scale(y, r.after);
}

/// `op` (m16n8k16 on bf16, f32 accumulators) as nvvm.mma.sync.
static void rewriteBf16Mma(nvgpu::MmaSyncOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  // The rows of a fragment: bf16 pairs as i32, f32 accumulators as scalars.
  auto packed = [&](Value fragment) {
    SmallVector<Value> words;
    auto type = cast<VectorType>(fragment.getType());
    for (int64_t r = 0; r < type.getDimSize(0); ++r)
      words.push_back(LLVM::BitcastOp::create(
          b, loc, i32,
          vector::ExtractOp::create(b, loc, fragment, ArrayRef<int64_t>{r})));
    return words;
  };
  SmallVector<Value> acc;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t c = 0; c < 2; ++c)
      acc.push_back(vector::ExtractOp::create(b, loc, op.getMatrixC(),
                                              ArrayRef<int64_t>{r, c}));
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, f32));
  SmallVector<Value> a = packed(op.getMatrixA());
  SmallVector<Value> bWords = packed(op.getMatrixB());
  Value d = NVVM::MmaOp::create(
      b, loc, resultType, a, bWords, acc, ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                    NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> elements;
  for (int64_t i = 0; i < 4; ++i)
    elements.push_back(LLVM::ExtractValueOp::create(b, loc, d, i));
  op.getRes().replaceAllUsesWith(vector::FromElementsOp::create(
      b, loc, cast<VectorType>(op.getRes().getType()), elements));
  op.erase();
}

/// Whether `op` is an m16n8k16 bf16 mma.sync with f32 accumulators.
static bool isBf16Mma(nvgpu::MmaSyncOp op) {
  auto shape = op.getMmaShapeAsArray();
  return getElementTypeOrSelf(op.getMatrixA().getType()).isBF16() &&
         getElementTypeOrSelf(op.getMatrixC().getType()).isF32() &&
         shape == std::array<int64_t, 3>{16, 8, 16};
}

void GpuMathToNVVMPass::runOnOperation() {
  SmallVector<nvgpu::MmaSyncOp> mmas;
  getOperation()->walk([&](nvgpu::MmaSyncOp op) {
    if (isBf16Mma(op))
      mmas.push_back(op);
  });
  for (nvgpu::MmaSyncOp op : mmas)
    rewriteBf16Mma(op);
  SmallVector<std::pair<Operation *, Rewrite>> work;
  getOperation()->walk([&](Operation *op) {
    if (std::optional<Rewrite> r = rewriteOf(op))
      if (getElementTypeOrSelf(op->getResult(0).getType()).isF32())
        work.push_back({op, *r});
  });
  for (auto [op, r] : work) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value x = op->getOperand(0);
    Value result;
    if (auto vec = dyn_cast<VectorType>(x.getType())) {
      if (vec.getRank() != 1 || vec.isScalable()) {
        op->emitOpError("only 1-D fixed vectors are lowered for the GPU");
        return signalPassFailure();
      }
      SmallVector<Value> lanes;
      for (int64_t i = 0; i < vec.getDimSize(0); ++i)
        lanes.push_back(buildScalar(
            b, loc, r, vector::ExtractOp::create(b, loc, x, ArrayRef<int64_t>{i})));
      result = vector::FromElementsOp::create(b, loc, vec, lanes);
    } else {
      result = buildScalar(b, loc, r, x);
    }
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
  }
}

} // namespace mlir::attn
