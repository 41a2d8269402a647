//===- OpTable.h - The ops a model file can call ----------------*- C++ -*-===//
//
// One declaration per model op: its positional tensor operands, its keyword
// arguments (each with a value kind, a default and one line of doc) and the
// function that builds its IR. IRGen checks every call against the table in
// one generic pass (unknown op or keyword with a did-you-mean, wrong value
// kind or element type, undefined names, missing or extra operands) and then
// hands the checked values to the op's builder, which checks only what the
// values mean for that op. `attnc --print-op-table` prints the table as the
// markdown that examples/README.md holds.
//
// Adding an op or a keyword is one entry in OpTable.cpp plus its builder.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_OPTABLE_H
#define ATTN_TOOLS_ATTNC_OPTABLE_H

#include "tools/attnc/ModelAST.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir::attn {

/// What a keyword's value must be.
enum class ValueKind {
  Tensor,        ///< the name of a defined tensor of `elementType`
  Integer,       ///< an integer: `64`, `-3`
  Number,        ///< any number: `0.125`, `64`
  Choice,        ///< one of the keyword's `choices`, written as a name
  IntegerOrList, ///< an integer or a list of integers: `4`, `[0, 7]`
  FlagOrNumbers, ///< `true`, `false` or a list of numbers: `[0.5, 0.25]`
};

/// A positional operand; every one is a required tensor.
struct OperandDecl {
  const char *name;        ///< in messages and docs: `query`
  const char *elementType; ///< as written in a model file: `f32`
  const char *doc;         ///< one line of markdown: shape and meaning
};

/// A `keyword = value` argument; optional unless its defaultDoc is
/// "required".
struct KeywordDecl {
  const char *name;
  ValueKind kind;
  const char *elementType;              ///< ValueKind::Tensor only, else null
  llvm::ArrayRef<const char *> choices; ///< ValueKind::Choice only
  const char *defaultDoc;               ///< markdown: what applies when absent
  const char *doc;                      ///< one line of markdown

  bool isRequired() const { return llvm::StringRef(defaultDoc) == "required"; }
};

class OpCall;
/// Builds an op's IR from a call that passed the table's checks; emits a
/// located error and returns failure for values the op rejects.
using OpBuildFn = FailureOr<Value> (*)(OpCall &call);

struct OpDecl {
  const char *name;
  const char *doc; ///< one line of markdown
  llvm::ArrayRef<OperandDecl> operands;
  llvm::ArrayRef<KeywordDecl> keywords;
  const char *resultElementType;
  const char *resultDoc; ///< one line of markdown: the result's shape
  OpBuildFn build;
  /// An optional second result (`a, b = op(...)`), one line of markdown;
  /// null when the op has one result.
  const char *secondResultDoc = nullptr;
};

/// Every op a model can call, in documentation order.
llvm::ArrayRef<OpDecl> getOpTable();

/// The op called `name`, or null.
const OpDecl *lookupOp(llvm::StringRef name);

/// Prints the table as markdown: per op, its signature line and a table of
/// its operands, keywords and result (the block in examples/README.md).
void printOpTable(llvm::raw_ostream &os);

/// The candidate closest to `name` by edit distance when it is close enough
/// to be a likely misspelling (at most a third of `name`'s letters, and at
/// least one, differ), else nullopt.
std::optional<llvm::StringRef>
findClosestName(llvm::StringRef name,
                llvm::ArrayRef<llvm::StringRef> candidates);

/// One checked argument. Which fields are set depends on the kind of its
/// declaration; `expr` is null when the keyword was not given.
struct ArgValue {
  const model::Expr *expr = nullptr;
  Value tensor;                    ///< Tensor
  int64_t integer = 0;             ///< Integer; IntegerOrList, not isList
  double number = 0;               ///< Number
  llvm::StringRef choice;          ///< Choice
  bool isList = false;             ///< IntegerOrList written as a list
  llvm::SmallVector<int64_t> list; ///< IntegerOrList, isList
  bool flag = false;               ///< FlagOrNumbers written `true`
  llvm::SmallVector<double> numbers; ///< FlagOrNumbers, isList

  bool isPresent() const { return expr != nullptr; }
  /// Where the value (or list element `i`) is written; only if present.
  llvm::SMLoc getLoc() const { return expr->loc; }
  llvm::SMLoc getElementLoc(size_t i) const { return expr->elements[i].loc; }
};

/// What a builder receives: the call's checked operands and keywords, and
/// the means to build and locate IR.
class OpCall {
public:
  OpCall(const OpDecl &decl, const model::Assign &assign, OpBuilder &builder,
         llvm::function_ref<Location(llvm::SMLoc)> locate)
      : decl(decl), assign(assign), builder(builder), locate(locate) {}

  const OpDecl &getDecl() const { return decl; }
  OpBuilder &getBuilder() { return builder; }
  MLIRContext *getContext() { return builder.getContext(); }
  /// The op's location: the op name in the call.
  Location getLoc() const { return locate(assign.calleeLoc); }
  Location getLoc(llvm::SMLoc at) const { return locate(at); }
  InFlightDiagnostic emitError(llvm::SMLoc at) const {
    return mlir::emitError(locate(at));
  }

  /// The positional operands, in the declaration's order.
  llvm::ArrayRef<Value> getOperands() const { return operands; }
  Value getOperand(size_t i) const { return operands[i]; }
  /// How many results the call names (`o, lse = attention(...)`: 2).
  size_t getNumResults() const { return 1 + assign.moreResults.size(); }
  /// The keyword `name`, which must be declared for the op.
  const ArgValue &getKeyword(llvm::StringRef name) const;

  /// Checks `assign` against the table entry `decl`: operand count, known
  /// keywords, value kinds and element types, and that every tensor name is
  /// defined in `values`. Emits a located error and returns failure on the
  /// first problem.
  LogicalResult check(const llvm::StringMap<Value> &values);

private:
  LogicalResult checkTensor(const model::Expr &expr, llvm::StringRef what,
                            const char *elementType,
                            const llvm::StringMap<Value> &values,
                            Value &result);
  LogicalResult checkInteger(const model::Expr &expr, llvm::StringRef what,
                             llvm::StringRef where, int64_t &result);
  LogicalResult checkKeyword(const KeywordDecl &keyword,
                             const model::Expr &expr,
                             const llvm::StringMap<Value> &values,
                             ArgValue &result);

  const OpDecl &decl;
  const model::Assign &assign;
  OpBuilder &builder;
  llvm::function_ref<Location(llvm::SMLoc)> locate;
  llvm::SmallVector<Value, 4> operands;
  llvm::SmallVector<ArgValue, 8> keywords; ///< parallel to decl.keywords
};

/// Checks `assign` against the table and builds it with its op's builder;
/// returns the first result (the others are results of its defining op).
/// `values` maps the names defined so far to their values. Emits a located
/// error (at `locate` of the offending source position) on failure.
FailureOr<Value> buildOpCall(const model::Assign &assign,
                             const llvm::StringMap<Value> &values,
                             OpBuilder &builder,
                             llvm::function_ref<Location(llvm::SMLoc)> locate);

//===----------------------------------------------------------------------===//
// Builders, one per op (OpBuilders.cpp)
//===----------------------------------------------------------------------===//

FailureOr<Value> buildAttention(OpCall &call);
FailureOr<Value> buildAttentionProbs(OpCall &call);
FailureOr<Value> buildLinear(OpCall &call);
FailureOr<Value> buildRmsNorm(OpCall &call);
FailureOr<Value> buildLayerNorm(OpCall &call);
FailureOr<Value> buildRope(OpCall &call);
FailureOr<Value> buildActivation(OpCall &call); // gelu, silu, relu
FailureOr<Value> buildBinary(OpCall &call);     // add, mul
FailureOr<Value> buildSplitHeads(OpCall &call);
FailureOr<Value> buildMergeHeads(OpCall &call);
FailureOr<Value> buildChunk(OpCall &call);
FailureOr<Value> buildEmbedding(OpCall &call);
FailureOr<Value> buildRows(OpCall &call);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_OPTABLE_H
