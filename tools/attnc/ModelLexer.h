//===- ModelLexer.h - Tokens of .model descriptions -------------*- C++ -*-===//
//
// The lexer of the model description format (examples/README.md), used by
// ModelParser.cpp: names, numbers, strings, punctuation and newlines. A
// newline inside ( ) or [ ] is skipped, so a call or a shape may span lines.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_MODELLEXER_H
#define ATTN_TOOLS_ATTNC_MODELLEXER_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"

#include <string>

namespace mlir::attn::model {

enum class TokKind { Ident, Number, String, Punct, Newline, Eof, Error };

struct Token {
  TokKind kind = TokKind::Eof;
  llvm::StringRef text; // the spelling; empty at end of file
  std::string message;  // TokKind::Error only
  llvm::SMLoc loc() const { return llvm::SMLoc::getFromPointer(text.data()); }
  bool is(char c) const { return kind == TokKind::Punct && text[0] == c; }
};

/// Splits the buffer into tokens. Newlines inside ( ) or [ ] are skipped, and
/// reaching the end of the buffer with a bracket open is an error token.
class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer)
      : cur(buffer.begin()), end(buffer.end()) {}
  Token lex();

private:
  Token make(TokKind kind, const char *start) {
    Token tok;
    tok.kind = kind;
    tok.text = llvm::StringRef(start, cur - start);
    return tok;
  }
  Token error(const char *at, const llvm::Twine &message) {
    Token tok;
    tok.kind = TokKind::Error;
    tok.text = llvm::StringRef(at, 1);
    tok.message = message.str();
    return tok;
  }

  const char *cur, *end;
  llvm::SmallVector<const char *> openBrackets;
};

} // namespace mlir::attn::model

#endif // ATTN_TOOLS_ATTNC_MODELLEXER_H
