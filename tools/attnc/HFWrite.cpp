//===- HFWrite.cpp - write the model description of an imported config ----===//
//
// One emitter for every model type: the table entry (HFModel.h) says which
// norm, MLP and attention pieces a layer has and what their tensors are
// called; the Resolved record gives the sizes and options. The output is a
// description in the model language (examples/README.md, "Hugging Face
// models"): top-level weights, one `layer` definition with its weights under
// their checkpoint names, the layer called with `repeat`, and the outputs.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/HFConfig.h"
#include "tools/attnc/HFModel.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>

namespace mlir::attn::hf {
namespace {

using llvm::ArrayRef;
using llvm::StringRef;
using llvm::Twine;

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (int64_t dim : shape)
    text += (text.size() > 1 ? ", " : "") + std::to_string(dim);
  return text + "]";
}

/// The statements of the model or of a layer: weight declarations (in order
/// of first use, which is the order of the compiled function's weights),
/// then the ops.
class Scope {
public:
  Scope(StringRef indent, StringRef localPrefix)
      : indent(indent), localPrefix(localPrefix) {}

  /// The local name of the weight stored under `file` (inside a layer:
  /// after the layer's prefix): the name without the scope's prefix and
  /// `.weight`, `.bias` as `_bias`, dots as underscores.
  std::string localName(StringRef file) const {
    StringRef name = file;
    name.consume_front(localPrefix);
    std::string local = name.ends_with(".weight")
                            ? name.drop_back(7).str()
                        : name.ends_with(".bias")
                            ? name.drop_back(5).str() + "_bias"
                            : name.str();
    std::replace(local.begin(), local.end(), '.', '_');
    return local;
  }
  /// Declares the weight stored under `file`; returns its local name.
  std::string weight(StringRef file, ArrayRef<int64_t> shape) {
    std::string local = localName(file);
    decls += indent + "weight " + local + ": " + shapeText(shape) + " = \"" +
             file.str() + "\"\n";
    return local;
  }
  std::string op(StringRef result, const Twine &call) {
    body += indent + result.str() + " = " + call.str() + "\n";
    return result.str();
  }
  /// A comment line; a new section (after the first) follows a blank line.
  void comment(const Twine &text, bool section = false) {
    if (section && !body.empty())
      body += "\n";
    body += indent + "# " + text.str() + "\n";
  }

  std::string decls, body;

private:
  std::string indent, localPrefix;
};

/// The tensors of one attention block (self or cross).
struct AttentionNames {
  const char *q, *k, *v, *qkv, *o;
};

class Writer {
public:
  Writer(const ModelType &t, const Resolved &r) : t(t), r(r) {}
  std::string write(StringRef header);

private:
  std::string norm(Scope &s, StringRef x, StringRef name, StringRef result);
  std::string linear(Scope &s, StringRef x, StringRef name, int64_t out,
                     int64_t in, bool bias, StringRef result);
  std::string attention(Scope &s, StringRef tag, StringRef xq, StringRef xkv,
                        const AttentionNames &names, bool self);
  std::string mlp(Scope &s, StringRef x);
  std::string layer();
  std::string ropeCall(StringRef x) const;

  const ModelType &t;
  const Resolved &r;
};

std::string Writer::norm(Scope &s, StringRef x, StringRef name,
                         StringRef result) {
  std::string weight = s.weight((name + ".weight").str(), {r.hidden});
  if (t.rmsNorm)
    return s.op(result, "rms_norm(" + x + ", " + weight +
                            ", eps = " + formatNumber(r.eps) + ")");
  std::string bias = s.weight((name + ".bias").str(), {r.hidden});
  return s.op(result, "layer_norm(" + x + ", " + weight + ", " + bias +
                          ", eps = " + formatNumber(r.eps) + ")");
}

std::string Writer::linear(Scope &s, StringRef x, StringRef name, int64_t out,
                           int64_t in, bool bias, StringRef result) {
  std::string weight = s.weight(
      (name + ".weight").str(),
      t.conv1d ? std::vector<int64_t>{in, out} : std::vector<int64_t>{out, in});
  std::string call = "linear(" + x.str() + ", " + weight;
  if (bias)
    call += ", bias = " + s.weight((name + ".bias").str(), {out});
  if (t.conv1d)
    call += ", layout = in_out";
  return s.op(result, call + ")");
}

std::string Writer::ropeCall(StringRef x) const {
  const Rope &rope = *r.rope;
  std::string call = "rope(" + x.str() + ", theta = " + formatNumber(rope.theta);
  if (!rope.scaling.empty())
    call += ", scaling = " + rope.scaling + ", factor = " +
            formatNumber(rope.factor);
  if (rope.scaling == "llama3")
    call += ", low_freq_factor = " + formatNumber(rope.lowFreqFactor) +
            ", high_freq_factor = " + formatNumber(rope.highFreqFactor) +
            ", original_max_positions = " +
            std::to_string(rope.originalMaxPositions);
  return call + ")";
}

std::string Writer::attention(Scope &s, StringRef tag, StringRef xq,
                              StringRef xkv, const AttentionNames &names,
                              bool self) {
  int64_t kvHeads = self ? r.kvHeads : r.heads;
  int64_t qDim = r.heads * r.headDim, kvDim = kvHeads * r.headDim;
  auto name = [&](StringRef base) { return (tag + base).str(); };
  std::string q, k, v;
  if (names.qkv) {
    std::string qkv = linear(s, xq, names.qkv, 3 * r.hidden, r.hidden,
                             r.qBias, name("qkv"));
    q = s.op(name("q"), "chunk(" + qkv + ", parts = 3, index = 0)");
    k = s.op(name("k"), "chunk(" + qkv + ", parts = 3, index = 1)");
    v = s.op(name("v"), "chunk(" + qkv + ", parts = 3, index = 2)");
  } else {
    q = linear(s, xq, names.q, qDim, r.hidden, r.qBias, name("q"));
    k = linear(s, xkv, names.k, kvDim, r.hidden, r.kBias, name("k"));
    v = linear(s, xkv, names.v, kvDim, r.hidden, r.vBias, name("v"));
  }
  q = s.op(name("q_heads"),
           "split_heads(" + q + ", heads = " + Twine(r.heads) + ")");
  k = s.op(name("k_heads"),
           "split_heads(" + k + ", heads = " + Twine(kvHeads) + ")");
  v = s.op(name("v_heads"),
           "split_heads(" + v + ", heads = " + Twine(kvHeads) + ")");
  if (t.rope && self) {
    q = s.op(name("q_rot"), ropeCall(q));
    k = s.op(name("k_rot"), ropeCall(k));
  }
  std::string call = "attention(" + q + ", " + k + ", " + v;
  if (t.causal && self)
    call += ", mask = causal";
  if (r.window && self)
    call += ", window = [" + std::to_string(*r.window - 1) + ", 0]";
  if (r.scale)
    call += ", scale = " + formatNumber(*r.scale);
  std::string out = s.op(name("attn"), call + ")");
  out = s.op(name("attn_merged"), "merge_heads(" + out + ")");
  return linear(s, out, names.o, r.hidden, qDim, r.oBias, name("attn_out"));
}

std::string Writer::mlp(Scope &s, StringRef x) {
  const Activation &act = *r.activation;
  auto apply = [&](StringRef y) {
    return s.op("mlp_act", Twine(act.op) + "(" + y + act.keywords + ")");
  };
  std::string hidden;
  if (t.gatedMlp) {
    std::string gate = linear(s, x, t.gate, r.intermediate, r.hidden,
                              r.mlpBias, "mlp_gate");
    std::string gated = apply(gate);
    std::string up =
        linear(s, x, t.up, r.intermediate, r.hidden, r.mlpBias, "mlp_up");
    hidden = s.op("mlp_mul", "mul(" + gated + ", " + up + ")");
  } else {
    hidden = apply(
        linear(s, x, t.up, r.intermediate, r.hidden, r.mlpBias, "mlp_up"));
  }
  return linear(s, hidden, t.down, r.hidden, r.intermediate, r.mlpBias,
                "mlp_out");
}

std::string Writer::layer() {
  Scope s("  ", "");
  std::string kv = r.kvHeads == r.heads
                       ? ""
                       : ", " + std::to_string(r.kvHeads) + " key/value heads";
  std::string what = std::to_string(r.heads) + " heads" + kv + " of dim " +
                     std::to_string(r.headDim);
  if (t.causal)
    what += ", causal";
  if (r.window)
    what += ", sliding window " + std::to_string(*r.window) +
            " (a query sees itself and the " + std::to_string(*r.window - 1) +
            " keys before it)";
  if (t.rope)
    what += ", RoPE";
  if (r.scale)
    what += ", scale " + formatNumber(*r.scale);
  s.comment("self-attention: " + what, true);
  std::string mlpWhat =
      (t.gatedMlp ? "MLP: down(" + std::string(r.activation->hfName) +
                        "(gate(h)) * up(h))"
                  : "MLP: " + std::string(r.activation->hfName)) +
      ", width " + std::to_string(r.intermediate);
  AttentionNames self{t.q, t.k, t.v, t.qkv, t.o};
  std::string y;
  if (t.postNorm) {
    std::string out = attention(s, "", "x", "x", self, true);
    std::string h = norm(s, s.op("attn_res", "add(x, " + out + ")"),
                         t.attnNorm, "h");
    s.comment(mlpWhat, true);
    std::string m = mlp(s, h);
    y = norm(s, s.op("mlp_res", "add(" + h + ", " + m + ")"), t.mlpNorm, "y");
  } else {
    std::string in = norm(s, "x", t.attnNorm, "attn_in");
    std::string h = s.op(
        "h", "add(x, " + attention(s, "", in, in, self, true) + ")");
    if (t.cross) {
      s.comment("cross-attention on the encoder output (memory), no mask",
                true);
      AttentionNames cross{t.crossQ, t.crossK, t.crossV, nullptr, t.crossO};
      std::string cin = norm(s, h, t.crossNorm, "cross_in");
      h = s.op("h_cross", "add(" + h + ", " +
                              attention(s, "cross_", cin, "memory", cross,
                                        false) +
                              ")");
    }
    s.comment(mlpWhat, true);
    std::string m = mlp(s, norm(s, h, t.mlpNorm, "mlp_in"));
    y = s.op("y", "add(" + h + ", " + m + ")");
  }
  return "layer " + std::string(t.layerName) + "(x" +
         (t.cross ? ", memory" : "") + ")\n" + s.decls + "\n" + s.body +
         "  return " + y + "\nend\n";
}

std::string Writer::write(StringRef header) {
  Scope s("", t.localPrefix);
  std::string inputs;
  std::string x;
  if (r.head) {
    inputs = std::string("input input_ids: ") + (r.idsI64 ? "i64" : "i32") +
             shapeText({r.batch, r.seq}) + "\n";
    s.comment("embeddings", true);
    std::string table = s.weight((t.embed + Twine(".weight")).str(),
                                 {r.vocab, r.hidden});
    x = s.op("embeds", "embedding(input_ids, " + table + ")");
    if (t.tokenTypes) {
      std::string types = s.weight((t.tokenTypes + Twine(".weight")).str(),
                                   {r.tokenTypes, r.hidden});
      s.comment("token type 0 for every token (no token_type_ids input)");
      std::string row =
          s.op("token_type_row", "rows(" + types + ", count = 1)");
      x = s.op("embeds_types", "add(" + x + ", " + row + ")");
    }
    if (t.positionTable) {
      std::string positions = s.weight(
          (t.positionTable + Twine(".weight")).str(), {r.positions, r.hidden});
      std::string rows = s.op("position_rows", "rows(" + positions +
                                                   ", count = " +
                                                   Twine(r.seq) + ")");
      x = s.op("embeds_positions", "add(" + x + ", " + rows + ")");
    }
    if (t.embedNorm)
      x = norm(s, x, t.embedNorm, "embeds_norm");
  } else {
    inputs = "input hidden_states: " +
             shapeText({r.batch, r.seq, r.hidden}) + "\n";
    x = "hidden_states";
  }
  if (t.cross)
    inputs += "input encoder_hidden_states: " +
              shapeText({r.batch, r.memorySeq, r.hidden}) + "\n";

  bool logits = r.head && t.lmHead;
  std::string result = logits ? "hidden" : "last_hidden_state";
  s.comment(Twine(r.compiledLayers) + " layers" +
                (r.compiledLayers < r.layers
                     ? " (the first " + std::to_string(r.compiledLayers) +
                           " of " + std::to_string(r.layers) + ")"
                     : ""),
            true);
  s.op(result, Twine(t.layerName) + "(" + x +
                   (t.cross ? ", encoder_hidden_states" : "") +
                   ", repeat = " + Twine(r.compiledLayers) + ", prefix = \"" +
                   t.layerPrefix + "\")");
  if (logits) {
    std::string table = (t.embed + Twine(".weight")).str();
    s.comment("final norm and LM head" +
                  (r.tie ? " (tied: " + std::string(t.lmHead) + " = " +
                               table + ")"
                         : std::string()),
              true);
    std::string normed = norm(s, result, t.finalNorm, "normed");
    std::string weight = r.tie ? s.localName(table)
                               : s.weight((t.lmHead + Twine(".weight")).str(),
                                          {r.vocab, r.hidden});
    result = s.op("logits", "linear(" + normed + ", " + weight + ")");
  }
  return header.str() + "model " + t.name + "\n\n" + inputs +
         (s.decls.empty() ? "" : "\n" + s.decls) + "\n" +
         layer() + "\n" + s.body + "output " + result + "\n";
}

} // namespace

std::string writeDescription(const ModelType &type, const Resolved &r,
                             StringRef header) {
  return Writer(type, r).write(header);
}

} // namespace mlir::attn::hf
