//===- HFImport.h - Hugging Face config.json to a model description -*- C++ -*-===//
//
// Reads a Hugging Face `config.json` (llama, mistral, qwen2, gpt2, bert,
// whisper) and writes the text of a `.model` description: one `layer`
// definition with its weights under their checkpoint tensor names, called
// with `repeat` over the layers. attnc then compiles that text like any
// description, so nothing here builds IR. The mapping is documented in
// examples/README.md ("Hugging Face models"); the field semantics follow
// the model code of `transformers`.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_HFIMPORT_H
#define ATTN_TOOLS_ATTNC_HFIMPORT_H

#include <cstdint>
#include <optional>
#include <string>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::attn {

/// Command-line choices for an imported model. An unset field takes its
/// default; some flags are errors for some model types (--memory-seq is for
/// whisper only), so "not given" is kept apart from the default value.
struct HFImportOptions {
  std::optional<int64_t> batch;     // default 1
  std::optional<int64_t> seq;       // default 128
  std::optional<int64_t> memorySeq; // whisper only; default 1500
  std::optional<int64_t> layers;    // default: every layer of the config
  bool head = false;                // embeddings + final norm + LM head
  bool idsI64 = false;              // --head: input_ids are i64 (else i32)

  /// The first flag that is given (for "only for a config input" errors),
  /// or null when none is.
  const char *firstGivenFlag() const;
};

constexpr int64_t kDefaultBatch = 1;
constexpr int64_t kDefaultSeq = 128;
constexpr int64_t kDefaultMemorySeq = 1500;

struct HFImportResult {
  std::string name; // the model's name (`model NAME`), e.g. "llama"
  std::string text; // the model description
};

/// Reads the config in the main buffer of `sourceMgr` (its identifier is
/// the path named in the header comment). On error prints
/// `config.json:line:col: error: ...` through the SourceMgr and returns
/// nullopt.
std::optional<HFImportResult> importHFConfig(llvm::SourceMgr &sourceMgr,
                                             const HFImportOptions &options);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_HFIMPORT_H
