//===- Json.h - a small strict pull parser for JSON -------------*- C++ -*-===//
//
// Internal to the runtime: reads the JSON of safetensors headers and
// `model.safetensors.index.json` files. It accepts exactly RFC 8259 JSON
// (objects, arrays, strings, numbers, true, false, null; whitespace is space,
// tab, LF and CR) and rejects, with the byte offset, everything else:
// invalid UTF-8 (overlong forms, surrogates, code points past U+10FFFF),
// unescaped control characters, lone \u surrogates, leading zeros, duplicate
// keys in an object, nesting deeper than kMaxDepth and anything after the
// top-level value but whitespace.
//
// A pull parser: the caller walks the document and keeps only what it needs,
// so memory stays proportional to what is kept (plus the keys of the open
// objects, for the duplicate check), never to a tree of the whole header.
//
//   JsonReader reader(text);
//   std::string key;
//   if (reader.enterObject())
//     while (reader.nextKey(key))
//       reader.skipValue();
//   if (!reader.finish())
//     report(reader.error()); // e.g. "expected ':' at byte 12"
//
// The first error sticks: every later call returns false (or Kind::Invalid)
// and error() keeps the first message.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_JSON_H
#define ATTN_RUNTIME_JSON_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace attn::json {

/// Objects and arrays nest at most this deep.
constexpr size_t kMaxDepth = 64;

enum class Kind { Object, Array, String, Number, True, False, Null, Invalid };

/// A number as written: `isUInt` when it is an integer in [0, 2^64) (no
/// sign, fraction or exponent), then `value` holds it.
struct Number {
  bool isUInt = false;
  uint64_t value = 0;
  std::string text; // the spelling, for messages
};

class JsonReader {
public:
  explicit JsonReader(std::string_view text) : text(text) {}

  /// The kind of the next value (after whitespace), without consuming it;
  /// Kind::Invalid at the end of the text, on a character that starts no
  /// value, or after an error.
  Kind peek();

  /// Consumes '{'; then call nextKey until it returns false.
  bool enterObject();
  /// Reads the next member's key and its ':' and returns true, leaving the
  /// value to be read; returns false at the closing '}' (consumed) or on an
  /// error (see ok()). Rejects a key already seen in this object.
  bool nextKey(std::string &key);
  /// Consumes '['; then call nextElement until it returns false.
  bool enterArray();
  /// Returns true when another element follows (leaving it to be read),
  /// false at the closing ']' (consumed) or on an error.
  bool nextElement();

  bool readString(std::string &out);
  bool readNumber(Number &out);
  /// Reads (and validates) any value.
  bool skipValue();

  /// Checks that only whitespace follows; true if the whole text was valid.
  bool finish();

  bool ok() const { return message.empty(); }
  /// "<what> at byte <offset>"; empty while ok().
  const std::string &error() const { return message; }
  /// The offset of the next unread byte.
  size_t offset() const { return pos; }

private:
  bool fail(const std::string &what);
  bool fail(const std::string &what, size_t at);
  void skipSpace();
  bool expect(char c);
  bool literal(std::string_view word);
  bool readCodePoint(uint32_t &out);
  bool readEscape(std::string &out);
  bool push();

  std::string_view text;
  size_t pos = 0;
  std::string message;
  /// Per open container: whether a member has been read (a ',' must come
  /// before the next) and, for objects, the keys so far.
  struct Level {
    bool started = false;
    std::unordered_set<std::string> keys;
  };
  std::vector<Level> levels;
};

/// Checks that `bytes` is valid UTF-8; on failure sets `badOffset` to the
/// first byte of the invalid sequence.
bool isValidUtf8(std::string_view bytes, size_t &badOffset);

/// `text` as a JSON string literal (quotes included), escaping '"', '\\'
/// and control characters.
std::string quote(std::string_view text);

} // namespace attn::json

#endif // ATTN_RUNTIME_JSON_H
