//===- IRGen.cpp - model AST to attn IR -----------------------------------===//
//
// Turns a parsed model description into `attn` IR on tensors: the model's
// inputs become the entry function's arguments, each call is checked against
// the op table and built by its op's builder (OpTable.h), and the outputs are
// returned. Shape rules are left to the op verifiers, whose messages then
// point at the model file through the ops' FileLineColLoc.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/IRGen.h"

#include "passes/Passes.h"
#include "tools/attnc/OpTable.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"

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

  MLIRContext &context;
  const llvm::SourceMgr &sourceMgr;
  OpBuilder builder;
  llvm::StringMap<Value> values;
};

} // namespace

OwningOpRef<ModuleOp> IRGen::build(const model::Model &model) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc(model.nameLoc));
  builder.setInsertionPointToEnd(module->getBody());

  SmallVector<Type> inputTypes;
  for (const model::Input &input : model.inputs) {
    // The parser accepts only the element types handled here.
    Type elementType = input.elementType == "i32"
                           ? Type(builder.getI32Type())
                           : Type(builder.getF32Type());
    inputTypes.push_back(RankedTensorType::get(input.shape, elementType));
  }
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
    FailureOr<Value> result = buildOpCall(
        assign, values, builder, [&](llvm::SMLoc at) { return loc(at); });
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
