//===- ModelAST.h - Parsed model description --------------------*- C++ -*-===//
//
// The syntax tree of a `.model` file (format documented in examples/README.md).
// The parser (ModelParser.cpp) only checks syntax and names; what an op's
// arguments mean is checked when the tree is turned into `attn` IR
// (IRGen.cpp). Every node keeps the SMLoc of its first character so that
// errors point at file:line:col.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_MODELAST_H
#define ATTN_TOOLS_ATTNC_MODELAST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::attn::model {

/// An argument value: a name (`causal`, `q`), a number (`0.125`, `64`), a
/// list of numbers (`[1, 8, 128, 64]`) or a string (`"model.layers.{i}."`).
struct Expr {
  enum class Kind { Name, Number, List, String };
  Kind kind = Kind::Name;
  llvm::SMLoc loc;
  std::string name;              // Kind::Name; Kind::String: its contents
  double number = 0;             // Kind::Number
  bool isInteger = false;        // Kind::Number written without '.'/exponent
  std::vector<Expr> elements;    // Kind::List
};

/// `keyword = value` or a positional `value` (keyword empty).
struct Arg {
  llvm::SMLoc loc;
  std::string keyword;
  Expr value;
};

/// `input q: [1, 8, 128, 64]` (also `input q: f32[1, 8, 128, 64]`, and
/// `input lens: i32[2]`).
struct Input {
  llvm::SMLoc loc;
  std::string name;
  std::string elementType = "f32"; // "f32", "i32" or "i64"
  std::vector<int64_t> shape;
};

/// `weight wq: [2048, 2048] = "self_attn.q_proj.weight"`: a model parameter.
/// Its name in weight files is `fileName` (default: `name`), inside a layer
/// after the instance's prefix.
struct Weight {
  llvm::SMLoc loc;
  std::string name;
  std::vector<int64_t> shape;
  std::string fileName;
};

/// `output o` (one statement may list several: `output a, b`).
struct Output {
  llvm::SMLoc loc;
  std::string name;
};

/// `o = attention(q, k, v, mask = causal)`; also a layer call
/// `h = decoder(x, repeat = 4, prefix = "layers.{i}.")`.
struct Assign {
  llvm::SMLoc loc;       // location of the result name
  std::string result;
  std::vector<Output> moreResults;    // `o, lse = ...`: lse
  llvm::SMLoc calleeLoc; // location of the op name
  std::string callee;
  std::vector<Arg> args;
};

/// `layer NAME(p, ...)` ... `return r` ... `end`: a function of tensors
/// with its own weights and namespace. Calls instantiate it (each instance
/// has its own weights) and compile it once.
struct Layer {
  llvm::SMLoc loc; // of NAME
  std::string name;
  std::vector<Output> params; // names and where they are written
  std::vector<Weight> weights;
  std::vector<Assign> assigns;
  Output result; // the `return` value
};

struct Model {
  std::string name;    // from `model NAME`, else the file's stem
  llvm::SMLoc nameLoc; // of NAME in `model NAME`, else the start of the file
  std::vector<Input> inputs;
  std::vector<Weight> weights; // top-level weights
  std::vector<Layer> layers;   // each defined before its first call
  std::vector<Assign> assigns; // in source order; each uses only earlier names
  std::vector<Output> outputs;

  const Layer *findLayer(llvm::StringRef layerName) const {
    for (const Layer &layer : layers)
      if (layer.name == layerName)
        return &layer;
    return nullptr;
  }
};

/// Parses the main buffer of `sourceMgr`. On error prints
/// `file:line:col: error: ...` through the SourceMgr and returns nullopt.
/// `defaultName` is used when the file has no `model` statement.
std::optional<Model> parseModel(llvm::SourceMgr &sourceMgr,
                                llvm::StringRef defaultName);

} // namespace mlir::attn::model

#endif // ATTN_TOOLS_ATTNC_MODELAST_H
