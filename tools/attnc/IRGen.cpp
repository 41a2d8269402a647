//===- IRGen.cpp - model AST to attn IR -----------------------------------===//
//
// Turns a parsed model description into `attn` IR on tensors. This is where
// an op's arguments get their meaning: which op names exist, which keyword
// arguments each op takes, and that argument names refer to defined tensors.
// Shape rules are left to the op verifiers, whose messages then point at the
// model file through the ops' FileLineColLoc.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/IRGen.h"

#include "dialect/AttnOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>

namespace mlir::attn {
namespace {

class IRGen {
public:
  IRGen(MLIRContext &context, const llvm::SourceMgr &sourceMgr)
      : context(context), sourceMgr(sourceMgr), builder(&context) {}

  OwningOpRef<ModuleOp> build(const model::Model &model);

private:
  Location loc(llvm::SMLoc at) {
    auto [line, col] = sourceMgr.getLineAndColumn(at);
    StringRef file =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBufferIdentifier();
    return FileLineColLoc::get(&context, file, line, col);
  }
  FailureOr<Value> lookup(const model::Expr &expr, StringRef what);
  FailureOr<Value> buildAttention(const model::Assign &assign);

  MLIRContext &context;
  const llvm::SourceMgr &sourceMgr;
  OpBuilder builder;
  llvm::StringMap<Value> values;
};

} // namespace

FailureOr<Value> IRGen::lookup(const model::Expr &expr, StringRef what) {
  if (expr.kind != model::Expr::Kind::Name)
    return emitError(loc(expr.loc))
           << "expected a tensor name for " << what << ", got a "
           << (expr.kind == model::Expr::Kind::Number ? "number" : "list");
  auto it = values.find(expr.name);
  if (it == values.end())
    return emitError(loc(expr.loc)) << "use of undefined value '" << expr.name
                                    << "'";
  return it->second;
}

FailureOr<Value> IRGen::buildAttention(const model::Assign &assign) {
  static const char *const operandNames[] = {"query", "key", "value"};
  SmallVector<Value, 3> operands;
  MaskAttr mask;
  FloatAttr scale;
  for (const model::Arg &arg : assign.args) {
    if (arg.keyword.empty()) {
      if (operands.size() == 3)
        return emitError(loc(arg.loc))
               << "attention takes 3 tensors (query, key, value), got more";
      FailureOr<Value> v = lookup(arg.value, operandNames[operands.size()]);
      if (failed(v))
        return failure();
      operands.push_back(*v);
    } else if (arg.keyword == "mask") {
      std::optional<MaskKind> kind;
      if (arg.value.kind == model::Expr::Kind::Name)
        kind = symbolizeMaskKind(arg.value.name);
      if (!kind)
        return emitError(loc(arg.value.loc))
               << "expected mask to be 'none' or 'causal'";
      mask = MaskAttr::get(&context, *kind);
    } else if (arg.keyword == "scale") {
      if (arg.value.kind != model::Expr::Kind::Number ||
          !std::isfinite(arg.value.number) || arg.value.number == 0)
        return emitError(loc(arg.value.loc))
               << "expected scale to be a finite, non-zero number";
      scale = builder.getF32FloatAttr(arg.value.number);
    } else {
      return emitError(loc(arg.loc))
             << "unknown argument '" << arg.keyword
             << "' for attention; expected 'mask' or 'scale'";
    }
  }
  if (operands.size() != 3)
    return emitError(loc(assign.calleeLoc))
           << "attention takes 3 tensors (query, key, value), got "
           << operands.size();

  // The result shape is [B, Hq, Sq, Dv]; when ranks are wrong, build with the
  // query's type and let the verifier explain.
  auto q = cast<RankedTensorType>(operands[0].getType());
  auto v = cast<RankedTensorType>(operands[2].getType());
  RankedTensorType resultType = q;
  if (q.getRank() == 4 && v.getRank() == 4)
    resultType = RankedTensorType::get(
        {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2), v.getDimSize(3)},
        q.getElementType());
  auto op = SdpaOp::create(builder, loc(assign.calleeLoc), resultType,
                           operands[0], operands[1], operands[2],
                           /*kv_segments=*/Value(), /*q_segments=*/Value(),
                           /*kv_lengths=*/Value(), /*q_lengths=*/Value(),
                           mask, scale,
                           /*schedule=*/nullptr);
  if (failed(verify(op)))
    return failure();
  return op.getResult();
}

OwningOpRef<ModuleOp> IRGen::build(const model::Model &model) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc(model.nameLoc));
  builder.setInsertionPointToEnd(module->getBody());

  SmallVector<Type> inputTypes;
  for (const model::Input &input : model.inputs)
    inputTypes.push_back(
        RankedTensorType::get(input.shape, builder.getF32Type()));
  // The symbol must be a C identifier; the model's own name is kept in
  // `attn.name` for the runtime.
  std::string symbol = "attn_" + model.name;
  for (char &c : symbol)
    if (!llvm::isAlnum(c))
      c = '_';
  auto func = func::FuncOp::create(builder, loc(model.nameLoc), symbol,
                                   builder.getFunctionType(inputTypes, {}));
  func->setAttr(kEntryAttrName, builder.getUnitAttr());
  func->setAttr(kNameAttrName, builder.getStringAttr(model.name));
  Block *body = func.addEntryBlock();
  for (auto [i, input] : llvm::enumerate(model.inputs)) {
    func.setArgAttr(i, kNameAttrName, builder.getStringAttr(input.name));
    values[input.name] = body->getArgument(i);
  }

  builder.setInsertionPointToStart(body);
  for (const model::Assign &assign : model.assigns) {
    if (assign.callee != "attention") {
      emitError(loc(assign.calleeLoc))
          << "unknown op '" << assign.callee << "'; available ops: attention";
      return nullptr;
    }
    FailureOr<Value> result = buildAttention(assign);
    if (failed(result))
      return nullptr;
    values[assign.result] = *result;
  }

  SmallVector<Value> results;
  for (const model::Output &output : model.outputs) {
    Value result = values.lookup(output.name);
    if (isa<BlockArgument>(result)) {
      emitError(loc(output.loc))
          << "output '" << output.name
          << "' is a model input; outputs must be results of ops";
      return nullptr;
    }
    results.push_back(result);
  }
  func::ReturnOp::create(builder, loc(model.outputs.back().loc), results);
  func.setFunctionType(builder.getFunctionType(
      inputTypes, ValueRange(results).getTypes()));
  for (auto [i, output] : llvm::enumerate(model.outputs))
    func.setResultAttr(i, kNameAttrName, builder.getStringAttr(output.name));
  return module;
}

OwningOpRef<ModuleOp> buildModelIR(MLIRContext &context,
                                   const llvm::SourceMgr &sourceMgr,
                                   const model::Model &model) {
  return IRGen(context, sourceMgr).build(model);
}

} // namespace mlir::attn
