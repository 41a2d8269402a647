//===- OpTable.cpp - The ops a model file can call ------------------------===//
//
// The table of model ops, the generic checks every call goes through before
// its op's builder sees it, and the markdown printer behind
// `attnc --print-op-table`. The builders themselves are in OpBuilders.cpp.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/OpTable.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlir::attn {

//===----------------------------------------------------------------------===//
// The table
//
// A new op: its operand and keyword arrays, an entry in kOps and a builder
// declared in OpTable.h. A new keyword: one line in its op's keyword array,
// read in the builder with `call.getKeyword("name")`. Docs are one line of
// markdown each (no '|'); they become examples/README.md's op table.
//===----------------------------------------------------------------------===//

static const OperandDecl kAttentionOperands[] = {
    {"query", "f32|f16|bf16", "`[B, Hq, Sq, D]`"},
    {"key", "f32|f16|bf16",
     "`[B, Hkv, Skv, D]`; `Hq` is a multiple of `Hkv` (GQA, MQA)"},
    {"value", "f32|f16|bf16", "`[B, Hkv, Skv, Dv]`"},
};

static const char *const kMaskChoices[] = {"none", "causal"};
static const char *const kSimilarityChoices[] = {"dot", "cosine"};
static const llvm::ArrayRef<const char *> kNoChoices;

static const KeywordDecl kAttentionKeywords[] = {
    {"mask", ValueKind::Choice, nullptr, kMaskChoices, "`none`",
     "`causal`: row `i` sees only keys `j <= pos(i)`, a limit that global "
     "tokens obey too"},
    {"scale", ValueKind::Number, nullptr, kNoChoices, "`1/sqrt(D)`",
     "the factor on `Q·Kᵀ`; finite and non-zero"},
    {"window", ValueKind::IntegerOrList, nullptr, kNoChoices, "no window",
     "`[left, right]`: row `i` sees keys `pos(i) - left` to `pos(i) + right`; "
     "`W` means `[W, 0]` with `causal` (where `right` must be 0), else "
     "`[W, W]`"},
    {"global", ValueKind::IntegerOrList, nullptr, kNoChoices, "none",
     "`N`: positions `0` to `N-1`; `[p, ...]`: the distinct positions listed "
     "(each in `[0, Skv)`); every row sees global keys, global rows see every "
     "key"},
    {"segments", ValueKind::Tensor, "i32", kNoChoices, "one segment",
     "`[B, Skv]`: the segment id of each key, non-decreasing; outside the "
     "global tokens a row sees only keys of its own segment"},
    {"q_segments", ValueKind::Tensor, "i32", kNoChoices,
     "`segments` (needs `Sq == Skv`)",
     "`[B, Sq]`: the segment id of each query row, non-decreasing"},
    {"kv_lengths", ValueKind::Tensor, "i32", kNoChoices, "`Skv`",
     "`[B]`: the number of valid keys of each batch (`0` to `Skv`); later "
     "keys are never seen"},
    {"q_lengths", ValueKind::Tensor, "i32", kNoChoices, "`Sq`",
     "`[B]`: the number of valid query rows of each batch (`0` to `Sq`); "
     "later rows give 0"},
    {"similarity", ValueKind::Choice, nullptr, kSimilarityChoices, "`dot`",
     "`cosine`: the score is `temperature · q·k / (‖q‖ ‖k‖)` (norms at "
     "least `1e-12`)"},
    {"temperature", ValueKind::Number, nullptr, kNoChoices, "`1`",
     "`similarity = cosine` only: the factor on the cosine, `> 0`"},
    {"bias", ValueKind::Tensor, "f32|f16|bf16", kNoChoices, "none",
     "`[B or 1, Hq or 1, Sq, Skv]`: added to the scores (relative positions, "
     "T5 buckets)"},
    {"alibi", ValueKind::FlagOrNumbers, nullptr, kNoChoices, "`false`",
     "adds `slope[h] · (j - pos(i))`; `true`: the ALiBi paper's slopes for "
     "`Hq` heads; or one slope per query head"},
    {"softcap", ValueKind::Number, nullptr, kNoChoices, "none",
     "`c > 0`: scores become `c · tanh(s / c)`, after the bias and ALiBi"},
    // attention_probs only (the last kProbsOnlyKeywords entries):
    {"heads", ValueKind::IntegerOrList, nullptr, kNoChoices,
     "the average over all heads",
     "`h` or `[h, ...]`: the query heads whose maps to return, in that order"},
};
static constexpr size_t kProbsOnlyKeywords = 1;
static const llvm::ArrayRef<KeywordDecl> kProbsKeywords(kAttentionKeywords);
static const llvm::ArrayRef<KeywordDecl>
    kAttentionOnlyKeywords = kProbsKeywords.drop_back(kProbsOnlyKeywords);

static const OperandDecl kProbsOperands[] = {
    {"query", "f32|f16|bf16", "`[B, Hq, Sq, D]`"},
    {"key", "f32|f16|bf16", "`[B, Hkv, Skv, D]`"},
    {"lse", "f32",
     "`[B, Hq, Sq]`: the second result of the `attention` call with the same "
     "query, key and keywords"},
};

static const OperandDecl kLinearOperands[] = {
    {"input", "f32", "`[..., K]`"},
    {"weight", "f32", "`[N, K]`, or `[K, N]` with `layout = in_out`"},
};
static const char *const kLayoutChoices[] = {"out_in", "in_out"};
static const KeywordDecl kLinearKeywords[] = {
    {"bias", ValueKind::Tensor, "f32", kNoChoices, "none", "`[N]`, added"},
    {"layout", ValueKind::Choice, nullptr, kLayoutChoices, "`out_in`",
     "`out_in`: `y = x·Wᵀ` (PyTorch `nn.Linear`); `in_out`: `y = x·W` "
     "(GPT-2 `Conv1D`)"},
};

static const OperandDecl kRmsNormOperands[] = {
    {"input", "f32", "`[..., E]`"},
    {"weight", "f32", "`[E]`"},
};
static const OperandDecl kLayerNormOperands[] = {
    {"input", "f32", "`[..., E]`"},
    {"weight", "f32", "`[E]`"},
    {"bias", "f32", "`[E]`"},
};
static const KeywordDecl kRmsNormKeywords[] = {
    {"eps", ValueKind::Number, nullptr, kNoChoices, "`1e-6`",
     "added to the mean square"},
};
static const KeywordDecl kLayerNormKeywords[] = {
    {"eps", ValueKind::Number, nullptr, kNoChoices, "`1e-5`",
     "added to the variance"},
};

static const OperandDecl kRopeOperands[] = {
    {"input", "f32", "`[B, H, S, D]`, `D` even"},
};
static const char *const kRopeScalingChoices[] = {"none", "linear", "llama3"};
static const KeywordDecl kRopeKeywords[] = {
    {"theta", ValueKind::Number, nullptr, kNoChoices, "`10000`",
     "the base of the inverse frequencies `theta^(-2j/D)`"},
    {"offset", ValueKind::Integer, nullptr, kNoChoices, "`0`",
     "the position of row 0 (rows are at `offset + s`)"},
    {"scaling", ValueKind::Choice, nullptr, kRopeScalingChoices, "`none`",
     "Hugging Face `rope_scaling` type"},
    {"factor", ValueKind::Number, nullptr, kNoChoices, "none",
     "`linear` and `llama3`: the scaling factor"},
    {"low_freq_factor", ValueKind::Number, nullptr, kNoChoices, "none",
     "`llama3` only"},
    {"high_freq_factor", ValueKind::Number, nullptr, kNoChoices, "none",
     "`llama3` only"},
    {"original_max_positions", ValueKind::Integer, nullptr, kNoChoices,
     "none", "`llama3` only: the pre-training context length"},
};

static const OperandDecl kUnaryOperands[] = {{"input", "f32", "any shape"}};
static const char *const kGeluChoices[] = {"none", "tanh"};
static const KeywordDecl kGeluKeywords[] = {
    {"approximate", ValueKind::Choice, nullptr, kGeluChoices, "`none`",
     "`none`: `0.5·x·(1 + erf(x/√2))`; `tanh`: the tanh form (`gelu_new`)"},
};
static const OperandDecl kBinaryOperands[] = {
    {"lhs", "f32", "any shape"},
    {"rhs", "f32",
     "broadcast onto `lhs`: each dim equals `lhs`'s trailing one or is 1"},
};

static const KeywordDecl kSplitHeadsKeywords[] = {
    {"heads", ValueKind::Integer, nullptr, kNoChoices, "required",
     "the number of heads `H`"},
};
static const OperandDecl kSplitHeadsOperands[] = {
    {"input", "f32", "`[B, S, H·D]`"}};
static const OperandDecl kMergeHeadsOperands[] = {
    {"input", "f32", "`[B, H, S, D]`"}};
static const OperandDecl kChunkOperands[] = {{"input", "f32", "`[..., N]`"}};
static const KeywordDecl kChunkKeywords[] = {
    {"parts", ValueKind::Integer, nullptr, kNoChoices, "required",
     "`P`, dividing `N`"},
    {"index", ValueKind::Integer, nullptr, kNoChoices, "required",
     "which part, `0` to `P-1`"},
};
static const OperandDecl kEmbeddingOperands[] = {
    {"ids", "i32|i64", "`[B, S]` token ids in `[0, V)`"},
    {"table", "f32", "`[V, E]`"},
};
static const OperandDecl kRowsOperands[] = {{"table", "f32", "`[P, E]`"}};
static const KeywordDecl kRowsKeywords[] = {
    {"count", ValueKind::Integer, nullptr, kNoChoices, "required",
     "how many rows"},
    {"offset", ValueKind::Integer, nullptr, kNoChoices, "`0`",
     "the first row"},
};
static const llvm::ArrayRef<KeywordDecl> kNoKeywords;

static const OpDecl kOps[] = {
    {"attention",
     "scaled dot-product attention, `softmax(modifiers(scale · Q·Kᵀ) + mask) "
     "· V` per batch and query head",
     kAttentionOperands, kAttentionOnlyKeywords, "f32|f16|bf16",
     "`[B, Hq, Sq, Dv]`, the query's element type (all sums are f32)",
     buildAttention,
     "`[B, Hq, Sq]`, named second (`o, lse = attention(...)`): each row's "
     "`log Σ exp(score)` over its visible keys (`-inf` if none)"},
    {"attention_probs",
     "the attention weights `exp(score - lse)` of an `attention` call, "
     "recomputed from its query, key and lse (the map for chosen heads, or "
     "their average)",
     kProbsOperands, kProbsKeywords, "f32",
     "`[B, len(heads), Sq, Skv]`, or `[B, 1, Sq, Skv]` for the average; 0 "
     "where the mask hides a pair",
     buildAttentionProbs},
    {"linear", "dense layer `x·Wᵀ + b`", kLinearOperands, kLinearKeywords,
     "f32", "`[..., N]`", buildLinear},
    {"rms_norm", "`x · rsqrt(mean(x²) + eps) · w` over the last dimension",
     kRmsNormOperands, kRmsNormKeywords, "f32", "the shape of `input`",
     buildRmsNorm},
    {"layer_norm",
     "`(x - mean) / sqrt(var + eps) · w + b` over the last dimension",
     kLayerNormOperands, kLayerNormKeywords, "f32", "the shape of `input`",
     buildLayerNorm},
    {"rope",
     "rotary position embedding, Hugging Face `rotate_half` pairs `(j, j + "
     "D/2)`",
     kRopeOperands, kRopeKeywords, "f32", "the shape of `input`", buildRope},
    {"gelu", "GELU activation", kUnaryOperands, kGeluKeywords, "f32",
     "the shape of `input`", buildActivation},
    {"silu", "`x · sigmoid(x)`", kUnaryOperands, kNoKeywords, "f32",
     "the shape of `input`", buildActivation},
    {"relu", "`max(x, 0)`", kUnaryOperands, kNoKeywords, "f32",
     "the shape of `input`", buildActivation},
    {"add", "elementwise sum", kBinaryOperands, kNoKeywords, "f32",
     "the shape of `lhs`", buildBinary},
    {"mul", "elementwise product", kBinaryOperands, kNoKeywords, "f32",
     "the shape of `lhs`", buildBinary},
    {"split_heads", "feature `h·D + d` to head `h`, dim `d`",
     kSplitHeadsOperands, kSplitHeadsKeywords, "f32", "`[B, H, S, D]`",
     buildSplitHeads},
    {"merge_heads", "the inverse of `split_heads`", kMergeHeadsOperands,
     kNoKeywords, "f32", "`[B, S, H·D]`", buildMergeHeads},
    {"chunk", "one of `P` equal slices of the last dimension",
     kChunkOperands, kChunkKeywords, "f32", "`[..., N/P]`", buildChunk},
    {"embedding", "row lookup `table[ids]`", kEmbeddingOperands, kNoKeywords,
     "f32", "`[B, S, E]`", buildEmbedding},
    {"rows", "rows `offset` to `offset + count - 1` (position embeddings)",
     kRowsOperands, kRowsKeywords, "f32", "`[count, E]`", buildRows},
};

llvm::ArrayRef<OpDecl> getOpTable() { return kOps; }

const OpDecl *lookupOp(llvm::StringRef name) {
  for (const OpDecl &op : kOps)
    if (name == op.name)
      return &op;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Markdown
//===----------------------------------------------------------------------===//

/// `a`, `a` or `b`, `a`, `b` or `c` (each in backquotes unless `quote` is
/// a plain quote).
static std::string joinAlternatives(llvm::ArrayRef<const char *> items,
                                    llvm::StringRef quote) {
  std::string text;
  for (auto [i, item] : llvm::enumerate(items)) {
    if (i > 0)
      text += i + 1 == items.size() ? " or " : ", ";
    text += (quote + item + quote).str();
  }
  return text;
}

/// `f32` tensor, `i32` or `i64` tensor (for "i32|i64").
/// "i32|i64" as `i32` or `i64`, "f32|f16|bf16" as `f32`, `f16` or `bf16`
/// (each between `quote`s).
static std::string typeAlternatives(llvm::StringRef elementType,
                                    llvm::StringRef quote) {
  llvm::SmallVector<llvm::StringRef> types;
  elementType.split(types, '|');
  std::string text;
  for (auto [i, type] : llvm::enumerate(types))
    text += (i == 0 ? "" : i + 1 == types.size() ? " or " : ", ") +
            (quote + type + quote).str();
  return text;
}

static std::string tensorText(llvm::StringRef elementType) {
  return typeAlternatives(elementType, "`") + " tensor";
}

static std::string describeValue(const KeywordDecl &keyword) {
  switch (keyword.kind) {
  case ValueKind::Tensor:
    return tensorText(keyword.elementType);
  case ValueKind::Integer:
    return "integer";
  case ValueKind::Number:
    return "number";
  case ValueKind::Choice:
    return joinAlternatives(keyword.choices, "`");
  case ValueKind::IntegerOrList:
    return "integer or list of integers";
  case ValueKind::FlagOrNumbers:
    return "`true`, `false` or list of numbers";
  }
  llvm_unreachable("unknown value kind");
}

void printOpTable(llvm::raw_ostream &os) {
  for (auto [i, op] : llvm::enumerate(kOps)) {
    if (i > 0)
      os << "\n";
    os << "`" << op.name << "(";
    llvm::interleaveComma(op.operands, os, [&](const OperandDecl &operand) {
      os << operand.name;
    });
    if (!op.keywords.empty())
      os << ", keyword = value, ...";
    os << ")`: " << op.doc << ".\n\n";
    os << "| Argument | Value | Default | Meaning |\n";
    os << "| --- | --- | --- | --- |\n";
    for (const OperandDecl &operand : op.operands)
      os << "| `" << operand.name << "` | " << tensorText(operand.elementType)
         << " | required | " << operand.doc << " |\n";
    for (const KeywordDecl &keyword : op.keywords)
      os << "| `" << keyword.name << "` | " << describeValue(keyword) << " | "
         << keyword.defaultDoc << " | " << keyword.doc << " |\n";
    os << "| result | " << tensorText(op.resultElementType) << " | | "
       << op.resultDoc << " |\n";
    if (op.secondResultDoc)
      os << "| second result | `f32` tensor | optional | "
         << op.secondResultDoc << " |\n";
  }
}

//===----------------------------------------------------------------------===//
// Generic checks
//===----------------------------------------------------------------------===//

std::optional<llvm::StringRef>
findClosestName(llvm::StringRef name,
                llvm::ArrayRef<llvm::StringRef> candidates) {
  unsigned limit = std::max<unsigned>(1, name.size() / 3);
  std::optional<llvm::StringRef> best;
  unsigned bestDistance = limit + 1;
  for (llvm::StringRef candidate : candidates) {
    unsigned distance =
        name.edit_distance(candidate, /*AllowReplacements=*/true,
                           /*MaxEditDistance=*/limit);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/// A value as written, for "got ..." in messages: `'causal'`, `2.5`, `a list`.
static std::string describe(const model::Expr &expr) {
  switch (expr.kind) {
  case model::Expr::Kind::Name:
    return "'" + expr.name + "'";
  case model::Expr::Kind::Number: {
    std::string text;
    llvm::raw_string_ostream(text) << llvm::format("%g", expr.number);
    return text;
  }
  case model::Expr::Kind::List:
    return "a list";
  case model::Expr::Kind::String:
    return "the string \"" + expr.name + "\"";
  }
  llvm_unreachable("unknown expression kind");
}

static std::string printElementType(Value value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  cast<ShapedType>(value.getType()).getElementType().print(os);
  return text;
}

const ArgValue &OpCall::getKeyword(llvm::StringRef name) const {
  for (auto [decl, value] : llvm::zip_equal(decl.keywords, keywords))
    if (name == decl.name)
      return value;
  llvm_unreachable("keyword not declared for this op");
}

LogicalResult OpCall::checkTensor(const model::Expr &expr, llvm::StringRef what,
                                  const char *elementType,
                                  const llvm::StringMap<Value> &values,
                                  Value &result) {
  if (expr.kind != model::Expr::Kind::Name)
    return emitError(expr.loc) << "expected a tensor name for '" << what
                               << "', got " << describe(expr);
  auto it = values.find(expr.name);
  if (it == values.end()) {
    llvm::SmallVector<llvm::StringRef> names;
    for (const auto &entry : values)
      names.push_back(entry.getKey());
    llvm::sort(names);
    InFlightDiagnostic diag = emitError(expr.loc)
                              << "use of undefined value '" << expr.name << "'";
    if (std::optional<llvm::StringRef> closest =
            findClosestName(expr.name, names))
      diag << "; did you mean '" << *closest << "'?";
    return diag;
  }
  result = it->second;
  // `elementType` is one type or alternatives: "i32|i64".
  std::string actual = printElementType(result);
  llvm::SmallVector<llvm::StringRef> allowed;
  llvm::StringRef(elementType).split(allowed, '|');
  if (!llvm::is_contained(allowed, actual))
    return emitError(expr.loc)
           << "expected an " << typeAlternatives(elementType, "")
           << " tensor for '" << what << "', got '" << expr.name
           << "' of element type " << actual;
  return success();
}

LogicalResult OpCall::checkInteger(const model::Expr &expr,
                                   llvm::StringRef what, llvm::StringRef where,
                                   int64_t &result) {
  if (expr.kind != model::Expr::Kind::Number || !expr.isInteger)
    return emitError(expr.loc)
           << "expected " << what << " " << where << ", got " << describe(expr);
  // Integers are exact in a double up to 2^53; anything larger is no
  // sensible size or position.
  if (std::fabs(expr.number) > 0x1p53)
    return emitError(expr.loc) << "integer " << describe(expr) << " " << where
                               << " is out of range";
  result = static_cast<int64_t>(expr.number);
  return success();
}

LogicalResult OpCall::checkKeyword(const KeywordDecl &keyword,
                                   const model::Expr &expr,
                                   const llvm::StringMap<Value> &values,
                                   ArgValue &result) {
  std::string where = ("for '" + llvm::StringRef(keyword.name) + "'").str();
  result.expr = &expr;
  switch (keyword.kind) {
  case ValueKind::Tensor:
    return checkTensor(expr, keyword.name, keyword.elementType, values,
                       result.tensor);
  case ValueKind::Integer:
    return checkInteger(expr, "an integer", where, result.integer);
  case ValueKind::Number:
    if (expr.kind != model::Expr::Kind::Number)
      return emitError(expr.loc)
             << "expected a number " << where << ", got " << describe(expr);
    result.number = expr.number;
    return success();
  case ValueKind::Choice: {
    if (expr.kind == model::Expr::Kind::Name)
      for (const char *choice : keyword.choices)
        if (expr.name == choice) {
          result.choice = choice;
          return success();
        }
    InFlightDiagnostic diag = emitError(expr.loc)
                              << "expected "
                              << joinAlternatives(keyword.choices, "'") << " "
                              << where << ", got " << describe(expr);
    llvm::SmallVector<llvm::StringRef> choices(keyword.choices.begin(),
                                               keyword.choices.end());
    if (expr.kind == model::Expr::Kind::Name)
      if (std::optional<llvm::StringRef> closest =
              findClosestName(expr.name, choices))
        diag << "; did you mean '" << *closest << "'?";
    return diag;
  }
  case ValueKind::IntegerOrList:
    if (expr.kind != model::Expr::Kind::List) {
      if (expr.kind != model::Expr::Kind::Number || !expr.isInteger)
        return emitError(expr.loc) << "expected an integer or a list of "
                                      "integers "
                                   << where << ", got " << describe(expr);
      return checkInteger(expr, "an integer", where, result.integer);
    }
    result.isList = true;
    for (const model::Expr &element : expr.elements)
      if (failed(checkInteger(element, "an integer", "in the list " + where,
                              result.list.emplace_back())))
        return failure();
    return success();
  case ValueKind::FlagOrNumbers:
    if (expr.kind == model::Expr::Kind::Name &&
        (expr.name == "true" || expr.name == "false")) {
      result.flag = expr.name == "true";
      return success();
    }
    if (expr.kind != model::Expr::Kind::List)
      return emitError(expr.loc) << "expected true, false or a list of "
                                    "numbers "
                                 << where << ", got " << describe(expr);
    result.isList = true;
    for (const model::Expr &element : expr.elements) {
      if (element.kind != model::Expr::Kind::Number)
        return emitError(element.loc)
               << "expected a number in the list " << where << ", got "
               << describe(element);
      result.numbers.push_back(element.number);
    }
    return success();
  }
  llvm_unreachable("unknown value kind");
}

LogicalResult OpCall::check(const llvm::StringMap<Value> &values) {
  auto countMismatch = [&](llvm::SMLoc at, size_t got) -> LogicalResult {
    InFlightDiagnostic diag = emitError(at)
                              << decl.name << " takes " << decl.operands.size()
                              << " tensor"
                              << (decl.operands.size() == 1 ? "" : "s") << " (";
    llvm::interleaveComma(decl.operands, diag, [&](const OperandDecl &operand) {
      diag << operand.name;
    });
    return diag << "), got " << got;
  };
  size_t positional = llvm::count_if(
      assign.args, [](const model::Arg &arg) { return arg.keyword.empty(); });
  keywords.assign(decl.keywords.size(), ArgValue());
  for (const model::Arg &arg : assign.args) {
    if (arg.keyword.empty()) {
      if (operands.size() == decl.operands.size())
        return countMismatch(arg.loc, positional);
      const OperandDecl &operand = decl.operands[operands.size()];
      if (failed(checkTensor(arg.value, operand.name, operand.elementType,
                             values, operands.emplace_back())))
        return failure();
      continue;
    }
    const KeywordDecl *keyword =
        llvm::find_if(decl.keywords, [&](const KeywordDecl &keyword) {
          return arg.keyword == keyword.name;
        });
    if (keyword == decl.keywords.end()) {
      llvm::SmallVector<llvm::StringRef> names;
      for (const KeywordDecl &keyword : decl.keywords)
        names.push_back(keyword.name);
      InFlightDiagnostic diag = emitError(arg.loc)
                                << "unknown keyword '" << arg.keyword
                                << "' for " << decl.name;
      if (std::optional<llvm::StringRef> closest =
              findClosestName(arg.keyword, names))
        return diag << "; did you mean '" << *closest << "'?";
      if (names.empty())
        return diag << "; it takes no keywords";
      diag << "; expected one of ";
      llvm::interleaveComma(names, diag);
      return diag;
    }
    if (failed(checkKeyword(*keyword, arg.value, values,
                            keywords[keyword - decl.keywords.begin()])))
      return failure();
  }
  if (operands.size() != decl.operands.size())
    return countMismatch(assign.calleeLoc, operands.size());
  size_t maxResults = decl.secondResultDoc ? 2 : 1;
  if (getNumResults() > maxResults)
    return emitError(assign.moreResults[maxResults - 1].loc)
           << decl.name << " has " << (maxResults == 1 ? "one result" : "two results")
           << ", got " << getNumResults() << " names";
  for (auto [keyword, value] : llvm::zip_equal(decl.keywords, keywords))
    if (keyword.isRequired() && !value.isPresent())
      return emitError(assign.calleeLoc)
             << decl.name << " needs '" << keyword.name << " = ...'";
  return success();
}

FailureOr<Value> buildOpCall(const model::Assign &assign,
                             const llvm::StringMap<Value> &values,
                             OpBuilder &builder,
                             llvm::function_ref<Location(llvm::SMLoc)> locate) {
  const OpDecl *decl = lookupOp(assign.callee);
  if (!decl) {
    llvm::SmallVector<llvm::StringRef> names;
    for (const OpDecl &op : getOpTable())
      names.push_back(op.name);
    InFlightDiagnostic diag = emitError(locate(assign.calleeLoc))
                              << "unknown op '" << assign.callee << "'";
    if (std::optional<llvm::StringRef> closest =
            findClosestName(assign.callee, names))
      return diag << "; did you mean '" << *closest << "'?";
    diag << "; available ops: ";
    llvm::interleaveComma(names, diag);
    return diag;
  }
  OpCall call(*decl, assign, builder, locate);
  if (failed(call.check(values)))
    return failure();
  return decl->build(call);
}

} // namespace mlir::attn
