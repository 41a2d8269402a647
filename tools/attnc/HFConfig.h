//===- HFConfig.h - a config.json with located, typed fields ----*- C++ -*-===//
//
// The JSON side of the Hugging Face importer: parses the text with
// llvm::json, finds where every key's value sits in the text (llvm::json
// keeps no positions), and reads fields with the checks the importer needs
// (type, integer, range), reporting `config.json:line:col: error: ...`
// through the SourceMgr at the offending value. Every field read is logged
// with its value (and whether it was absent) for the description's header.
//
// Fields are named by paths: `hidden_size`, `rope_scaling.factor`,
// `layer_types[3]`.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_HFCONFIG_H
#define ATTN_TOOLS_ATTNC_HFCONFIG_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/LogicalResult.h"

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::attn {

/// The largest size (a dimension, a layer count) a config or flag may give:
/// every tensor is at most 2-D over such sizes (or [B, S, size] with B·S
/// capped the same way), so shape arithmetic stays far from int64 overflow.
constexpr int64_t kMaxConfigSize = int64_t(1) << 24;

/// Shortest decimal spelling that reads back as `value` (1e-05, 0.125);
/// integral values as integers (500000).
std::string formatNumber(double value);

class HFConfig {
public:
  /// Parses the main buffer of `sourceMgr`; prints the error and returns
  /// nullopt for invalid JSON, a duplicate key or a non-object top level.
  static std::optional<HFConfig> parse(llvm::SourceMgr &sourceMgr);

  /// The value at `path`, or null when a key on the way is absent.
  const llvm::json::Value *get(llvm::StringRef path) const;
  bool has(llvm::StringRef path) const { return get(path) != nullptr; }
  /// True when the key is present with the value null.
  bool isNull(llvm::StringRef path) const;
  /// The keys of the object at `path` (empty if it is not an object).
  std::vector<std::string> keys(llvm::StringRef path) const;

  /// Prints an error at the value of `path` (at the nearest enclosing
  /// value that exists when it is absent); returns failure.
  llvm::LogicalResult error(llvm::StringRef path,
                            const llvm::Twine &message) const;
  /// The value's JSON text as written, for messages (`"2048"`, `4096.5`);
  /// objects and arrays are described (`an object`).
  std::string spelling(llvm::StringRef path) const;

  // Typed reads. When the key is absent (or null and `nullIsAbsent`) the
  // result is nullopt and nothing is logged; the callers that take a default
  // log it. Errors are reported at the value.

  /// An integer in [minimum, kMaxConfigSize].
  llvm::FailureOr<std::optional<int64_t>> optInteger(llvm::StringRef path,
                                                     int64_t minimum = 1,
                                                     bool nullIsAbsent = false);
  /// A finite number; with `positive`, greater than 0.
  llvm::FailureOr<std::optional<double>> optNumber(llvm::StringRef path,
                                                   bool positive = true);
  llvm::FailureOr<std::optional<bool>> optBool(llvm::StringRef path);
  llvm::FailureOr<std::optional<std::string>> optString(llvm::StringRef path);

  // The same with a default, logged as `key: value (absent: note)`.
  llvm::FailureOr<int64_t> integer(llvm::StringRef path, int64_t fallback,
                                   int64_t minimum = 1,
                                   llvm::StringRef note = "default");
  llvm::FailureOr<double> number(llvm::StringRef path, double fallback);
  llvm::FailureOr<bool> boolean(llvm::StringRef path, bool fallback);
  llvm::FailureOr<std::string> string(llvm::StringRef path,
                                      llvm::StringRef fallback);

  /// Records a field for the header: `path: value`, plus `(absent: note)`
  /// or `(null: note)` when the config does not give the value.
  void log(llvm::StringRef path, const llvm::Twine &value,
           llvm::StringRef note = "");
  const std::vector<std::string> &logged() const { return logLines; }

  /// The buffer's name (the config's path).
  llvm::StringRef fileName() const { return name; }

private:
  HFConfig(llvm::SourceMgr &sourceMgr, llvm::json::Value root)
      : sourceMgr(&sourceMgr), root(std::move(root)) {}

  struct Span {
    size_t begin = 0, end = 0; // the value's text
  };
  llvm::SourceMgr *sourceMgr;
  llvm::json::Value root;
  std::string name;
  llvm::StringRef text;
  llvm::StringMap<Span> spans; // path -> where its value is written
  std::vector<std::string> logLines;
};

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_HFCONFIG_H
