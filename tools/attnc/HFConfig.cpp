//===- HFConfig.cpp - a config.json with located, typed fields ------------===//
//
// llvm::json parses and validates the text; a small scanner then walks the
// (valid) text once more to record where each value is written, so errors
// can point at it, and rejects duplicate keys (JSON parsers, Python's
// included, silently keep the last one).
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/HFConfig.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>
#include <cstdio>

namespace mlir::attn {

using llvm::failure;
using llvm::FailureOr;
using llvm::LogicalResult;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;
namespace json = llvm::json;

std::string formatNumber(double value) {
  char buffer[32];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", value);
    return buffer;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  return buffer;
}

namespace {

/// Walks valid JSON text and records the span of every value by path. The
/// text was accepted by llvm::json::parse, so only duplicates can fail.
class Scanner {
public:
  Scanner(StringRef text, llvm::StringMap<std::pair<size_t, size_t>> &spans)
      : text(text), spans(spans) {}

  /// A key given twice in one object: where, where first, and the key.
  struct Duplicate {
    size_t offset, first;
    std::string key;
  };
  std::optional<Duplicate> scan() {
    value("");
    return duplicate;
  }

private:
  void skipSpace() {
    while (pos < text.size() && StringRef(" \t\r\n").contains(text[pos]))
      ++pos;
  }
  std::string string() { // at the opening quote; returns the raw contents
    size_t begin = ++pos;
    while (text[pos] != '"')
      pos += text[pos] == '\\' ? 2 : 1;
    return text.slice(begin, pos++).str();
  }
  void value(const std::string &path) {
    skipSpace();
    size_t begin = pos;
    char c = text[pos];
    if (c == '{') {
      llvm::StringMap<size_t> seen;
      ++pos;
      skipSpace();
      while (text[pos] != '}') {
        size_t keyPos = pos;
        std::string key = string();
        auto [it, inserted] = seen.try_emplace(key, keyPos);
        if (!inserted && !duplicate)
          duplicate = Duplicate{keyPos, it->second, key};
        skipSpace();
        ++pos; // ':'
        value(path.empty() ? key : path + "." + key);
        skipSpace();
        if (text[pos] == ',') {
          ++pos;
          skipSpace();
        }
      }
      ++pos;
    } else if (c == '[') {
      ++pos;
      skipSpace();
      for (unsigned i = 0; text[pos] != ']'; ++i) {
        value(path + "[" + std::to_string(i) + "]");
        skipSpace();
        if (text[pos] == ',')
          ++pos;
        skipSpace();
      }
      ++pos;
    } else if (c == '"') {
      string();
    } else {
      while (pos < text.size() && !StringRef(",]} \t\r\n").contains(text[pos]))
        ++pos;
    }
    spans.try_emplace(path, begin, pos);
  }

  StringRef text;
  size_t pos = 0;
  llvm::StringMap<std::pair<size_t, size_t>> &spans;
  std::optional<Duplicate> duplicate;
};

/// The parent of a path: `a.b[2]` -> `a.b` -> `a` -> ``.
StringRef parentPath(StringRef path) {
  size_t cut = path.find_last_of(".[");
  return cut == StringRef::npos ? StringRef() : path.take_front(cut);
}

} // namespace

std::optional<HFConfig> HFConfig::parse(llvm::SourceMgr &sourceMgr) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  StringRef text = buffer->getBuffer();
  auto at = [&](size_t offset) {
    return SMLoc::getFromPointer(text.data() + std::min(offset, text.size()));
  };
  json::Value root = nullptr;
  if (llvm::Expected<json::Value> parsed = json::parse(text)) {
    root = std::move(*parsed);
  } else {
    // llvm::json's message is "[line:col, byte=N]: Message".
    std::string message = llvm::toString(parsed.takeError());
    size_t offset = 0;
    StringRef rest = message;
    if (size_t byte = rest.find("byte="); byte != StringRef::npos) {
      rest = rest.drop_front(byte + 5);
      // The offset is past the character that broke the syntax.
      if (!rest.consumeInteger(10, offset) && offset > 0)
        --offset;
    }
    if (size_t colon = message.find("]: "); colon != std::string::npos)
      message = message.substr(colon + 3);
    if (!message.empty())
      message[0] = llvm::toLower(message[0]);
    sourceMgr.PrintMessage(at(offset), llvm::SourceMgr::DK_Error,
                           "invalid JSON: " + message);
    return std::nullopt;
  }
  llvm::StringMap<std::pair<size_t, size_t>> raw;
  if (auto duplicate = Scanner(text, raw).scan()) {
    sourceMgr.PrintMessage(at(duplicate->offset), llvm::SourceMgr::DK_Error,
                           "duplicate key '" + duplicate->key +
                               "' in a JSON object");
    sourceMgr.PrintMessage(at(duplicate->first), llvm::SourceMgr::DK_Note,
                           "first given here");
    return std::nullopt;
  }
  if (!root.getAsObject()) {
    sourceMgr.PrintMessage(at(raw[""].first), llvm::SourceMgr::DK_Error,
                           "expected a JSON object at the top of a Hugging "
                           "Face config");
    return std::nullopt;
  }
  HFConfig config(sourceMgr, std::move(root));
  config.text = text;
  config.name = buffer->getBufferIdentifier().str();
  for (auto &entry : raw)
    config.spans[entry.getKey()] = {entry.second.first, entry.second.second};
  return config;
}

const json::Value *HFConfig::get(StringRef path) const {
  const json::Value *value = &root;
  while (!path.empty() && value) {
    if (path.consume_front("[")) {
      size_t index = 0;
      const json::Array *array = value->getAsArray();
      if (path.consumeInteger(10, index) || !path.consume_front("]") ||
          !array || index >= array->size())
        return nullptr;
      value = &(*array)[index];
      continue;
    }
    path.consume_front(".");
    size_t cut = std::min(path.find_first_of(".["), path.size());
    const json::Object *object = value->getAsObject();
    value = object ? object->get(path.take_front(cut)) : nullptr;
    path = path.drop_front(cut);
  }
  return value;
}

bool HFConfig::isNull(StringRef path) const {
  const json::Value *value = get(path);
  return value && value->kind() == json::Value::Null;
}

std::vector<std::string> HFConfig::keys(StringRef path) const {
  std::vector<std::string> result;
  if (const json::Value *value = get(path))
    if (const json::Object *object = value->getAsObject())
      for (const auto &entry : *object)
        result.push_back(entry.first.str());
  llvm::sort(result);
  return result;
}

LogicalResult HFConfig::error(StringRef path, const Twine &message) const {
  StringRef located = path;
  while (!located.empty() && !spans.count(located))
    located = parentPath(located);
  size_t offset = spans.lookup(located).begin;
  sourceMgr->PrintMessage(SMLoc::getFromPointer(text.data() + offset),
                          llvm::SourceMgr::DK_Error, message);
  return failure();
}

std::string HFConfig::spelling(StringRef path) const {
  const json::Value *value = get(path);
  if (!value)
    return "nothing";
  if (value->getAsObject())
    return "an object";
  if (value->getAsArray())
    return "a list";
  Span span = spans.lookup(path);
  return text.slice(span.begin, span.end).str();
}

FailureOr<std::optional<int64_t>>
HFConfig::optInteger(StringRef path, int64_t minimum, bool nullIsAbsent) {
  const json::Value *value = get(path);
  if (!value || (nullIsAbsent && value->kind() == json::Value::Null))
    return std::optional<int64_t>();
  std::optional<double> number = value->getAsNumber();
  if (!number || std::floor(*number) != *number)
    return error(path, "expected an integer for '" + path + "', got " +
                           spelling(path));
  std::optional<int64_t> integer = value->getAsInteger();
  if (!integer || *integer > kMaxConfigSize)
    return error(path, "expected '" + path + "' to be at most " +
                           Twine(kMaxConfigSize) + ", got " + spelling(path));
  if (*integer < minimum)
    return error(path, "expected '" + path + "' to be " +
                           (minimum == 1 ? "positive"
                            : minimum == 0
                                ? "non-negative"
                                : "at least " + std::to_string(minimum)) +
                           ", got " + spelling(path));
  return integer;
}

FailureOr<std::optional<double>> HFConfig::optNumber(StringRef path,
                                                     bool positive) {
  const json::Value *value = get(path);
  if (!value)
    return std::optional<double>();
  std::optional<double> number = value->getAsNumber();
  if (!number || !std::isfinite(*number))
    return error(path, "expected a number for '" + path + "', got " +
                           spelling(path));
  if (positive && !(*number > 0))
    return error(path, "expected '" + path + "' to be positive, got " +
                           spelling(path));
  return number;
}

FailureOr<std::optional<bool>> HFConfig::optBool(StringRef path) {
  const json::Value *value = get(path);
  if (!value)
    return std::optional<bool>();
  if (std::optional<bool> flag = value->getAsBoolean())
    return flag;
  return error(path, "expected true or false for '" + path + "', got " +
                         spelling(path));
}

FailureOr<std::optional<std::string>> HFConfig::optString(StringRef path) {
  const json::Value *value = get(path);
  if (!value)
    return std::optional<std::string>();
  if (std::optional<StringRef> string = value->getAsString())
    return std::optional<std::string>(string->str());
  return error(path, "expected a string for '" + path + "', got " +
                         spelling(path));
}

FailureOr<int64_t> HFConfig::integer(StringRef path, int64_t fallback,
                                     int64_t minimum, StringRef note) {
  auto value = optInteger(path, minimum);
  if (failed(value))
    return failure();
  int64_t result = value->value_or(fallback);
  log(path, Twine(result), *value ? "" : note);
  return result;
}

FailureOr<double> HFConfig::number(StringRef path, double fallback) {
  auto value = optNumber(path);
  if (failed(value))
    return failure();
  double result = value->value_or(fallback);
  log(path, formatNumber(result), *value ? "" : "default");
  return result;
}

FailureOr<bool> HFConfig::boolean(StringRef path, bool fallback) {
  auto value = optBool(path);
  if (failed(value))
    return failure();
  bool result = value->value_or(fallback);
  log(path, result ? "true" : "false", *value ? "" : "default");
  return result;
}

FailureOr<std::string> HFConfig::string(StringRef path, StringRef fallback) {
  auto value = optString(path);
  if (failed(value))
    return failure();
  std::string result = value->value_or(fallback.str());
  log(path, result, *value ? "" : "default");
  return result;
}

void HFConfig::log(StringRef path, const Twine &value, StringRef note) {
  std::string line = (path + ": " + value).str();
  if (!note.empty())
    line += (!has(path)    ? " (absent: "
             : isNull(path) ? " (null: "
                            : " (") +
            note.str() + ")";
  logLines.push_back(std::move(line));
}

} // namespace mlir::attn
