//===- HFRead.cpp - check a Hugging Face config into a Resolved record ----===//
//
// One reader for every model type, with a part per family. Every field that
// changes the computation is read, checked and logged; a value attnc does
// not implement is an error naming the field, never ignored. Defaults and
// semantics follow the transformers model code (configuration_<type>.py,
// modeling_<type>.py).
//
//===----------------------------------------------------------------------===//
#include "dialect/SizeLimits.h"
#include "tools/attnc/HFConfig.h"
#include "tools/attnc/HFModel.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::attn::hf {
namespace {

using llvm::failed;
using llvm::failure;
using llvm::FailureOr;
using llvm::LogicalResult;
using llvm::StringRef;
using llvm::success;
using llvm::Twine;

constexpr Activation kActivations[] = {
    {"silu", "silu", ""},
    {"swish", "silu", ""},
    {"gelu", "gelu", ""},
    {"gelu_new", "gelu", ", approximate = tanh"},
    {"gelu_pytorch_tanh", "gelu", ", approximate = tanh"},
    {"relu", "relu", ""},
};

class Reader {
public:
  Reader(HFConfig &config, const ModelType &type, Resolved &r)
      : c(config), t(type), r(r) {}
  LogicalResult read(const HFImportOptions &options);

private:
  FailureOr<int64_t> size(const SizeField &field, int64_t fallback);
  /// The key the config gives a size under (its alias, if only that is
  /// given); the key itself when absent.
  StringRef given(const SizeField &field) const {
    return field.alias && !c.has(field.key) && c.has(field.alias)
               ? field.alias
               : field.key;
  }
  LogicalResult readHeadDim();
  LogicalResult readActivationAndNorm();
  LogicalResult readLlamaFamily();
  LogicalResult readQwen2Window();
  LogicalResult readFlags(const HFImportOptions &options);
  LogicalResult checkWeightBytes(
      std::initializer_list<std::pair<int64_t, const char *>> widths);

  HFConfig &c;
  const ModelType &t;
  Resolved &r;
};

FailureOr<int64_t> Reader::size(const SizeField &field, int64_t fallback) {
  if (field.alias && c.has(field.alias) && c.has(field.key) &&
      c.spelling(field.key) != c.spelling(field.alias))
    return c.error(field.alias, "'" + StringRef(field.alias) + "' (" +
                                    c.spelling(field.alias) +
                                    ") contradicts '" + field.key + "' (" +
                                    c.spelling(field.key) + ")");
  return c.integer(given(field), fallback);
}

/// D from `head_dim` (llama family; null or absent: E / H), else E / H.
LogicalResult Reader::readHeadDim() {
  StringRef headDimKey = t.family == Family::Llama ? "head_dim" : "";
  if (!headDimKey.empty()) {
    auto headDim = c.optInteger(headDimKey, 1, /*nullIsAbsent=*/true);
    if (failed(headDim))
      return failure();
    if (*headDim) {
      r.headDim = **headDim;
      c.log(headDimKey, Twine(r.headDim));
    }
  }
  StringRef hidden = given(t.hidden), heads = given(t.heads);
  if (!r.headDim) {
    if (r.hidden % r.heads != 0)
      return c.error(hidden, "expected " + hidden + " (" + Twine(r.hidden) +
                                 ") to be divisible by " + heads + " (" +
                                 Twine(r.heads) + ")" +
                                 (headDimKey.empty()
                                      ? ""
                                      : " when 'head_dim' is not given"));
    r.headDim = r.hidden / r.heads;
    if (!headDimKey.empty())
      c.log(headDimKey, Twine(r.headDim), (hidden + " / " + heads).str());
  }
  if (r.heads * r.headDim > kMaxConfigSize)
    return c.error(headDimKey.empty() ? heads : headDimKey,
                   "expected " + heads + " x head_dim (" +
                       Twine(r.heads * r.headDim) + ") to be at most " +
                       Twine(kMaxConfigSize));
  return success();
}

LogicalResult Reader::readActivationAndNorm() {
  auto act = c.string(t.actKey, t.actDefault);
  if (failed(act))
    return failure();
  for (const Activation &a : kActivations)
    if (*act == a.hfName)
      r.activation = &a;
  if (!r.activation) {
    std::string supported;
    for (const Activation &a : kActivations)
      supported += (supported.empty() ? "" : ", ") + std::string(a.hfName);
    return c.error(t.actKey, "unsupported " + Twine(t.actKey) + " '" + *act +
                                 "'; supported: " + supported);
  }
  if (!t.epsKey) {
    c.log("LayerNorm eps", formatNumber(r.eps) + " (fixed by the model code)");
    return success();
  }
  auto eps = c.number(t.epsKey, t.epsDefault);
  if (failed(eps))
    return failure();
  r.eps = *eps;
  return success();
}

LogicalResult Reader::read(const HFImportOptions &options) {
  r.qBias = t.qBias;
  r.kBias = t.kBias;
  r.vBias = t.vBias;
  r.oBias = t.oBias;
  r.mlpBias = t.mlpBias;
  auto hidden = size(t.hidden, t.hidden.fallback);
  if (failed(hidden))
    return failure();
  r.hidden = *hidden;
  auto layers = size(t.layers, t.layers.fallback);
  auto heads = succeeded(layers) ? size(t.heads, t.heads.fallback)
                                 : FailureOr<int64_t>(failure());
  if (failed(heads))
    return failure();
  r.layers = *layers;
  r.heads = r.kvHeads = *heads;
  if (failed(readFlags(options)))
    return failure();

  // The MLP width (GPT-2: n_inner, null or absent meaning 4 * n_embd).
  if (t.intermediate.fallback == 0) {
    auto inner = c.optInteger(t.intermediate.key, 1, /*nullIsAbsent=*/true);
    if (failed(inner))
      return failure();
    r.intermediate = inner->value_or(4 * r.hidden);
    if (r.intermediate > kMaxConfigSize)
      return c.error(given(t.hidden), "expected 4 x n_embd (" +
                                       Twine(r.intermediate) +
                                       ") to be at most " +
                                       Twine(kMaxConfigSize));
    c.log(t.intermediate.key, Twine(r.intermediate),
          *inner ? "" : "4 * n_embd");
  } else {
    auto inter = size(t.intermediate, t.intermediate.fallback);
    if (failed(inter))
      return failure();
    r.intermediate = *inter;
  }
  if (failed(t.family == Family::Llama ? readLlamaFamily() : readHeadDim()) ||
      failed(readActivationAndNorm()))
    return failure();
  auto vocab = size(t.vocab, t.vocab.fallback);
  if (failed(vocab))
    return failure();
  r.vocab = *vocab;
  if (failed(checkWeightBytes(
          {{r.intermediate, "the MLP width"},
           {(r.heads + 2 * r.kvHeads) * r.headDim, "the q/k/v projections"},
           {r.vocab, "the vocabulary"}})))
    return failure();
  if (t.lmHead) {
    auto tie = c.boolean("tie_word_embeddings", t.tieDefault);
    if (failed(tie))
      return failure();
    r.tie = *tie;
  }
  for (const MustBeFalse &rule : t.mustBeFalse) {
    auto value = c.optBool(rule.key);
    if (failed(value))
      return failure();
    if (value->value_or(false))
      return c.error(rule.key,
                     "unsupported " + Twine(rule.key) + " true: " + rule.why);
  }

  // The position table and what else each family needs.
  switch (t.family) {
  case Family::Llama:
    return success();
  case Family::GPT2:
    if (auto scaled = c.boolean("scale_attn_weights", true); failed(scaled))
      return failure();
    else if (!*scaled)
      r.scale = 1.0;
    break;
  case Family::Bert: {
    auto types = c.integer("type_vocab_size", 2);
    auto kind = succeeded(types)
                    ? c.string("position_embedding_type", "absolute")
                    : FailureOr<std::string>(failure());
    if (failed(kind))
      return failure();
    r.tokenTypes = *types;
    if (*kind != "absolute")
      return c.error("position_embedding_type",
                     "unsupported position_embedding_type '" + *kind +
                         "': only 'absolute' is implemented (relative "
                         "distance embeddings are not)");
    break;
  }
  case Family::Whisper: {
    auto frames = c.integer("max_source_positions", kDefaultMemorySeq);
    if (failed(frames))
      return failure();
    r.memorySeq = options.memorySeq.value_or(*frames);
    if (r.batch * r.memorySeq > kMaxConfigSize) {
      llvm::errs() << "attnc: error: --batch x --memory-seq ("
                   << r.batch * r.memorySeq << ") must be at most "
                   << kMaxConfigSize << "\n";
      return failure();
    }
    break;
  }
  }
  const SizeField &positions = t.positions;
  auto rows = size(positions, positions.fallback);
  if (failed(rows))
    return failure();
  r.positions = *rows;
  if (failed(checkWeightBytes({{r.positions, "the position table"}})))
    return failure();
  if (r.head && r.seq > r.positions)
    return c.error(given(positions),
                   "--seq " + Twine(r.seq) + " exceeds " + given(positions) +
                       " (" + Twine(r.positions) +
                       "), the rows of the position embedding table");
  return success();
}

/// Each size is one dimension of an f32 weight whose other is the hidden
/// size: each weight must fit a tensor (mlir::attn::kMaxTensorBytes), or the
/// description written from the config would not compile.
LogicalResult Reader::checkWeightBytes(
    std::initializer_list<std::pair<int64_t, const char *>> widths) {
  for (auto [width, what] : widths) {
    int64_t bytes = 4 * r.hidden * width; // each factor is below 2^26
    if (bytes > mlir::attn::kMaxTensorBytes)
      return c.error(given(t.hidden),
                     "the f32 weight of " + given(t.hidden) + " (" +
                         Twine(r.hidden) + ") x " + what + " (" +
                         Twine(width) + ") would take " + Twine(bytes) +
                         " bytes, " + mlir::attn::kTooLargeToAllocate);
  }
  return success();
}

LogicalResult Reader::readFlags(const HFImportOptions &options) {
  r.batch = options.batch.value_or(kDefaultBatch);
  r.seq = options.seq.value_or(kDefaultSeq);
  r.head = options.head;
  r.idsI64 = options.idsI64;
  auto flagError = [&](const Twine &message) {
    llvm::errs() << "attnc: error: " << message << "\n";
    return failure();
  };
  for (auto [flag, value] :
       {std::pair<const char *, std::optional<int64_t>>{"--batch",
                                                        options.batch},
        {"--seq", options.seq},
        {"--memory-seq", options.memorySeq},
        {"--layers", options.layers}})
    if (value && (*value < 1 || *value > kMaxConfigSize))
      return flagError(Twine(flag) + " must be between 1 and " +
                       Twine(kMaxConfigSize) + ", got " + Twine(*value));
  if (options.idsI64 && !options.head)
    return flagError("--ids-i64 needs --head (without it the input is "
                     "hidden_states, not token ids)");
  if (r.batch * r.seq > kMaxConfigSize)
    return flagError("--batch x --seq (" + Twine(r.batch * r.seq) +
                     ") must be at most " + Twine(kMaxConfigSize));
  if (options.memorySeq && t.family != Family::Whisper)
    return c.error("model_type", "--memory-seq applies only to whisper (the "
                                 "encoder output length); model_type '" +
                                     Twine(t.type) +
                                     "' has no cross-attention");
  r.compiledLayers = options.layers.value_or(r.layers);
  if (r.compiledLayers > r.layers) {
    StringRef key = given(t.layers);
    return c.error(key, "--layers " + Twine(r.compiledLayers) + " exceeds " +
                            key + " (" + Twine(r.layers) + ")");
  }
  return success();
}

LogicalResult Reader::readLlamaFamily() {
  // num_key_value_heads: null means H; absent, the type's default.
  int64_t kvFallback = t.kvHeadsDefault ? t.kvHeadsDefault : r.heads;
  auto kv = c.optInteger("num_key_value_heads", 1, /*nullIsAbsent=*/true);
  if (failed(kv))
    return failure();
  r.kvHeads = kv->value_or(c.isNull("num_key_value_heads") ? r.heads
                                                           : kvFallback);
  c.log("num_key_value_heads", Twine(r.kvHeads),
        *kv ? ""
        : c.isNull("num_key_value_heads") || kvFallback == r.heads
            ? "num_attention_heads"
            : "default");
  if (r.heads % r.kvHeads != 0)
    return c.error("num_key_value_heads",
                   "expected num_attention_heads (" + Twine(r.heads) +
                       ") to be a multiple of num_key_value_heads (" +
                       Twine(r.kvHeads) +
                       (c.has("num_key_value_heads")
                            ? ")"
                            : ", the " + std::string(t.type) +
                                  " default when absent)"));
  r.rope = Rope();
  if (failed(readHeadDim()) || failed(readRope(c, *r.rope)))
    return failure();
  if (r.headDim % 2 != 0)
    return c.error(c.has("head_dim") ? "head_dim" : "hidden_size",
                   "expected the head dim (" + Twine(r.headDim) +
                       ") to be even for rotary embeddings");

  if (t.biasFlags) {
    auto attnBias = c.boolean("attention_bias", false);
    auto mlpBias = succeeded(attnBias) ? c.boolean("mlp_bias", false)
                                       : FailureOr<bool>(failure());
    if (failed(mlpBias))
      return failure();
    r.qBias = r.kBias = r.vBias = r.oBias = *attnBias;
    r.mlpBias = *mlpBias;
  }
  if (t.window == WindowRule::Every) {
    if (c.isNull("sliding_window")) {
      c.log("sliding_window", "none", "no window");
    } else {
      auto window = c.integer("sliding_window", 4096);
      if (failed(window))
        return failure();
      r.window = *window;
    }
  }
  if (t.window == WindowRule::Qwen2 && failed(readQwen2Window()))
    return failure();
  return success();
}


/// Qwen2's window: none unless use_sliding_window; then layer i slides iff
/// i >= max_window_layers, or as an explicit layer_types list says. One
/// layer function is compiled, so the compiled layers must agree.
LogicalResult Reader::readQwen2Window() {
  auto use = c.boolean("use_sliding_window", false);
  if (failed(use))
    return failure();
  if (!*use) { // HF then sets sliding_window = None
    c.log("sliding_window", "none", "use_sliding_window is false");
    return success();
  }
  if (c.isNull("sliding_window")) {
    c.log("sliding_window", "none", "no window");
    return success();
  }
  auto window = c.integer("sliding_window", 4096);
  if (failed(window))
    return failure();
  std::vector<bool> sliding;
  bool listed = c.has("layer_types") && !c.isNull("layer_types");
  std::string source;
  if (listed) {
    const llvm::json::Array *list = c.get("layer_types")->getAsArray();
    if (!list)
      return c.error("layer_types", "expected a list for 'layer_types', got " +
                                        c.spelling("layer_types"));
    if (int64_t(list->size()) != r.layers)
      return c.error("layer_types",
                     "expected 'layer_types' to have num_hidden_layers (" +
                         Twine(r.layers) + ") entries, got " +
                         Twine(list->size()));
    for (int64_t i = 0; i < r.compiledLayers; ++i) {
      std::string key = "layer_types[" + std::to_string(i) + "]";
      auto kind = c.optString(key);
      if (failed(kind))
        return failure();
      if (**kind != "full_attention" && **kind != "sliding_attention")
        return c.error(key, "expected \"full_attention\" or "
                            "\"sliding_attention\" in 'layer_types', got " +
                                c.spelling(key));
      sliding.push_back(**kind == "sliding_attention");
    }
    source = "layer_types";
  } else {
    auto first = c.integer("max_window_layers", 28, /*minimum=*/0);
    if (failed(first))
      return failure();
    for (int64_t i = 0; i < r.compiledLayers; ++i)
      sliding.push_back(i >= *first);
    source = "max_window_layers " + std::to_string(*first);
  }
  auto kind = [](bool slides) {
    return slides ? "sliding-window attention" : "full attention";
  };
  for (size_t k = 1; k < sliding.size(); ++k) {
    if (sliding[k] == sliding[0])
      continue;
    std::string before = k == 1 ? "layer 0 uses "
                                : "layers 0 to " + std::to_string(k - 1) +
                                      " use ";
    return c.error(listed ? "layer_types[" + std::to_string(k) + "]"
                          : std::string("max_window_layers"),
                   before + kind(sliding[0]) + " but layer " + Twine(k) +
                       " uses " + kind(sliding[k]) +
                       " (use_sliding_window true, " + source +
                       "); one layer function is compiled for all layers, "
                       "so they must agree: compile at most " +
                       Twine(k) + (k == 1 ? " layer" : " layers") +
                       " (--layers " + Twine(k) + ")");
  }
  c.log("layer_types[0.." + std::to_string(r.compiledLayers - 1) + "]",
        sliding[0] ? "sliding_attention" : "full_attention",
        listed ? "" : "from max_window_layers");
  if (sliding[0])
    r.window = *window;
  return success();
}

} // namespace

FailureOr<Resolved> readConfig(HFConfig &config, const ModelType &type,
                               const HFImportOptions &options) {
  Resolved r;
  if (failed(Reader(config, type, r).read(options)))
    return failure();
  return r;
}

} // namespace mlir::attn::hf
