//===- HFImport.cpp - Hugging Face config.json to a model description -----===//
//
// The table of supported model types and the entry point: parse the JSON
// (HFConfig), find the model type, read and check the config into a
// `Resolved` record (HFRead.cpp, HFRope.cpp), write the description
// (HFWrite.cpp).
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/HFImport.h"

#include "tools/attnc/HFConfig.h"
#include "tools/attnc/HFModel.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::attn {

const char *HFImportOptions::firstGivenFlag() const {
  if (batch)
    return "--batch";
  if (seq)
    return "--seq";
  if (memorySeq)
    return "--memory-seq";
  if (layers)
    return "--layers";
  if (head)
    return "--head";
  if (idsI64)
    return "--ids-i64";
  return nullptr;
}

namespace hf {
namespace {

ModelType make(const char *type, const char *name, const char *layerName,
               Family family, const char *summary) {
  ModelType t;
  t.type = type;
  t.name = name;
  t.layerName = layerName;
  t.family = family;
  t.summary = summary;
  return t;
}

ModelType llamaLike(const char *type, const char *summary) {
  ModelType t = make(type, type, "decoder_layer", Family::Llama, summary);
  t.rmsNorm = t.gatedMlp = t.rope = t.biasFlags = true;
  t.hidden = {"hidden_size", nullptr, 4096};
  t.layers = {"num_hidden_layers", nullptr, 32};
  t.heads = {"num_attention_heads", nullptr, 32};
  t.intermediate = {"intermediate_size", nullptr, 11008};
  t.vocab = {"vocab_size", nullptr, 32000};
  t.epsKey = "rms_norm_eps";
  t.epsDefault = 1e-6;
  t.layerPrefix = "model.layers.{i}.";
  t.localPrefix = "model.";
  t.attnNorm = "input_layernorm";
  t.q = "self_attn.q_proj";
  t.k = "self_attn.k_proj";
  t.v = "self_attn.v_proj";
  t.o = "self_attn.o_proj";
  t.mlpNorm = "post_attention_layernorm";
  t.gate = "mlp.gate_proj";
  t.up = "mlp.up_proj";
  t.down = "mlp.down_proj";
  t.embed = "model.embed_tokens";
  t.finalNorm = "model.norm";
  t.lmHead = "lm_head";
  return t;
}

} // namespace

const std::vector<ModelType> &modelTypes() {
  static const std::vector<ModelType> types = [] {
    std::vector<ModelType> all;
    all.push_back(llamaLike("llama", "pre-norm decoder: RMSNorm, "
                                     "causal GQA attention with RoPE, "
                                     "gated MLP"));
    ModelType mistral = llamaLike("mistral", "llama with a sliding window "
                                             "on every layer");
    mistral.biasFlags = false;
    mistral.window = WindowRule::Every;
    mistral.kvHeadsDefault = 8;
    mistral.intermediate.fallback = 14336;
    all.push_back(mistral);
    ModelType qwen2 = llamaLike("qwen2", "llama with q/k/v biases and an "
                                         "optional sliding window");
    qwen2.biasFlags = false;
    qwen2.qBias = qwen2.kBias = qwen2.vBias = true;
    qwen2.window = WindowRule::Qwen2;
    qwen2.kvHeadsDefault = 32;
    qwen2.intermediate.fallback = 22016;
    qwen2.vocab.fallback = 151936;
    all.push_back(qwen2);

    ModelType gpt2 = make("gpt2", "gpt2", "block", Family::GPT2,
                          "pre-norm decoder: LayerNorm, fused q/k/v Conv1D, "
                          "causal attention, GELU MLP");
    gpt2.conv1d = true;
    gpt2.qBias = gpt2.kBias = gpt2.vBias = gpt2.oBias = gpt2.mlpBias = true;
    gpt2.mustBeFalse = {
        {"scale_attn_by_inverse_layer_idx",
         "scores divided by the layer index + 1 differ per layer, but one "
         "layer function is compiled"},
        {"add_cross_attention",
         "GPT-2 cross-attention layers are not implemented"}};
    gpt2.hidden = {"n_embd", "hidden_size", 768};
    gpt2.layers = {"n_layer", "num_hidden_layers", 12};
    gpt2.heads = {"n_head", "num_attention_heads", 12};
    gpt2.intermediate = {"n_inner", nullptr, 0}; // null or absent: 4 * n_embd
    gpt2.vocab = {"vocab_size", nullptr, 50257};
    gpt2.positions = {"n_positions", "max_position_embeddings", 1024};
    gpt2.actKey = "activation_function";
    gpt2.actDefault = "gelu_new";
    gpt2.epsKey = "layer_norm_epsilon";
    gpt2.tieDefault = true;
    gpt2.layerPrefix = "h.{i}.";
    gpt2.attnNorm = "ln_1";
    gpt2.qkv = "attn.c_attn";
    gpt2.o = "attn.c_proj";
    gpt2.mlpNorm = "ln_2";
    gpt2.up = "mlp.c_fc";
    gpt2.down = "mlp.c_proj";
    gpt2.embed = "wte";
    gpt2.positionTable = "wpe";
    gpt2.finalNorm = "ln_f";
    gpt2.lmHead = "lm_head";
    all.push_back(gpt2);

    ModelType bert = make("bert", "bert", "encoder_layer", Family::Bert,
                          "post-norm encoder: bidirectional attention, "
                          "LayerNorm after each residual, GELU MLP");
    bert.postNorm = true;
    bert.causal = false;
    bert.qBias = bert.kBias = bert.vBias = bert.oBias = bert.mlpBias = true;
    bert.mustBeFalse = {{"is_decoder", "BERT as a decoder (causal, "
                                       "cross-attention) is not implemented"}};
    bert.hidden = {"hidden_size", nullptr, 768};
    bert.layers = {"num_hidden_layers", nullptr, 12};
    bert.heads = {"num_attention_heads", nullptr, 12};
    bert.intermediate = {"intermediate_size", nullptr, 3072};
    bert.vocab = {"vocab_size", nullptr, 30522};
    bert.positions = {"max_position_embeddings", nullptr, 512};
    bert.actDefault = "gelu";
    bert.epsKey = "layer_norm_eps";
    bert.epsDefault = 1e-12;
    bert.layerPrefix = "bert.encoder.layer.{i}.";
    bert.localPrefix = "bert.";
    bert.q = "attention.self.query";
    bert.k = "attention.self.key";
    bert.v = "attention.self.value";
    bert.o = "attention.output.dense";
    bert.attnNorm = "attention.output.LayerNorm";
    bert.up = "intermediate.dense";
    bert.down = "output.dense";
    bert.mlpNorm = "output.LayerNorm";
    bert.embed = "bert.embeddings.word_embeddings";
    bert.positionTable = "bert.embeddings.position_embeddings";
    bert.tokenTypes = "bert.embeddings.token_type_embeddings";
    bert.embedNorm = "bert.embeddings.LayerNorm";
    all.push_back(bert);

    ModelType whisper =
        make("whisper", "whisper_decoder", "decoder_layer", Family::Whisper,
             "decoder layers only: pre-norm LayerNorm, causal "
             "self-attention, cross-attention on the encoder output, GELU "
             "MLP");
    whisper.cross = true;
    whisper.qBias = whisper.vBias = whisper.oBias = whisper.mlpBias = true;
    whisper.mustBeFalse = {{"scale_embedding",
                            "the decoder's token embeddings are imported "
                            "unscaled"}};
    whisper.hidden = {"d_model", nullptr, 256};
    whisper.layers = {"decoder_layers", nullptr, 6};
    whisper.heads = {"decoder_attention_heads", nullptr, 4};
    whisper.intermediate = {"decoder_ffn_dim", nullptr, 1536};
    whisper.vocab = {"vocab_size", nullptr, 51865};
    whisper.positions = {"max_target_positions", nullptr, 448};
    whisper.actKey = "activation_function";
    whisper.actDefault = "gelu";
    whisper.tieDefault = true;
    whisper.layerPrefix = "model.decoder.layers.{i}.";
    whisper.localPrefix = "model.";
    whisper.attnNorm = "self_attn_layer_norm";
    whisper.q = "self_attn.q_proj";
    whisper.k = "self_attn.k_proj";
    whisper.v = "self_attn.v_proj";
    whisper.o = "self_attn.out_proj";
    whisper.crossNorm = "encoder_attn_layer_norm";
    whisper.crossQ = "encoder_attn.q_proj";
    whisper.crossK = "encoder_attn.k_proj";
    whisper.crossV = "encoder_attn.v_proj";
    whisper.crossO = "encoder_attn.out_proj";
    whisper.mlpNorm = "final_layer_norm";
    whisper.up = "fc1";
    whisper.down = "fc2";
    whisper.embed = "model.decoder.embed_tokens";
    whisper.positionTable = "model.decoder.embed_positions";
    whisper.finalNorm = "model.decoder.layer_norm";
    whisper.lmHead = "proj_out";
    all.push_back(whisper);
    return all;
  }();
  return types;
}

} // namespace hf

std::optional<HFImportResult> importHFConfig(llvm::SourceMgr &sourceMgr,
                                             const HFImportOptions &options) {
  std::optional<HFConfig> config = HFConfig::parse(sourceMgr);
  if (!config)
    return std::nullopt;
  std::string supported;
  for (const hf::ModelType &t : hf::modelTypes())
    supported += (supported.empty() ? "" : ", ") + std::string(t.type);
  auto typeName = config->optString("model_type");
  if (failed(typeName))
    return std::nullopt;
  if (!*typeName) {
    (void)config->error("", "missing 'model_type' (one of " + supported +
                                ")");
    return std::nullopt;
  }
  const hf::ModelType *type = nullptr;
  for (const hf::ModelType &t : hf::modelTypes())
    if (**typeName == t.type)
      type = &t;
  if (!type) {
    (void)config->error("model_type", "unsupported model_type '" +
                                          **typeName + "'; supported: " +
                                          supported);
    return std::nullopt;
  }
  llvm::FailureOr<hf::Resolved> r = hf::readConfig(*config, *type, options);
  if (failed(r))
    return std::nullopt;

  std::string header;
  auto line = [&](const llvm::Twine &text) {
    header += ("# " + text + "\n").str();
  };
  line(llvm::Twine(type->name) + ": generated by attnc from " +
       config->fileName());
  line("Hugging Face model_type '" + llvm::Twine(type->type) +
       "': " + type->summary);
  line("config.json fields used (absent: the transformers default):");
  for (const std::string &field : config->logged())
    line("  " + field);
  std::string flags = "--batch " + std::to_string(r->batch) + " --seq " +
                      std::to_string(r->seq);
  if (type->cross)
    flags += " --memory-seq " + std::to_string(r->memorySeq);
  flags += " --layers " + std::to_string(r->compiledLayers) + " (of " +
           std::to_string(r->layers) + ")";
  if (r->head)
    flags += " --head";
  line("attnc flags: " + flags);
  return HFImportResult{type->name, hf::writeDescription(*type, *r, header)};
}

} // namespace mlir::attn
