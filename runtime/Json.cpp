//===- Json.cpp - a small strict pull parser for JSON ---------------------===//
//
// RFC 8259 grammar, checked byte by byte; see Json.h. UTF-8 rules: Unicode
// 15, table 3-7 (well-formed byte sequences).
//
//===----------------------------------------------------------------------===//
#include "runtime/Json.h"

#include <fmt/format.h>

namespace attn::json {

namespace {

/// The length of the well-formed UTF-8 sequence at `p` (`avail` bytes
/// readable), or 0 if there is none.
size_t utf8Length(const unsigned char *p, size_t avail) {
  auto inRange = [&](size_t i, unsigned lo, unsigned hi) {
    return i < avail && p[i] >= lo && p[i] <= hi;
  };
  const unsigned c = p[0];
  if (c < 0x80)
    return 1;
  // The first continuation byte's range depends on the lead byte (it rules
  // out overlong forms, surrogates and code points past U+10FFFF); the
  // others are 80..BF.
  unsigned lo = 0x80, hi = 0xBF;
  size_t length;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (!inRange(1, lo, hi))
    return 0;
  for (size_t i = 2; i < length; ++i)
    if (!inRange(i, 0x80, 0xBF))
      return 0;
  return length;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6);
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3F));
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

} // namespace

bool isValidUtf8(std::string_view bytes, size_t &badOffset) {
  const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = utf8Length(p + i, bytes.size() - i);
    if (n == 0) {
      badOffset = i;
      return false;
    }
    i += n;
  }
  return true;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += {'\\', c};
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", unsigned(c));
    else
      out += c;
  }
  return out + '"';
}

bool JsonReader::fail(const std::string &what) { return fail(what, pos); }

bool JsonReader::fail(const std::string &what, size_t at) {
  if (message.empty())
    message = fmt::format("{} at byte {}", what, at);
  return false;
}

void JsonReader::skipSpace() {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                               text[pos] == '\n' || text[pos] == '\r'))
    ++pos;
}

bool JsonReader::expect(char c) {
  skipSpace();
  if (pos == text.size() || text[pos] != c)
    return false;
  ++pos;
  return true;
}

Kind JsonReader::peek() {
  if (!ok())
    return Kind::Invalid;
  skipSpace();
  if (pos == text.size())
    return Kind::Invalid;
  switch (text[pos]) {
  case '{':
    return Kind::Object;
  case '[':
    return Kind::Array;
  case '"':
    return Kind::String;
  case 't':
    return Kind::True;
  case 'f':
    return Kind::False;
  case 'n':
    return Kind::Null;
  default:
    return text[pos] == '-' || isDigit(text[pos]) ? Kind::Number
                                                  : Kind::Invalid;
  }
}

bool JsonReader::push() {
  if (levels.size() >= kMaxDepth)
    return fail(fmt::format("nesting deeper than {} levels", kMaxDepth));
  return true;
}

bool JsonReader::enterObject() {
  if (!ok() || !push())
    return false;
  if (!expect('{'))
    return fail("expected '{'");
  levels.emplace_back();
  return true;
}

bool JsonReader::enterArray() {
  if (!ok() || !push())
    return false;
  if (!expect('['))
    return fail("expected '['");
  levels.emplace_back();
  return true;
}

bool JsonReader::nextKey(std::string &key) {
  if (!ok())
    return false;
  Level &level = levels.back();
  if (expect('}')) {
    levels.pop_back();
    return false;
  }
  if (level.started && !expect(','))
    return fail("expected ',' or '}'");
  if (peek() != Kind::String)
    return fail(level.started ? "expected a string key"
                              : "expected a string key or '}'");
  const size_t keyStart = pos;
  if (!readString(key))
    return false;
  if (!level.keys.insert(key).second) {
    const std::string escaped = quote(key);
    return fail(fmt::format("duplicate key '{}'",
                            escaped.substr(1, escaped.size() - 2)),
                keyStart);
  }
  if (!expect(':'))
    return fail("expected ':'");
  if (peek() == Kind::Invalid)
    return fail("expected a value");
  level.started = true;
  return true;
}

bool JsonReader::nextElement() {
  if (!ok())
    return false;
  Level &level = levels.back();
  if (expect(']')) {
    levels.pop_back();
    return false;
  }
  if (level.started && !expect(','))
    return fail("expected ',' or ']'");
  if (peek() == Kind::Invalid)
    return fail(level.started ? "expected a value" : "expected a value or ']'");
  level.started = true;
  return true;
}

bool JsonReader::readCodePoint(uint32_t &out) {
  if (text.size() - pos < 4)
    return fail("truncated \\u escape");
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = text[pos + i];
    const int digit = isDigit(c)               ? c - '0'
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                               : -1;
    if (digit < 0)
      return fail("invalid \\u escape (expected 4 hex digits)", pos - 2);
    out = out * 16 + uint32_t(digit);
  }
  pos += 4;
  return true;
}

/// After a backslash: one escape, appended to `out` as UTF-8.
bool JsonReader::readEscape(std::string &out) {
  const size_t start = pos - 1;
  if (pos == text.size())
    return fail("unterminated string");
  const char c = text[pos++];
  switch (c) {
  case '"':
  case '\\':
  case '/':
    out += c;
    return true;
  case 'b':
    out += '\b';
    return true;
  case 'f':
    out += '\f';
    return true;
  case 'n':
    out += '\n';
    return true;
  case 'r':
    out += '\r';
    return true;
  case 't':
    out += '\t';
    return true;
  case 'u':
    break;
  default:
    return fail(fmt::format("invalid escape '\\{}'", c), start);
  }
  uint32_t cp;
  if (!readCodePoint(cp))
    return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF)
    return fail(fmt::format("unpaired surrogate \\u{:04x}", cp), start);
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    // A high surrogate must be followed by an escaped low one.
    uint32_t low = 0;
    if (text.compare(pos, 2, "\\u") != 0)
      return fail(fmt::format("unpaired surrogate \\u{:04x}", cp), start);
    pos += 2;
    if (!readCodePoint(low))
      return false;
    if (low < 0xDC00 || low > 0xDFFF)
      return fail(fmt::format("unpaired surrogate \\u{:04x}", cp), start);
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  appendUtf8(out, cp);
  return true;
}

bool JsonReader::readString(std::string &out) {
  if (!ok())
    return false;
  if (!expect('"'))
    return fail("expected a string");
  const size_t start = pos - 1;
  out.clear();
  const auto *bytes = reinterpret_cast<const unsigned char *>(text.data());
  while (pos < text.size()) {
    const unsigned char c = bytes[pos];
    if (c == '"') {
      ++pos;
      return true;
    }
    if (c == '\\') {
      ++pos;
      if (!readEscape(out))
        return false;
    } else if (c < 0x20) {
      return fail("unescaped control character in a string");
    } else {
      const size_t n = utf8Length(bytes + pos, text.size() - pos);
      if (n == 0)
        return fail("invalid utf-8 in a string");
      out.append(text.data() + pos, n);
      pos += n;
    }
  }
  return fail("unterminated string", start);
}

bool JsonReader::readNumber(Number &out) {
  if (peek() != Kind::Number)
    return fail("expected a number");
  const size_t start = pos;
  auto digits = [&] {
    const size_t first = pos;
    while (pos < text.size() && isDigit(text[pos]))
      ++pos;
    return pos > first;
  };
  const bool negative = text[pos] == '-';
  if (negative)
    ++pos;
  const size_t intStart = pos;
  if (!digits())
    return fail("invalid number", start);
  if (text[intStart] == '0' && pos - intStart > 1)
    return fail("leading zero in a number", start);
  bool integer = true;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    integer = false;
    if (!digits())
      return fail("invalid number (expected digits after '.')", start);
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    integer = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
      ++pos;
    if (!digits())
      return fail("invalid number (expected exponent digits)", start);
  }
  out.text.assign(text.substr(start, pos - start));
  out.isUInt = !negative && integer;
  out.value = 0;
  for (size_t i = intStart; out.isUInt && i < pos; ++i) {
    const uint64_t digit = uint64_t(text[i] - '0');
    if (out.value > (UINT64_MAX - digit) / 10)
      out.isUInt = false; // too large: a number, but no uint64
    else
      out.value = out.value * 10 + digit;
  }
  if (!out.isUInt)
    out.value = 0;
  return true;
}

bool JsonReader::literal(std::string_view word) {
  skipSpace();
  if (text.compare(pos, word.size(), word) != 0)
    return fail("invalid literal (expected true, false or null)");
  pos += word.size();
  return true;
}

bool JsonReader::skipValue() {
  std::string scratch;
  Number number;
  switch (peek()) {
  case Kind::Object:
    if (!enterObject())
      return false;
    while (nextKey(scratch))
      if (!skipValue())
        return false;
    return ok();
  case Kind::Array:
    if (!enterArray())
      return false;
    while (nextElement())
      if (!skipValue())
        return false;
    return ok();
  case Kind::String:
    return readString(scratch);
  case Kind::Number:
    return readNumber(number);
  case Kind::True:
    return literal("true");
  case Kind::False:
    return literal("false");
  case Kind::Null:
    return literal("null");
  case Kind::Invalid:
    break;
  }
  return fail("expected a value");
}

bool JsonReader::finish() {
  if (!ok())
    return false;
  if (!levels.empty())
    return fail("unterminated object or array");
  skipSpace();
  if (pos != text.size())
    return fail("unexpected characters after the top-level value");
  return true;
}

} // namespace attn::json
