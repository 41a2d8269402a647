//===- ModelLexer.cpp - Tokens of .model descriptions ---------------------===//
#include "tools/attnc/ModelLexer.h"

#include "llvm/ADT/StringExtras.h"

namespace mlir::attn::model {

using llvm::StringRef;
using llvm::Twine;

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
  if (c == '"') {
    // A string ends at the next unescaped '"' on the same line.
    while (cur != end && *cur != '"' && *cur != '\n')
      cur += (*cur == '\\' && cur + 1 != end && cur[1] != '\n') ? 2 : 1;
    if (cur == end || *cur != '"')
      return error(start, "unterminated string: expected '\"' before the end "
                          "of the line");
    ++cur;
    return make(TokKind::String, start);
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

} // namespace mlir::attn::model
