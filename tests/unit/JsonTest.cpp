//===- JsonTest.cpp - Unit tests of the runtime's strict JSON parser ------===//
//
// runtime/Json.h: every value kind, escapes and UTF-8, and each way a text
// can fail RFC 8259 (or the parser's own limits: duplicate keys, depth),
// with the message and byte offset.
//
//===----------------------------------------------------------------------===//

#include "runtime/Json.h"

#include <catch2/catch.hpp>

#include <string>

using attn::json::isValidUtf8;
using attn::json::JsonReader;
using attn::json::Kind;
using attn::json::Number;

namespace {

/// Walks the value at the reader's position and appends a canonical form:
/// no spaces, numbers as written (uint64 ones with a 'u' suffix).
bool walk(JsonReader &reader, std::string &out) {
  std::string text;
  Number number;
  switch (reader.peek()) {
  case Kind::Object: {
    reader.enterObject();
    out += '{';
    bool first = true;
    while (reader.nextKey(text)) {
      out += (first ? "" : ",") + attn::json::quote(text) + ":";
      first = false;
      if (!walk(reader, out))
        return false;
    }
    out += '}';
    return reader.ok();
  }
  case Kind::Array: {
    reader.enterArray();
    out += '[';
    bool first = true;
    while (reader.nextElement()) {
      out += first ? "" : ",";
      first = false;
      if (!walk(reader, out))
        return false;
    }
    out += ']';
    return reader.ok();
  }
  case Kind::String:
    if (!reader.readString(text))
      return false;
    out += attn::json::quote(text);
    return true;
  case Kind::Number:
    if (!reader.readNumber(number))
      return false;
    out += number.text + (number.isUInt ? "u" : "");
    return true;
  case Kind::True:
    out += "true";
    return reader.skipValue();
  case Kind::False:
    out += "false";
    return reader.skipValue();
  case Kind::Null:
    out += "null";
    return reader.skipValue();
  case Kind::Invalid:
    break;
  }
  return reader.skipValue(); // fails with the reader's message
}

/// The canonical form of `text`, or "error: <message>".
std::string parse(const std::string &text) {
  JsonReader reader(text);
  std::string out;
  if (walk(reader, out) && reader.finish())
    return out;
  return "error: " + reader.error();
}

/// Whether skipValue + finish accept `text`.
bool valid(const std::string &text) {
  JsonReader reader(text);
  return reader.skipValue() && reader.finish();
}

} // namespace

TEST_CASE("json: values", "[json]") {
  CHECK(
      parse(" { \"a\" : [1, -2, 3.5e+2, true, false, null] ,\"b\":{}}\r\n\t") ==
      "{\"a\":[1u,-2,3.5e+2,true,false,null],\"b\":{}}");
  CHECK(parse("[]") == "[]");
  CHECK(parse("[[],[[]]]") == "[[],[[]]]");
  CHECK(parse("\"\"") == "\"\"");
  CHECK(parse("0") == "0u");
  CHECK(parse("-0") == "-0");
  CHECK(parse("0.5") == "0.5");
  CHECK(parse("1E-7") == "1E-7");
  // uint64: the largest fits, one more is a number but not a uint64.
  CHECK(parse("18446744073709551615") == "18446744073709551615u");
  CHECK(parse("18446744073709551616") == "18446744073709551616");
  JsonReader reader("18446744073709551615");
  Number number;
  REQUIRE(reader.readNumber(number));
  CHECK(number.isUInt);
  CHECK(number.value == UINT64_MAX);
  // Literals are exact words.
  CHECK(valid("true"));
  CHECK(!valid("tru"));
  CHECK(!valid("True"));
  CHECK(!valid("nul"));
  CHECK(!valid("NaN"));
  CHECK(!valid("Infinity"));
}

TEST_CASE("json: strings and escapes", "[json]") {
  JsonReader reader(R"("a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00")");
  std::string text;
  REQUIRE(reader.readString(text));
  CHECK(text == "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(reader.finish());
  // Raw UTF-8 is kept as it is.
  JsonReader raw("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  REQUIRE(raw.readString(text));
  CHECK(text == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // \u0000 is a valid character.
  JsonReader nul(R"("a\u0000b")");
  REQUIRE(nul.readString(text));
  CHECK(text == std::string("a\0b", 3));
  // quote() escapes what JSON requires.
  CHECK(attn::json::quote("a\"b\\c\n\x01") == R"("a\"b\\c\u000a\u0001")");
  CHECK(parse(attn::json::quote("x\"\\\n\x1f")) ==
        attn::json::quote("x\"\\\n\x1f"));
}

TEST_CASE("json: invalid strings", "[json]") {
  CHECK(parse("\"abc") == "error: unterminated string at byte 0");
  CHECK(parse("\"a\nb\"") ==
        "error: unescaped control character in a string at byte 2");
  CHECK(parse(R"("\x")") == "error: invalid escape '\\x' at byte 1");
  CHECK(parse(R"("\u12")") == "error: truncated \\u escape at byte 3");
  CHECK(parse(R"("\u12g4")") ==
        "error: invalid \\u escape (expected 4 hex digits) at byte 1");
  CHECK(parse(R"("\ud800")") == "error: unpaired surrogate \\ud800 at byte 1");
  CHECK(parse(R"("\ud800\u0041")") ==
        "error: unpaired surrogate \\ud800 at byte 1");
  CHECK(parse(R"("\udc00")") == "error: unpaired surrogate \\udc00 at byte 1");
  CHECK(parse("'a'") == "error: expected a value at byte 0");
  // Ill-formed UTF-8: overlong forms, surrogates, past U+10FFFF, lone or
  // missing continuation bytes, bytes that never occur.
  for (const char *bad :
       {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
        "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\x80", "\xbf", "\xe2\x82", "\xf0\x9f\x98", "\xfe",
        "\xff", "\xc3\x28"}) {
    INFO("bytes " << bad);
    CHECK(parse(std::string("\"x") + bad + "\"") ==
          "error: invalid utf-8 in a string at byte 2");
    size_t at = 99;
    CHECK(!isValidUtf8(std::string("ab") + bad, at));
    CHECK(at == 2);
  }
  size_t at;
  CHECK(isValidUtf8("a\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
                    at));
  CHECK(isValidUtf8("", at));
}

TEST_CASE("json: invalid numbers", "[json]") {
  CHECK(parse("01") == "error: leading zero in a number at byte 0");
  CHECK(parse("-01") == "error: leading zero in a number at byte 0");
  CHECK(parse("-") == "error: invalid number at byte 0");
  CHECK(parse("-a") == "error: invalid number at byte 0");
  CHECK(parse("1.") ==
        "error: invalid number (expected digits after '.') at byte 0");
  CHECK(parse("1e") ==
        "error: invalid number (expected exponent digits) at byte 0");
  CHECK(parse("1e+") ==
        "error: invalid number (expected exponent digits) at byte 0");
  CHECK(parse(".5") == "error: expected a value at byte 0");
  CHECK(parse("+1") == "error: expected a value at byte 0");
  CHECK(parse("0x10") ==
        "error: unexpected characters after the top-level value at byte 1");
}

TEST_CASE("json: invalid structure", "[json]") {
  CHECK(parse("") == "error: expected a value at byte 0");
  CHECK(parse("   ") == "error: expected a value at byte 3");
  CHECK(parse("{} x") ==
        "error: unexpected characters after the top-level value at byte 3");
  CHECK(parse("{}{}") ==
        "error: unexpected characters after the top-level value at byte 2");
  CHECK(parse("[1,]") == "error: expected a value at byte 3");
  CHECK(parse("[,1]") == "error: expected a value or ']' at byte 1");
  CHECK(parse("[1 2]") == "error: expected ',' or ']' at byte 3");
  CHECK(parse("[1") == "error: expected ',' or ']' at byte 2");
  CHECK(parse("{\"a\":1,}") == "error: expected a string key at byte 7");
  CHECK(parse("{,}") == "error: expected a string key or '}' at byte 1");
  CHECK(parse("{\"a\" 1}") == "error: expected ':' at byte 5");
  CHECK(parse("{\"a\":}") == "error: expected a value at byte 5");
  CHECK(parse("{\"a\":1 \"b\":2}") == "error: expected ',' or '}' at byte 7");
  CHECK(parse("{a:1}") == "error: expected a string key or '}' at byte 1");
  CHECK(parse("{\"a\":1") == "error: expected ',' or '}' at byte 6");
  // The ASCII NUL and non-ASCII bytes start no value.
  CHECK(parse(std::string("[\0]", 3)) ==
        "error: expected a value or ']' at byte 1");
}

TEST_CASE("json: duplicate keys", "[json]") {
  CHECK(parse(R"({"a":1,"b":2,"a":3})") ==
        "error: duplicate key 'a' at byte 13");
  // Escapes are decoded before the comparison.
  CHECK(parse(R"({"a":1,"\u0061":2})") ==
        "error: duplicate key 'a' at byte 7");
  // Per object: the same key in sibling or nested objects is fine.
  CHECK(parse(R"({"a":{"a":1},"b":{"a":2}})") ==
        R"({"a":{"a":1u},"b":{"a":2u}})");
  CHECK(!valid(R"([{"k":1,"k":1}])"));
}

TEST_CASE("json: nesting depth", "[json]") {
  const size_t limit = attn::json::kMaxDepth;
  CHECK(valid(std::string(limit, '[') + std::string(limit, ']')));
  CHECK(parse(std::string(limit + 1, '[') + std::string(limit + 1, ']')) ==
        "error: nesting deeper than 64 levels at byte 64");
  std::string objects;
  for (size_t i = 0; i <= limit; ++i)
    objects += "{\"a\":";
  CHECK_FALSE(valid(objects + "1" + std::string(limit + 1, '}')));
  // A hostile depth fails fast, without recursing a million times.
  CHECK_FALSE(valid(std::string(1000000, '[')));
}

TEST_CASE("json: the first error sticks", "[json]") {
  JsonReader reader("[1, x]");
  std::string text;
  CHECK(reader.enterArray());
  CHECK(reader.nextElement());
  CHECK(reader.skipValue());
  CHECK_FALSE(reader.nextElement());
  CHECK(reader.error() == "expected a value at byte 4");
  CHECK(reader.peek() == Kind::Invalid);
  CHECK_FALSE(reader.readString(text));
  CHECK_FALSE(reader.finish());
  CHECK(reader.error() == "expected a value at byte 4");
}
