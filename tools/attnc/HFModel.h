//===- HFModel.h - the importer's model types and checked config -*- C++ -*-===//
//
// Shared by the pieces of the Hugging Face importer: the table of model
// types (HFImport.cpp), the config reader that fills a `Resolved` record
// with every check (HFRead.cpp, RoPE in HFRope.cpp) and the writer of the
// description (HFWrite.cpp), one emitter for all types, driven by the table.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_HFMODEL_H
#define ATTN_TOOLS_ATTNC_HFMODEL_H

#include "tools/attnc/HFImport.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::attn {

class HFConfig;

namespace hf {

/// Which config reader a model type uses.
enum class Family { Llama, GPT2, Bert, Whisper };

/// A size's config key, the alias HF's attribute_map also accepts for it,
/// and the default when both are absent.
struct SizeField {
  const char *key = nullptr;
  const char *alias = nullptr;
  int64_t fallback = 0;
};

/// Where a model type's sliding window comes from.
enum class WindowRule {
  None,  // never a window
  Every, // `sliding_window` on every layer (absent: 4096, null: none)
  Qwen2, // only with `use_sliding_window`, per layer (max_window_layers,
         // layer_types); the compiled layers must agree
};

/// A boolean config field that must be false (its default): true changes
/// the computation in a way attnc does not implement (`why`).
struct MustBeFalse {
  const char *key, *why;
};

/// One supported `model_type`: the layer's structure, the config keys of its
/// sizes with their defaults, and its tensor names (written without
/// `.weight`/`.bias`; null where the model has no such tensor).
struct ModelType {
  const char *type = nullptr;      // model_type
  const char *name = nullptr;      // `model NAME`
  const char *layerName = nullptr; // the `layer` definition
  const char *summary = nullptr;   // one line for the header
  Family family = Family::Llama;
  bool rmsNorm = false;  // RMSNorm (weight only), else LayerNorm (+ bias)
  bool postNorm = false; // BERT: the norm follows each residual add
  bool gatedMlp = false; // down(act(gate(x)) * up(x)), else down(act(up(x)))
  bool conv1d = false;   // GPT-2 Conv1D weights [in, out]: layout = in_out
  bool causal = true, rope = false, cross = false;
  // Biases fixed by the model code; with `biasFlags`, `attention_bias`
  // (q, k, v, o) and `mlp_bias` (llama) decide instead.
  bool qBias = false, kBias = false, vBias = false, oBias = false,
       mlpBias = false, biasFlags = false;
  WindowRule window = WindowRule::None;
  std::vector<MustBeFalse> mustBeFalse;
  // Sizes. `intermediate.fallback` 0: 4 * hidden (GPT-2's n_inner, which may
  // also be null); `kvHeadsDefault` 0: the query heads.
  SizeField hidden, layers, heads, intermediate, vocab, positions;
  int64_t kvHeadsDefault = 0;
  const char *actKey = "hidden_act", *actDefault = "silu";
  const char *epsKey = nullptr; // null: eps fixed by the model code
  double epsDefault = 1e-5;
  bool tieDefault = false;
  // Layer tensors, relative to `layerPrefix`. Top-level local names drop
  // `localPrefix` (`model.norm.weight` -> `norm`).
  const char *layerPrefix = nullptr, *localPrefix = "";
  const char *attnNorm = nullptr, *q = nullptr, *k = nullptr, *v = nullptr,
             *qkv = nullptr, *o = nullptr;
  const char *crossNorm = nullptr, *crossQ = nullptr, *crossK = nullptr,
             *crossV = nullptr, *crossO = nullptr;
  const char *mlpNorm = nullptr, *gate = nullptr, *up = nullptr,
             *down = nullptr;
  const char *embed = nullptr, *positionTable = nullptr,
             *tokenTypes = nullptr, *embedNorm = nullptr,
             *finalNorm = nullptr, *lmHead = nullptr;
};

/// The supported model types, in the order error messages list them.
const std::vector<ModelType> &modelTypes();

/// A `hidden_act` / `activation_function` string and its op call.
struct Activation {
  const char *hfName, *op, *keywords;
};

struct Rope {
  double theta = 10000;
  std::string scaling; // empty: none; else "linear" or "llama3"
  double factor = 1, lowFreqFactor = 1, highFreqFactor = 4;
  int64_t originalMaxPositions = 8192;
};

/// Everything the description depends on, checked.
struct Resolved {
  int64_t hidden = 0, layers = 0, heads = 0, kvHeads = 0, headDim = 0;
  int64_t intermediate = 0, vocab = 0, positions = 0, tokenTypes = 0;
  const Activation *activation = nullptr;
  double eps = 1e-5;
  bool tie = false;
  bool qBias = false, kBias = false, vBias = false, oBias = false,
       mlpBias = false;
  std::optional<double> scale;   // the attention scale if not 1/sqrt(D)
  std::optional<int64_t> window; // HF sliding window: W keys incl. itself
  std::optional<Rope> rope;
  // From the flags, checked against the config.
  int64_t batch = kDefaultBatch, seq = kDefaultSeq;
  int64_t memorySeq = kDefaultMemorySeq;
  int64_t compiledLayers = 0;
  bool head = false;
  bool idsI64 = false;
};

/// Reads and checks every field `type` depends on, and the flags against
/// them. Errors are printed (located in the config) and give failure.
llvm::FailureOr<Resolved> readConfig(HFConfig &config, const ModelType &type,
                                     const HFImportOptions &options);

/// Reads the RoPE fields (HFRope.cpp) into `rope`; errors are printed.
llvm::LogicalResult readRope(HFConfig &config, Rope &rope);

/// The description's text; `header` is the comment block that opens it.
std::string writeDescription(const ModelType &type, const Resolved &r,
                             llvm::StringRef header);

} // namespace hf
} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_HFMODEL_H
