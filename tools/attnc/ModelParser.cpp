//===- ModelParser.cpp - Parser for .model descriptions -------------------===//
//
// A recursive-descent parser for the line-oriented model description format
// documented in examples/README.md, over the tokens of ModelLexer.h. A
// statement ends at a newline, except inside ( ) or [ ], so a call's
// arguments may span several lines. The parser checks syntax, element types,
// shapes, that every name is defined once (inputs, weights and op results
// share one namespace; each layer has its own) and that every output names a
// value defined above it. What an op's arguments mean, including whether an
// argument name refers to a value, is checked by IRGen. Errors go through the
// SourceMgr as `file:line:col: error: ...`; parsing stops at the first one.
//
//===----------------------------------------------------------------------===//
#include "dialect/SizeLimits.h"
#include "tools/attnc/ModelAST.h"
#include "tools/attnc/ModelLexer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/LogicalResult.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>
#include <utility>

namespace mlir::attn::model {
namespace {

using llvm::failed;
using llvm::failure;
using llvm::LogicalResult;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::success;
using llvm::Twine;

constexpr size_t kMaxRank = 8;
constexpr unsigned kMaxListDepth = 16;

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

class Parser {
public:
  Parser(llvm::SourceMgr &sourceMgr, StringRef defaultName)
      : sourceMgr(sourceMgr),
        buffer(
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer()),
        lexer(buffer) {
    model.name = defaultName.str();
    model.nameLoc = SMLoc::getFromPointer(buffer.data());
    advance();
  }

  std::optional<Model> parse();

private:
  LogicalResult parseStatement();
  LogicalResult parseModelName();
  LogicalResult parseInput();
  LogicalResult parseWeight(std::vector<Weight> &weights);
  LogicalResult parseTensorType(std::string &elementType,
                                std::vector<int64_t> &shape, bool allowIntegers);
  LogicalResult parseDimension(std::vector<int64_t> &shape);
  LogicalResult parseLayer();
  LogicalResult parseLayerStatement(Layer &layer, bool &ended);
  LogicalResult parseAssign(std::vector<Assign> &assigns);
  LogicalResult parseOutputs();
  LogicalResult parseString(std::string &value);
  LogicalResult parseExpr(Expr &expr, unsigned depth = 0);

  void advance() { tok = lexer.lex(); }
  bool consumeIf(char c) {
    if (!tok.is(c))
      return false;
    advance();
    return true;
  }
  LogicalResult emitError(SMLoc loc, const Twine &message) {
    sourceMgr.PrintMessage(loc, llvm::SourceMgr::DK_Error, message);
    return failure();
  }
  /// Reports that the current token is not `expected` (or the lexer's error,
  /// if the current token is one). `open` is the bracket being closed, if any.
  LogicalResult unexpected(const Twine &expected, SMLoc open = SMLoc());
  /// Records a definition of `name`; an error if it already has one.
  LogicalResult define(StringRef name, SMLoc loc);

  llvm::SourceMgr &sourceMgr;
  StringRef buffer;
  Lexer lexer;
  Token tok;
  Model model;
  bool named = false;
  llvm::StringMap<SMLoc> definitions; // of the model, or of the layer being
                                      // parsed
  llvm::StringMap<SMLoc> layerNames;
  llvm::StringSet<> outputNames;
};

LogicalResult Parser::unexpected(const Twine &expected, SMLoc open) {
  if (tok.kind == TokKind::Error)
    return emitError(tok.loc(), tok.message);
  std::string got = tok.kind == TokKind::Newline ? "end of line"
                    : tok.kind == TokKind::Eof   ? "end of file"
                    : tok.text.size() <= 32
                        ? ("'" + tok.text + "'").str()
                        : ("'" + tok.text.take_front(32) + "...'").str();
  (void)emitError(tok.loc(), "expected " + expected + ", got " + got);
  if (open.isValid() &&
      sourceMgr.FindLineNumber(open) != sourceMgr.FindLineNumber(tok.loc()))
    sourceMgr.PrintMessage(open, llvm::SourceMgr::DK_Note,
                           Twine("to match this '") +
                               Twine(*open.getPointer()) + "'");
  return failure();
}

LogicalResult Parser::define(StringRef name, SMLoc loc) {
  auto [it, inserted] = definitions.try_emplace(name, loc);
  if (inserted)
    return success();
  return emitError(loc, "'" + name + "' is already defined at line " +
                            Twine(sourceMgr.FindLineNumber(it->second)));
}

std::optional<Model> Parser::parse() {
  while (true) {
    while (tok.kind == TokKind::Newline)
      advance();
    if (tok.kind == TokKind::Eof)
      break;
    if (failed(parseStatement()))
      return std::nullopt;
    if (tok.kind != TokKind::Newline && tok.kind != TokKind::Eof) {
      (void)unexpected("end of line after statement");
      return std::nullopt;
    }
  }
  if (model.outputs.empty()) {
    (void)emitError(SMLoc::getFromPointer(buffer.data()),
                    "model has no output; add 'output NAME'");
    return std::nullopt;
  }
  return std::move(model);
}

/// stmt := 'model' ... | 'input' ... | 'weight' ... | 'layer' ... 'end'
///       | 'output' ... | IDENT '=' ...
LogicalResult Parser::parseStatement() {
  if (tok.kind != TokKind::Ident)
    return unexpected("a statement (model, input, weight, layer, output or "
                      "NAME = op(...))");
  if (tok.text == "model")
    return parseModelName();
  if (tok.text == "input")
    return parseInput();
  if (tok.text == "weight")
    return parseWeight(model.weights);
  if (tok.text == "layer")
    return parseLayer();
  if (tok.text == "output")
    return parseOutputs();
  if (tok.text == "return" || tok.text == "end")
    return emitError(tok.loc(), "'" + tok.text + "' outside a layer");
  return parseAssign(model.assigns);
}

/// 'model' IDENT
LogicalResult Parser::parseModelName() {
  if (named)
    return emitError(tok.loc(), "a model may only be named once");
  advance();
  if (tok.kind != TokKind::Ident)
    return unexpected("a model name after 'model'");
  model.name = tok.text.str();
  model.nameLoc = tok.loc();
  named = true;
  advance();
  return success();
}

/// 'input' IDENT ':' type
LogicalResult Parser::parseInput() {
  advance();
  Input input;
  input.loc = tok.loc();
  if (tok.kind != TokKind::Ident)
    return unexpected("an input name after 'input'");
  input.name = tok.text.str();
  advance();
  if (!consumeIf(':'))
    return unexpected("':' after input name '" + input.name + "'");
  if (failed(parseTensorType(input.elementType, input.shape,
                             /*allowIntegers=*/true)) ||
      failed(define(input.name, input.loc)))
    return failure();
  model.inputs.push_back(std::move(input));
  return success();
}

/// 'weight' IDENT ':' type ['=' STRING]
LogicalResult Parser::parseWeight(std::vector<Weight> &weights) {
  advance();
  Weight weight;
  weight.loc = tok.loc();
  if (tok.kind != TokKind::Ident)
    return unexpected("a weight name after 'weight'");
  weight.name = tok.text.str();
  advance();
  if (!consumeIf(':'))
    return unexpected("':' after weight name '" + weight.name + "'");
  std::string elementType;
  if (failed(parseTensorType(elementType, weight.shape, /*allowIntegers=*/false)))
    return failure();
  if (consumeIf('=')) {
    SMLoc at = tok.loc();
    if (failed(parseString(weight.fileName)))
      return failure();
    if (weight.fileName.empty())
      return emitError(at, "a weight's file name must not be empty");
  }
  if (failed(define(weight.name, weight.loc)))
    return failure();
  weights.push_back(std::move(weight));
  return success();
}

/// type := [IDENT] '[' INT {',' INT} ']'
LogicalResult Parser::parseTensorType(std::string &elementType,
                                      std::vector<int64_t> &shape,
                                      bool allowIntegers) {
  SMLoc typeLoc = tok.loc();
  const char *expected = allowIntegers ? "f32, f16, bf16, i32 or i64" : "f32";
  if (tok.kind == TokKind::Ident) {
    bool half = tok.text == "f16" || tok.text == "bf16";
    if (half && !allowIntegers)
      return emitError(typeLoc, "weights are f32 (f16 and bf16 weight files "
                                "are converted as they are read), not '" +
                                    tok.text + "'");
    if (tok.text != "f32" && !(allowIntegers && (half || tok.text == "i32" ||
                                                 tok.text == "i64")))
      return emitError(typeLoc, "unknown element type '" + tok.text +
                                    "'; expected " + expected);
    elementType = tok.text.str();
    advance();
  }
  SMLoc open = tok.loc();
  if (!consumeIf('['))
    return unexpected("a shape such as [1, 8, 128, 64] or f32[1, 8, 128, 64]");
  std::vector<SMLoc> dimLocs;
  do {
    dimLocs.push_back(tok.loc());
    if (failed(parseDimension(shape)))
      return failure();
  } while (consumeIf(','));
  if (!consumeIf(']'))
    return unexpected("']' or ',' in shape", open);
  if (shape.size() > kMaxRank)
    return emitError(typeLoc, "tensor rank " + Twine(shape.size()) +
                                  " exceeds the maximum of " + Twine(kMaxRank));
  std::string type = elementType.empty() ? "f32" : elementType;
  int64_t elementBytes = type == "i64" ? 8 : type == "f16" || type == "bf16" ? 2 : 4;
  double bytes = 0;
  int64_t oversized = firstOversizedDim(shape, elementBytes, bytes);
  if (oversized >= 0) {
    std::string dims;
    for (int64_t dim : shape)
      dims += (dims.empty() ? "" : ", ") + std::to_string(dim);
    return emitError(dimLocs[oversized],
                     type + "[" + dims + "] would take " +
                         llvm::formatv("{0:e2}", bytes).str() + " bytes, " +
                         kTooLargeToAllocate);
  }
  return success();
}

/// 'layer' IDENT '(' [IDENT {',' IDENT}] ')' NEWLINE {layer-stmt} 'end'
LogicalResult Parser::parseLayer() {
  SMLoc layerLoc = tok.loc();
  advance();
  Layer layer;
  layer.loc = tok.loc();
  if (tok.kind != TokKind::Ident)
    return unexpected("a layer name after 'layer'");
  layer.name = tok.text.str();
  auto [it, inserted] = layerNames.try_emplace(layer.name, layer.loc);
  if (!inserted)
    return emitError(layer.loc, "layer '" + layer.name +
                                    "' is already defined at line " +
                                    Twine(sourceMgr.FindLineNumber(it->second)));
  advance();
  SMLoc open = tok.loc();
  if (!consumeIf('('))
    return unexpected("'(' after layer name '" + layer.name + "'");
  // The layer's names are its own: swap in an empty namespace.
  llvm::StringMap<SMLoc> outer = std::exchange(definitions, {});
  llvm::scope_exit restore([&] { definitions = std::move(outer); });
  while (tok.kind == TokKind::Ident) {
    Output &param = layer.params.emplace_back();
    param.loc = tok.loc();
    param.name = tok.text.str();
    if (failed(define(param.name, param.loc)))
      return failure();
    advance();
    if (!consumeIf(','))
      break;
  }
  if (!consumeIf(')'))
    return unexpected("a parameter name, ',' or ')' in layer '" + layer.name +
                          "'",
                      open);
  if (layer.params.empty())
    return emitError(open, "layer '" + layer.name +
                               "' needs at least one tensor parameter");
  bool ended = false;
  while (!ended) {
    if (tok.kind != TokKind::Newline)
      return unexpected("end of line after statement");
    while (tok.kind == TokKind::Newline)
      advance();
    if (tok.kind == TokKind::Eof || tok.kind == TokKind::Error) {
      if (tok.kind == TokKind::Error)
        return unexpected("a statement");
      return emitError(layerLoc,
                       "layer '" + layer.name + "' has no 'end'");
    }
    if (failed(parseLayerStatement(layer, ended)))
      return failure();
  }
  model.layers.push_back(std::move(layer));
  return success();
}

/// layer-stmt := 'weight' ... | IDENT '=' ... | 'return' IDENT | 'end'
LogicalResult Parser::parseLayerStatement(Layer &layer, bool &ended) {
  if (tok.kind != TokKind::Ident)
    return unexpected("a statement in layer '" + layer.name +
                      "' (weight, NAME = op(...), return or end)");
  StringRef word = tok.text;
  if (word == "weight")
    return parseWeight(layer.weights);
  if (word == "model" || word == "input" || word == "output" ||
      word == "layer")
    return emitError(tok.loc(), "'" + word + "' is not allowed inside layer '" +
                                    layer.name + "'");
  if (word == "end") {
    if (layer.result.name.empty())
      return emitError(tok.loc(), "layer '" + layer.name +
                                      "' ends without 'return'");
    advance();
    ended = true;
    return success();
  }
  if (word != "return")
    return parseAssign(layer.assigns);
  if (!layer.result.name.empty())
    return emitError(tok.loc(), "layer '" + layer.name +
                                    "' already returned at line " +
                                    Twine(sourceMgr.FindLineNumber(
                                        layer.result.loc)));
  advance();
  if (tok.kind != TokKind::Ident)
    return unexpected("the name of the value 'return' gives");
  layer.result.loc = tok.loc();
  layer.result.name = tok.text.str();
  if (!definitions.count(layer.result.name))
    return emitError(layer.result.loc,
                     "'" + layer.result.name + "' is not defined");
  if (llvm::any_of(layer.params,
                   [&](const Output &p) { return p.name == layer.result.name; }))
    return emitError(layer.result.loc,
                     "layer '" + layer.name + "' returns its parameter '" +
                         layer.result.name +
                         "'; return the result of an op");
  advance();
  if (tok.is(','))
    return emitError(tok.loc(), "a layer returns one value");
  return success();
}

/// A positive integer dimension. A sign or fraction is parsed so the error
/// can show the whole value.
LogicalResult Parser::parseDimension(std::vector<int64_t> &shape) {
  SMLoc loc = tok.loc();
  bool negative = consumeIf('-');
  if (tok.kind != TokKind::Number)
    return unexpected(negative ? "a number after '-'"
                               : "a dimension (positive integer) in shape");
  StringRef text = tok.text;
  int64_t dim = 0;
  bool isInteger = llvm::all_of(text, llvm::isDigit);
  if (isInteger && !negative && text.getAsInteger(10, dim))
    return emitError(loc, "dimension " + text + " does not fit in 64 bits");
  if (negative || !isInteger || dim <= 0)
    return emitError(loc, "dimension must be a positive integer, got " +
                              Twine(negative ? "-" : "") + text);
  shape.push_back(dim);
  advance();
  return success();
}

/// IDENT {',' IDENT} '=' IDENT '(' [ arg {',' arg} [','] ] ')'
/// arg := expr | IDENT '=' expr
LogicalResult Parser::parseAssign(std::vector<Assign> &assigns) {
  Assign assign;
  assign.loc = tok.loc();
  assign.result = tok.text.str();
  advance();
  while (consumeIf(',')) {
    if (tok.kind != TokKind::Ident)
      return unexpected("a result name after ','");
    assign.moreResults.push_back({tok.loc(), tok.text.str()});
    advance();
  }
  if (!consumeIf('='))
    return unexpected("'=' after '" +
                      (assign.moreResults.empty()
                           ? assign.result
                           : assign.moreResults.back().name) +
                      "'");
  if (failed(define(assign.result, assign.loc)))
    return failure();
  for (const Output &more : assign.moreResults)
    if (failed(define(more.name, more.loc)))
      return failure();
  if (tok.kind != TokKind::Ident)
    return unexpected("an op name after '='");
  assign.calleeLoc = tok.loc();
  assign.callee = tok.text.str();
  advance();
  SMLoc open = tok.loc();
  if (!consumeIf('('))
    return unexpected("'(' after op name '" + assign.callee + "'");

  llvm::StringSet<> keywords;
  bool sawKeyword = false;
  while (!tok.is(')')) {
    Arg arg;
    arg.loc = tok.loc();
    if (failed(parseExpr(arg.value)))
      return failure();
    if (arg.value.kind == Expr::Kind::Name && consumeIf('=')) {
      arg.keyword = std::move(arg.value.name);
      if (!keywords.insert(arg.keyword).second)
        return emitError(arg.loc,
                         "duplicate keyword argument '" + arg.keyword + "'");
      sawKeyword = true;
      if (failed(parseExpr(arg.value)))
        return failure();
    } else if (sawKeyword) {
      return emitError(arg.loc, "positional argument after keyword argument");
    }
    assign.args.push_back(std::move(arg));
    if (!consumeIf(','))
      break;
  }
  if (!consumeIf(')'))
    return unexpected("',' or ')' in the arguments of '" + assign.callee + "'",
                      open);
  assigns.push_back(std::move(assign));
  return success();
}

/// 'output' IDENT {',' IDENT}
LogicalResult Parser::parseOutputs() {
  do {
    advance(); // 'output' or ','
    if (tok.kind != TokKind::Ident)
      return unexpected("an output name");
    Output output;
    output.loc = tok.loc();
    output.name = tok.text.str();
    if (!definitions.count(output.name))
      return emitError(output.loc,
                       "output '" + output.name + "' is not defined");
    if (!outputNames.insert(output.name).second)
      return emitError(output.loc,
                       "output '" + output.name + "' is listed twice");
    model.outputs.push_back(std::move(output));
    advance();
  } while (tok.is(','));
  return success();
}

/// STRING: '"' chars '"' with escapes \" and \\ (no others).
LogicalResult Parser::parseString(std::string &value) {
  if (tok.kind != TokKind::String)
    return unexpected("a string such as \"model.norm.weight\"");
  StringRef body = tok.text.drop_front().drop_back();
  value.clear();
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      value += body[i];
      continue;
    }
    char next = body[++i];
    if (next != '"' && next != '\\')
      return emitError(SMLoc::getFromPointer(body.data() + i - 1),
                       Twine("unknown escape '\\") + Twine(next) +
                           "' in string; only \\\" and \\\\ are allowed");
    value += next;
  }
  advance();
  return success();
}

/// expr := IDENT | NUMBER | '-' NUMBER | STRING | '[' [ expr {',' expr} ] ']'
LogicalResult Parser::parseExpr(Expr &expr, unsigned depth) {
  expr.loc = tok.loc();
  if (tok.kind == TokKind::String) {
    expr.kind = Expr::Kind::String;
    return parseString(expr.name);
  }
  if (tok.kind == TokKind::Ident) {
    expr.kind = Expr::Kind::Name;
    expr.name = tok.text.str();
    advance();
    return success();
  }
  if (tok.is('[')) {
    if (depth == kMaxListDepth)
      return emitError(expr.loc, "lists may be nested at most " +
                                     Twine(kMaxListDepth) + " deep");
    expr.kind = Expr::Kind::List;
    advance();
    if (!tok.is(']')) {
      do {
        if (failed(parseExpr(expr.elements.emplace_back(), depth + 1)))
          return failure();
      } while (consumeIf(','));
    }
    if (!consumeIf(']'))
      return unexpected("',' or ']' in list", expr.loc);
    return success();
  }
  bool negative = consumeIf('-');
  if (tok.kind != TokKind::Number)
    return unexpected(negative ? "a number after '-'"
                               : "a value (name, number or list)");
  expr.kind = Expr::Kind::Number;
  expr.isInteger = llvm::all_of(tok.text, llvm::isDigit);
  if (tok.text.getAsDouble(expr.number) || !std::isfinite(expr.number))
    return emitError(tok.loc(), "number " + tok.text + " is out of range");
  if (negative)
    expr.number = -expr.number;
  advance();
  return success();
}

} // namespace

std::optional<Model> parseModel(llvm::SourceMgr &sourceMgr,
                                StringRef defaultName) {
  return Parser(sourceMgr, defaultName).parse();
}

} // namespace mlir::attn::model
