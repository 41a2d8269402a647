//===- IRGen.cpp - model AST to attn IR -----------------------------------===//
//
// Turns a parsed model description into `attn` IR on tensors: the model's
// inputs and weights become the entry function's arguments, each call is
// checked against the op table and built by its op's builder (OpTable.h), and
// the outputs are returned. A layer becomes one private function, built at
// its first call from the argument types of that call; each call (each
// repetition of `repeat = N`) is a func.call that passes the instance's own
// weights, which are appended to the entry function's arguments and named
// `prefix + weight name` with `{i}` replaced by the instance index. Shape
// rules are left to the op verifiers, whose messages then point at the model
// file through the ops' FileLineColLoc.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/IRGen.h"

#include "passes/Passes.h"
#include "tools/attnc/OpTable.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::attn {
namespace {

/// A weight argument of the entry function.
struct WeightArg {
  std::string fileName;
  llvm::SMLoc declLoc; // the `weight` declaration
};

class IRGen {
public:
  IRGen(MLIRContext &context, const llvm::SourceMgr &sourceMgr,
        const model::Model &model)
      : context(context), sourceMgr(sourceMgr), model(model),
        builder(&context) {}

  OwningOpRef<ModuleOp> build();

private:
  Location loc(llvm::SMLoc at) {
    auto [line, col] = sourceMgr.getLineAndColumn(at);
    StringRef file =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBufferIdentifier();
    return FileLineColLoc::get(&context, file, line, col);
  }
  static RankedTensorType f32Type(OpBuilder &b, ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }

  /// Appends a weight argument to the entry function; fails if the file name
  /// is taken.
  FailureOr<Value> addWeight(const model::Weight &weight,
                             const std::string &fileName, llvm::SMLoc useLoc);
  /// Builds the statements of `assigns` into `values`, at the builder's
  /// insertion point.
  LogicalResult buildAssigns(ArrayRef<model::Assign> assigns,
                             llvm::StringMap<Value> &values, bool inLayer);
  /// A call of `layer`: checks it, then emits its calls.
  FailureOr<Value> buildLayerCall(const model::Layer &layer,
                                  const model::Assign &assign,
                                  const llvm::StringMap<Value> &values);
  /// The layer's function for these parameter types, built on first use.
  FailureOr<func::FuncOp> getLayerFunction(const model::Layer &layer,
                                           TypeRange paramTypes,
                                           const model::Assign &call);

  MLIRContext &context;
  const llvm::SourceMgr &sourceMgr;
  const model::Model &model;
  OpBuilder builder;
  ModuleOp module;
  func::FuncOp entry;
  Block *entryBlock = nullptr;
  std::vector<WeightArg> weights;
  llvm::StringMap<size_t> weightIndex; // file name -> index in `weights`
  llvm::StringMap<func::FuncOp> layerFunctions;
  llvm::StringMap<unsigned> instances; // per layer: instances so far
};

} // namespace

FailureOr<Value> IRGen::addWeight(const model::Weight &weight,
                                  const std::string &fileName,
                                  llvm::SMLoc useLoc) {
  auto [it, inserted] = weightIndex.try_emplace(fileName, weights.size());
  if (!inserted) {
    InFlightDiagnostic diag = emitError(loc(useLoc))
                              << "two weights are named '" << fileName
                              << "' in weight files";
    if (weights[it->second].declLoc != weight.loc)
      diag.attachNote(loc(weights[it->second].declLoc))
          << "the other is declared here";
    else
      diag << " (put '{i}' in the layer's prefix so that each instance gets "
              "its own names)";
    return diag;
  }
  weights.push_back({fileName, weight.loc});
  return entryBlock->addArgument(f32Type(builder, weight.shape),
                                 loc(weight.loc));
}

FailureOr<func::FuncOp> IRGen::getLayerFunction(const model::Layer &layer,
                                                TypeRange paramTypes,
                                                const model::Assign &call) {
  if (func::FuncOp existing = layerFunctions.lookup(layer.name)) {
    ArrayRef<Type> compiled =
        existing.getFunctionType().getInputs().take_front(paramTypes.size());
    for (auto [i, types] : llvm::enumerate(llvm::zip(compiled, paramTypes)))
      if (std::get<0>(types) != std::get<1>(types))
        return emitError(loc(call.args[i].loc))
               << "layer '" << layer.name << "' is compiled for parameter '"
               << layer.params[i].name << "' of type " << std::get<0>(types)
               << " (at its first call), got " << std::get<1>(types);
    return existing;
  }
  // Parameters, then the weights, in declaration order.
  SmallVector<Type> inputs(paramTypes);
  for (const model::Weight &weight : layer.weights)
    inputs.push_back(f32Type(builder, weight.shape));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  std::string symbol = "layer_" + layer.name;
  auto func = func::FuncOp::create(builder, loc(layer.loc), symbol,
                                   builder.getFunctionType(inputs, {}));
  func.setPrivate();
  Block *body = func.addEntryBlock();
  llvm::StringMap<Value> values;
  for (auto [i, param] : llvm::enumerate(layer.params))
    values[param.name] = body->getArgument(i);
  for (auto [i, weight] : llvm::enumerate(layer.weights))
    values[weight.name] = body->getArgument(layer.params.size() + i);
  builder.setInsertionPointToStart(body);
  if (failed(buildAssigns(layer.assigns, values, /*inLayer=*/true))) {
    func.erase();
    return failure();
  }
  Value result = values.lookup(layer.result.name);
  func::ReturnOp::create(builder, loc(layer.result.loc), result);
  func.setFunctionType(builder.getFunctionType(inputs, result.getType()));
  layerFunctions[layer.name] = func;
  return func;
}

FailureOr<Value> IRGen::buildLayerCall(const model::Layer &layer,
                                       const model::Assign &assign,
                                       const llvm::StringMap<Value> &values) {
  SmallVector<Value> args;
  int64_t repeat = 1;
  std::string prefix = layer.name + ".{i}.";
  for (const model::Arg &arg : assign.args) {
    const model::Expr &e = arg.value;
    if (arg.keyword.empty()) {
      if (args.size() == layer.params.size())
        return emitError(loc(arg.loc))
               << "layer '" << layer.name << "' takes " << layer.params.size()
               << " tensor" << (layer.params.size() == 1 ? "" : "s");
      Value v = e.kind == model::Expr::Kind::Name ? values.lookup(e.name)
                                                  : Value();
      if (!v)
        return emitError(loc(arg.loc))
               << "expected a defined tensor for parameter '"
               << layer.params[args.size()].name << "' of layer '"
               << layer.name << "'";
      args.push_back(v);
    } else if (arg.keyword == "repeat") {
      if (e.kind != model::Expr::Kind::Number || !e.isInteger ||
          e.number < 1 || e.number > 100000)
        return emitError(loc(e.loc))
               << "expected 'repeat' to be an integer from 1 to 100000";
      repeat = static_cast<int64_t>(e.number);
    } else if (arg.keyword == "prefix") {
      if (e.kind != model::Expr::Kind::String)
        return emitError(loc(e.loc))
               << "expected a string for 'prefix', such as "
                  "\"model.layers.{i}.\"";
      prefix = e.name;
    } else {
      InFlightDiagnostic diag = emitError(loc(arg.loc))
                                << "unknown keyword '" << arg.keyword
                                << "' for layer '" << layer.name
                                << "'; expected repeat or prefix";
      if (std::optional<StringRef> closest =
              findClosestName(arg.keyword, {"repeat", "prefix"}))
        diag << " (did you mean '" << *closest << "'?)";
      return diag;
    }
  }
  if (args.size() != layer.params.size())
    return emitError(loc(assign.calleeLoc))
           << "layer '" << layer.name << "' takes " << layer.params.size()
           << " tensor" << (layer.params.size() == 1 ? "" : "s") << ", got "
           << args.size();

  Value result;
  for (int64_t r = 0; r < repeat; ++r) {
    FailureOr<func::FuncOp> func =
        getLayerFunction(layer, ValueRange(args).getTypes(), assign);
    if (failed(func))
      return failure();
    if (r == 0 && repeat > 1 &&
        func->getFunctionType().getResult(0) != args[0].getType())
      return emitError(loc(assign.calleeLoc))
             << "'repeat' feeds the result of layer '" << layer.name
             << "' back into '" << layer.params[0].name
             << "', but the result has type "
             << func->getFunctionType().getResult(0) << " and '"
             << layer.params[0].name << "' " << args[0].getType();
    unsigned index = instances[layer.name]++;
    std::string instancePrefix = prefix;
    for (size_t at; (at = instancePrefix.find("{i}")) != std::string::npos;)
      instancePrefix.replace(at, 3, std::to_string(index));
    SmallVector<Value> operands(args);
    for (const model::Weight &weight : layer.weights) {
      FailureOr<Value> w = addWeight(
          weight,
          instancePrefix + (weight.fileName.empty() ? weight.name
                                                    : weight.fileName),
          assign.calleeLoc);
      if (failed(w))
        return failure();
      operands.push_back(*w);
    }
    result = func::CallOp::create(builder, loc(assign.calleeLoc), *func,
                                  operands)
                 .getResult(0);
    args[0] = result;
  }
  return result;
}

LogicalResult IRGen::buildAssigns(ArrayRef<model::Assign> assigns,
                                  llvm::StringMap<Value> &values,
                                  bool inLayer) {
  for (const model::Assign &assign : assigns) {
    FailureOr<Value> result;
    if (const model::Layer *layer = model.findLayer(assign.callee)) {
      if (inLayer)
        return emitError(loc(assign.calleeLoc))
               << "layer '" << assign.callee
               << "' is called inside a layer; layers are called only at the "
                  "top level";
      if (layer->loc.getPointer() > assign.calleeLoc.getPointer())
        return emitError(loc(assign.calleeLoc))
               << "layer '" << assign.callee << "' is used before it is "
                  "defined (at line "
               << sourceMgr.FindLineNumber(layer->loc) << ")";
      if (!assign.moreResults.empty())
        return emitError(loc(assign.moreResults.front().loc))
               << "layer '" << assign.callee << "' returns one tensor";
      result = buildLayerCall(*layer, assign, values);
    } else {
      result = buildOpCall(assign, values, builder,
                           [&](llvm::SMLoc at) { return loc(at); });
    }
    if (failed(result))
      return failure();
    // Every declared tensor fits (the parser checks); an op's result may not
    // (attention probabilities are [B, H, Sq, Skv]).
    for (Value v : result->getDefiningOp()->getResults()) {
      auto type = cast<RankedTensorType>(v.getType());
      double bytes = 0;
      if (firstOversizedDim(type.getShape(),
                            type.getElementTypeBitWidth() / 8, bytes) >= 0)
        return emitError(loc(assign.calleeLoc))
               << "the result of '" << assign.callee << "' would be " << type
               << ", " << llvm::formatv("{0:e2}", bytes).str() << " bytes, "
               << kTooLargeToAllocate;
    }
    values[assign.result] = *result;
    for (auto [i, more] : llvm::enumerate(assign.moreResults))
      values[more.name] = result->getDefiningOp()->getResult(i + 1);
  }
  return success();
}

OwningOpRef<ModuleOp> IRGen::build() {
  OwningOpRef<ModuleOp> owned = ModuleOp::create(loc(model.nameLoc));
  module = *owned;
  builder.setInsertionPointToEnd(module.getBody());
  for (const model::Layer &layer : model.layers)
    if (lookupOp(layer.name)) {
      emitError(loc(layer.loc))
          << "layer '" << layer.name << "' has the name of an op";
      return nullptr;
    }

  SmallVector<Type> inputTypes;
  for (const model::Input &input : model.inputs) {
    // The parser accepts only the element types handled here.
    Type elementType = builder.getF32Type();
    if (input.elementType == "i32")
      elementType = builder.getI32Type();
    else if (input.elementType == "i64")
      elementType = builder.getI64Type();
    else if (input.elementType == "f16")
      elementType = builder.getF16Type();
    else if (input.elementType == "bf16")
      elementType = builder.getBF16Type();
    inputTypes.push_back(RankedTensorType::get(input.shape, elementType));
  }
  // The symbol must be a C identifier; the model's own name is kept in
  // `attn.name` for the runtime.
  std::string symbol = "attn_" + model.name;
  for (char &c : symbol)
    if (!llvm::isAlnum(c))
      c = '_';
  entry = func::FuncOp::create(builder, loc(model.nameLoc), symbol,
                               builder.getFunctionType(inputTypes, {}));
  entry->setAttr(kEntryAttrName, builder.getUnitAttr());
  entry->setAttr(kNameAttrName, builder.getStringAttr(model.name));
  entryBlock = entry.addEntryBlock();
  llvm::StringMap<Value> values;
  for (auto [i, input] : llvm::enumerate(model.inputs))
    values[input.name] = entryBlock->getArgument(i);
  for (const model::Weight &weight : model.weights) {
    FailureOr<Value> w = addWeight(
        weight, weight.fileName.empty() ? weight.name : weight.fileName,
        weight.loc);
    if (failed(w))
      return nullptr;
    values[weight.name] = *w;
  }

  builder.setInsertionPointToStart(entryBlock);
  if (failed(buildAssigns(model.assigns, values, /*inLayer=*/false)))
    return nullptr;

  SmallVector<Value> results;
  for (const model::Output &output : model.outputs) {
    Value result = values.lookup(output.name);
    if (isa<BlockArgument>(result)) {
      emitError(loc(output.loc))
          << "output '" << output.name
          << "' is a model input or weight; outputs must be results of ops";
      return nullptr;
    }
    results.push_back(result);
  }
  func::ReturnOp::create(builder, loc(model.outputs.back().loc), results);
  entry.setFunctionType(builder.getFunctionType(
      entryBlock->getArgumentTypes(), ValueRange(results).getTypes()));
  for (auto [i, input] : llvm::enumerate(model.inputs))
    entry.setArgAttr(i, kNameAttrName, builder.getStringAttr(input.name));
  for (auto [i, weight] : llvm::enumerate(weights)) {
    unsigned arg = model.inputs.size() + i;
    entry.setArgAttr(arg, kNameAttrName, builder.getStringAttr(weight.fileName));
    entry.setArgAttr(arg, kWeightAttrName, builder.getUnitAttr());
  }
  for (auto [i, output] : llvm::enumerate(model.outputs))
    entry.setResultAttr(i, kNameAttrName, builder.getStringAttr(output.name));
  return owned;
}

OwningOpRef<ModuleOp> buildModelIR(MLIRContext &context,
                                   const llvm::SourceMgr &sourceMgr,
                                   const model::Model &model) {
  return IRGen(context, sourceMgr, model).build();
}

} // namespace mlir::attn
