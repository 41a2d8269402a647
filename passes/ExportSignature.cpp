//===- ExportSignature.cpp - describe the entry function for the runtime --===//
//
// Input: a module whose entry function takes and returns static f32/i32
// tensors. Output: the module carries `attn.entry` (the entry function's
// symbol) and `attn.signature`, the model's typed tensor table as an
// attribute (EmitEntryPoint turns it into the data of runtime/AttnModel.h):
//
//   {name = "m", flops = 1024 : i64, tensors = [
//      {name = "q", dtype = "f32", role = "input", content = "data",
//       bound = 0 : i64, shape = array<i64: 1, 8, 128, 64>}, ...]}
//
// The pass names no op: FLOPs come from CostOpInterface and an input's
// content from TensorContentOpInterface, over the entry function and every
// function it calls (once per call).
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/Passes.h"

#include "llvm/ADT/StringMap.h"

#define DEBUG_TYPE "attn-export-signature"

namespace mlir::attn {
#define GEN_PASS_DEF_EXPORTSIGNATUREPASS
#include "passes/Passes.h.inc"

namespace {
struct ExportSignaturePass final
    : impl::ExportSignaturePassBase<ExportSignaturePass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

/// The entry function: the one marked `attn.entry`, else the only public one.
static func::FuncOp findEntry(ModuleOp module) {
  func::FuncOp entry, onlyPublic;
  int publicCount = 0;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func->hasAttr(kEntryAttrName))
      entry = func;
    if (func.isPublic() && !func.isExternal()) {
      onlyPublic = func;
      ++publicCount;
    }
  }
  if (entry)
    return entry;
  return publicCount == 1 ? onlyPublic : func::FuncOp();
}

/// Sums CostOpInterface FLOPs of `func` and, per call, of its callees.
/// Fails on recursion or on a count that does not fit 64 bits.
static FailureOr<int64_t> countFlops(func::FuncOp func, SymbolTable &symbols,
                                     SmallPtrSetImpl<Operation *> &active) {
  if (!active.insert(func).second)
    return func.emitError("recursive call to @") << func.getSymName();
  int64_t total = 0;
  bool overflow = false;
  WalkResult walk = func.walk([&](Operation *op) {
    int64_t flops = 0;
    if (auto cost = dyn_cast<CostOpInterface>(op)) {
      flops = cost.getFlops();
      if (flops < 0) {
        op->emitError("the FLOP count of this op does not fit in 64 bits");
        return WalkResult::interrupt();
      }
    } else if (auto call = dyn_cast<func::CallOp>(op)) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (!callee || callee.isExternal())
        return WalkResult::advance();
      FailureOr<int64_t> sub = countFlops(callee, symbols, active);
      if (failed(sub))
        return WalkResult::interrupt();
      flops = *sub;
    }
    overflow |= flops < 0 || llvm::AddOverflow(total, flops, total);
    return WalkResult::advance();
  });
  active.erase(func);
  if (walk.wasInterrupted())
    return failure();
  if (overflow)
    return func.emitError("the model's FLOP count does not fit in 64 bits");
  return total;
}

/// What block argument `arg` holds, from the ops that use it (following
/// calls). Fails when two uses disagree.
static FailureOr<std::pair<TensorContent, int64_t>>
argumentContent(BlockArgument arg, SymbolTable &symbols) {
  std::optional<std::pair<TensorContent, int64_t>> found;
  for (OpOperand &use : arg.getUses()) {
    std::pair<TensorContent, int64_t> content{TensorContent::Data, 0};
    if (auto op = dyn_cast<TensorContentOpInterface>(use.getOwner())) {
      content.first = op.getOperandContent(use, content.second);
    } else if (auto call = dyn_cast<func::CallOp>(use.getOwner())) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (!callee || callee.isExternal())
        continue;
      auto sub = argumentContent(
          callee.getArgument(use.getOperandNumber()), symbols);
      if (failed(sub))
        return failure();
      content = *sub;
    } else {
      continue;
    }
    if (found && *found != content)
      return emitError(use.getOwner()->getLoc())
             << "entry argument #" << arg.getArgNumber()
             << " is used both as data and as lengths or segment ids";
    found = content;
  }
  return found.value_or(std::pair{TensorContent::Data, int64_t(0)});
}

static StringRef contentName(TensorContent content) {
  switch (content) {
  case TensorContent::Data:
    return "data";
  case TensorContent::Lengths:
    return "lengths";
  case TensorContent::Segments:
    return "segments";
  case TensorContent::Tokens:
    return "tokens";
  }
  llvm_unreachable("unknown tensor content");
}

void ExportSignaturePass::runOnOperation() {
  ModuleOp module = getOperation();
  func::FuncOp entry = findEntry(module);
  if (!entry) {
    module.emitError("no entry function: mark one with the `attn.entry` "
                     "attribute or keep exactly one public function");
    return signalPassFailure();
  }
  SymbolTable symbols(module);
  SmallPtrSet<Operation *, 8> active;
  FailureOr<int64_t> flops = countFlops(entry, symbols, active);
  if (failed(flops))
    return signalPassFailure();

  Builder b(&getContext());
  SmallVector<Attribute> tensors;
  llvm::StringMap<unsigned> names;
  auto describe = [&](StringRef role, Type type, DictionaryAttr attrs,
                      unsigned index,
                      std::pair<TensorContent, int64_t> content)
      -> LogicalResult {
    auto tensor = dyn_cast<RankedTensorType>(type);
    Type element = tensor ? tensor.getElementType() : Type();
    StringRef dtype;
    if (element)
      dtype = element.isF32()                   ? "f32"
              : element.isF16()                 ? "f16"
              : element.isBF16()                ? "bf16"
              : element.isSignlessInteger(32)   ? "i32"
              : element.isSignlessInteger(64)   ? "i64"
                                                : "";
    if (!tensor || !tensor.hasStaticShape() || dtype.empty())
      return entry.emitError()
             << "entry function " << role << " #" << index
             << " must be a statically shaped f32, f16, bf16, i32 or i64 "
                "tensor, got "
             << type;
    std::string name = (role == "output" ? "result" : "arg") + std::to_string(index);
    if (attrs)
      if (auto given = attrs.getAs<StringAttr>(kNameAttrName))
        name = given.str();
    if (!names.try_emplace(name, tensors.size()).second)
      return entry.emitError() << "two tensors of the entry function are "
                                  "named '"
                               << name << "'";
    NamedAttribute fields[] = {
        b.getNamedAttr("name", b.getStringAttr(name)),
        b.getNamedAttr("dtype", b.getStringAttr(dtype)),
        b.getNamedAttr("role", b.getStringAttr(role)),
        b.getNamedAttr("content",
                       b.getStringAttr(contentName(content.first))),
        b.getNamedAttr("bound", b.getI64IntegerAttr(content.second)),
        b.getNamedAttr("shape", b.getDenseI64ArrayAttr(tensor.getShape()))};
    tensors.push_back(b.getDictionaryAttr(fields));
    return success();
  };
  FunctionType type = entry.getFunctionType();
  for (auto [i, input] : llvm::enumerate(type.getInputs())) {
    auto content = argumentContent(entry.getArgument(i), symbols);
    StringRef role = entry.getArgAttr(i, kWeightAttrName) ? "weight" : "input";
    if (failed(content) ||
        failed(describe(role, input, entry.getArgAttrDict(i), i, *content)))
      return signalPassFailure();
  }
  for (auto [i, result] : llvm::enumerate(type.getResults()))
    if (failed(describe("output", result, entry.getResultAttrDict(i), i,
                        {TensorContent::Data, 0})))
      return signalPassFailure();

  // The model's name is the entry function's `attn.name`, else its symbol.
  StringRef name = entry.getSymName();
  if (auto given = entry->getAttrOfType<StringAttr>(kNameAttrName))
    name = given.getValue();
  NamedAttribute signature[] = {
      b.getNamedAttr("name", b.getStringAttr(name)),
      b.getNamedAttr("flops", b.getI64IntegerAttr(*flops)),
      b.getNamedAttr("tensors", b.getArrayAttr(tensors))};
  module->setAttr(kSignatureAttrName, b.getDictionaryAttr(signature));
  module->setAttr(kEntryAttrName,
                  FlatSymbolRefAttr::get(entry.getSymNameAttr()));
}

} // namespace mlir::attn
