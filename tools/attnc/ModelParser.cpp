//===- ModelParser.cpp - Parser for .model descriptions -------------------===//
//
// A lexer and recursive-descent parser for the line-oriented model description
// format documented in examples/README.md. A statement ends at a newline,
// except inside ( ) or [ ], so a call's arguments may span several lines. The
// parser checks syntax, element types, shapes, that every name is defined once
// (inputs and op results share one namespace) and that every output names a
// value defined above it. What an op's arguments mean, including whether an
// argument name refers to a value, is checked by IRGen. Errors go through the
// SourceMgr as `file:line:col: error: ...`; parsing stops at the first one.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/ModelAST.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/LogicalResult.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>

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
// Lexer
//===----------------------------------------------------------------------===//

enum class TokKind { Ident, Number, Punct, Newline, Eof, Error };

struct Token {
  TokKind kind = TokKind::Eof;
  StringRef text;      // the spelling; empty at end of file
  std::string message; // TokKind::Error only
  SMLoc loc() const { return SMLoc::getFromPointer(text.data()); }
  bool is(char c) const { return kind == TokKind::Punct && text[0] == c; }
};

/// Consumes a run of decimal digits from the front of `s`; returns its length.
static size_t consumeDigits(StringRef &s) {
  size_t n = s.size() - s.ltrim("0123456789").size();
  s = s.drop_front(n);
  return n;
}

/// True for `64`, `0.125`, `1.`, `.5`, `1e-3`: digits, an optional fraction
/// and an optional exponent, with at least one digit before the exponent.
static bool isWellFormedNumber(StringRef s) {
  size_t mantissaDigits = consumeDigits(s);
  if (s.consume_front("."))
    mantissaDigits += consumeDigits(s);
  if (mantissaDigits == 0)
    return false;
  if (s.consume_front("e") || s.consume_front("E")) {
    (void)(s.consume_front("+") || s.consume_front("-"));
    if (consumeDigits(s) == 0)
      return false;
  }
  return s.empty();
}

static bool isIdentChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '.';
}

/// Splits the buffer into tokens. Newlines inside ( ) or [ ] are skipped, and
/// reaching the end of the buffer with a bracket open is an error token.
class Lexer {
public:
  explicit Lexer(StringRef buffer) : cur(buffer.begin()), end(buffer.end()) {}
  Token lex();

private:
  Token make(TokKind kind, const char *start) {
    Token tok;
    tok.kind = kind;
    tok.text = StringRef(start, cur - start);
    return tok;
  }
  Token error(const char *at, const Twine &message) {
    Token tok;
    tok.kind = TokKind::Error;
    tok.text = StringRef(at, 1);
    tok.message = message.str();
    return tok;
  }

  const char *cur, *end;
  llvm::SmallVector<const char *> openBrackets;
};

Token Lexer::lex() {
  // Skip blanks (a '\r' of a CRLF included), comments, and bracketed newlines.
  while (cur != end) {
    if (*cur == '#')
      while (cur != end && *cur != '\n')
        ++cur;
    else if (StringRef(" \t\r\f\v").contains(*cur) ||
             (*cur == '\n' && !openBrackets.empty()))
      ++cur;
    else
      break;
  }
  const char *start = cur;
  if (cur == end) {
    if (openBrackets.empty())
      return make(TokKind::Eof, start);
    char open = *openBrackets.back();
    return error(openBrackets.back(),
                 Twine("unterminated '") + Twine(open) + "': expected '" +
                     Twine(open == '(' ? ')' : ']') + "' before end of file");
  }

  char c = *cur++;
  if (c == '\n')
    return make(TokKind::Newline, start);
  if (llvm::isAlpha(c) || c == '_') {
    while (cur != end && isIdentChar(*cur))
      ++cur;
    return make(TokKind::Ident, start);
  }
  if (llvm::isDigit(c) || (c == '.' && cur != end && llvm::isDigit(*cur))) {
    // Take the whole run so that `12ab` is one bad number, not two tokens.
    while (cur != end &&
           (isIdentChar(*cur) || ((*cur == '-' || *cur == '+') &&
                                  (cur[-1] == 'e' || cur[-1] == 'E'))))
      ++cur;
    StringRef text(start, cur - start);
    if (!isWellFormedNumber(text))
      return error(start, "invalid number '" + text + "'");
    return make(TokKind::Number, start);
  }
  if (StringRef("()[],=:-").contains(c)) {
    if (c == '(' || c == '[')
      openBrackets.push_back(start);
    else if ((c == ')' || c == ']') && !openBrackets.empty())
      openBrackets.pop_back();
    return make(TokKind::Punct, start);
  }
  std::string spelling = llvm::isPrint(c)
                             ? std::string(1, c)
                             : "\\x" + llvm::toHex(StringRef(start, 1), true);
  return error(start, "unexpected character '" + spelling + "'");
}

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
  LogicalResult parseDimension(std::vector<int64_t> &shape);
  LogicalResult parseAssign();
  LogicalResult parseOutputs();
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
  llvm::StringMap<SMLoc> definitions;
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

/// stmt := 'model' ... | 'input' ... | 'output' ... | IDENT '=' ...
LogicalResult Parser::parseStatement() {
  if (tok.kind != TokKind::Ident)
    return unexpected("a statement (model, input, output or NAME = op(...))");
  if (tok.text == "model")
    return parseModelName();
  if (tok.text == "input")
    return parseInput();
  if (tok.text == "output")
    return parseOutputs();
  return parseAssign();
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

/// 'input' IDENT ':' [IDENT] '[' INT {',' INT} ']'
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

  SMLoc typeLoc = tok.loc();
  if (tok.kind == TokKind::Ident) {
    if (tok.text == "f16" || tok.text == "bf16")
      return emitError(typeLoc, "element type '" + tok.text +
                                    "' is not supported yet; use f32");
    if (tok.text != "f32" && tok.text != "i32")
      return emitError(typeLoc, "unknown element type '" + tok.text +
                                    "'; expected f32 or i32");
    input.elementType = tok.text.str();
    advance();
  }
  SMLoc open = tok.loc();
  if (!consumeIf('['))
    return unexpected("a shape such as [1, 8, 128, 64] or f32[1, 8, 128, 64]");
  do {
    if (failed(parseDimension(input.shape)))
      return failure();
  } while (consumeIf(','));
  if (!consumeIf(']'))
    return unexpected("']' or ',' in shape", open);
  if (input.shape.size() > kMaxRank)
    return emitError(typeLoc, "tensor rank " + Twine(input.shape.size()) +
                                  " exceeds the maximum of " + Twine(kMaxRank));
  if (failed(define(input.name, input.loc)))
    return failure();
  model.inputs.push_back(std::move(input));
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

/// IDENT '=' IDENT '(' [ arg {',' arg} [','] ] ')'
/// arg := expr | IDENT '=' expr
LogicalResult Parser::parseAssign() {
  Assign assign;
  assign.loc = tok.loc();
  assign.result = tok.text.str();
  advance();
  if (!consumeIf('='))
    return unexpected("'=' after '" + assign.result + "'");
  if (failed(define(assign.result, assign.loc)))
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
  model.assigns.push_back(std::move(assign));
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

/// expr := IDENT | NUMBER | '-' NUMBER | '[' [ expr {',' expr} ] ']'
LogicalResult Parser::parseExpr(Expr &expr, unsigned depth) {
  expr.loc = tok.loc();
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
