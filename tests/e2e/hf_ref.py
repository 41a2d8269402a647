#!/usr/bin/python3
"""Float64 reference of Hugging Face models from config.json (test code only).

    hf_ref.py CONFIG.json [--head] [--layers N] --inputs DIR --weights FILE
              [--outputs DIR] [--rtol 1e-4] [--write-ref DIR]
    hf_ref.py CONFIG.json [--head] [--layers N] --write-weights FILE --seed N
              [--no-prefix]
    hf_ref.py CONFIG.json [--head] --write-inputs DIR --seed N
              [--batch 1] [--seq 8] [--memory 6]

Computes the model straight from the config semantics of Hugging Face
transformers' modeling_<type>.py and configuration_<type>.py (model_type llama, mistral, qwen2, gpt2, bert, whisper), independently of the
.model language, in float64. The interface mirrors the importer's:

- without --head: input `hidden_states` [B, S, E] (and
  `encoder_hidden_states` [B, M, E] for whisper) -> output
  `last_hidden_state`, the hidden states after the last layer (no final
  norm, no embeddings);
- with --head: input `input_ids` i32 [B, S] (whisper also takes
  `encoder_hidden_states`) -> `logits` [B, S, V]: embeddings (GPT-2 adds wpe,
  Whisper embed_positions), the layers, the final norm, the LM head (the
  embedding table when tie_word_embeddings). BERT has no LM head or final
  norm in its base model: its --head output is `last_hidden_state`, the
  hidden states after LayerNorm(word + token_type[0] + position) and the
  layers.

--layers N uses the first N layers. Weights are looked up by the names of
MODELS.md with or without the checkpoint prefix (`model.`, `transformer.`,
`bert.`, `model.decoder.`); --write-weights writes random f32 weights (the
distribution of model_ref.py) with the prefix (without it: --no-prefix),
only those the mode uses, tied heads omitted. --write-inputs writes random
inputs: hidden states uniform in [-1, 1), ids uniform in [0, V). The
comparison and report are those of model_ref.py (reflib.compare).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reflib  # noqa: E402  (shared safetensors/npy I/O and comparison)

LLAMA_FAMILY = ("llama", "mistral", "qwen2")

# Checkpoint prefix of the model body (MODELS.md section 8).
PREFIX = {"llama": "model.", "mistral": "model.", "qwen2": "model.",
          "gpt2": "transformer.", "bert": "bert.", "whisper": "model.decoder."}


# ---------------------------------------------------------------------------
# Config semantics (defaults when a key is absent, MODELS.md sections 2-7)
# ---------------------------------------------------------------------------

def _get(cfg, key, default):
    """cfg[key], or default when absent or null."""
    value = cfg.get(key)
    return default if value is None else value


def parse_config(cfg, layers_override):
    """The semantics this reference needs, as a flat dict."""
    kind = cfg.get("model_type")
    if kind in LLAMA_FAMILY:
        c = _llama_family(cfg, kind)
    elif kind == "gpt2":
        e = _get(cfg, "n_embd", _get(cfg, "hidden_size", 768))
        c = {"E": e, "L": _get(cfg, "n_layer", 12),
             "H": _get(cfg, "n_head", 12),
             "I": _get(cfg, "n_inner", 4 * e),
             "act": _get(cfg, "activation_function", "gelu_new"),
             "eps": _get(cfg, "layer_norm_epsilon", 1e-5),
             "scale_attn": _get(cfg, "scale_attn_weights", True),
             "scale_by_layer": _get(cfg, "scale_attn_by_inverse_layer_idx",
                                    False),
             "P": _get(cfg, "n_positions", 1024),
             "V": _get(cfg, "vocab_size", 50257),
             "tied": _get(cfg, "tie_word_embeddings", True)}
        if _get(cfg, "add_cross_attention", False):
            raise reflib.RefError("gpt2 add_cross_attention is not supported")
    elif kind == "bert":
        if _get(cfg, "position_embedding_type", "absolute") != "absolute":
            raise reflib.RefError("bert: only absolute position embeddings")
        if _get(cfg, "is_decoder", False):
            raise reflib.RefError("bert: is_decoder is not supported")
        c = {"E": _get(cfg, "hidden_size", 768),
             "L": _get(cfg, "num_hidden_layers", 12),
             "H": _get(cfg, "num_attention_heads", 12),
             "I": _get(cfg, "intermediate_size", 3072),
             "act": _get(cfg, "hidden_act", "gelu"),
             "eps": _get(cfg, "layer_norm_eps", 1e-12),
             "P": _get(cfg, "max_position_embeddings", 512),
             "T": _get(cfg, "type_vocab_size", 2),
             "V": _get(cfg, "vocab_size", 30522)}
    elif kind == "whisper":
        # The decoder forward adds no embed_scale (scale_embedding is used by
        # the encoder only); every LayerNorm has eps 1e-5.
        c = {"E": _get(cfg, "d_model", 256),
             "L": _get(cfg, "decoder_layers", 6),
             "H": _get(cfg, "decoder_attention_heads", 4),
             "I": _get(cfg, "decoder_ffn_dim", 1536),
             "act": _get(cfg, "activation_function", "gelu"),
             "eps": 1e-5,
             "P": _get(cfg, "max_target_positions", 448),
             "V": _get(cfg, "vocab_size", 51865),
             "tied": _get(cfg, "tie_word_embeddings", True)}
    else:
        raise reflib.RefError(f"unsupported model_type {kind!r}")
    c["kind"] = kind
    if kind not in LLAMA_FAMILY:
        c["D"] = c["E"] // c["H"]
    if layers_override is not None:
        if not 1 <= layers_override <= c["L"]:
            raise reflib.RefError(f"--layers {layers_override}: the model "
                                  f"has {c['L']} layers")
        c["L"] = layers_override
    if c["act"] not in ACTIVATIONS:
        raise reflib.RefError(f"unsupported activation {c['act']!r}")
    return c


def _llama_family(cfg, kind):
    e = _get(cfg, "hidden_size", 4096)
    h = _get(cfg, "num_attention_heads", 32)
    defaults = {"llama": (11008, 32000, h), "mistral": (14336, 32000, 8),
                "qwen2": (22016, 151936, 32)}[kind]
    c = {"E": e, "H": h, "I": _get(cfg, "intermediate_size", defaults[0]),
         "V": _get(cfg, "vocab_size", defaults[1]),
         "L": _get(cfg, "num_hidden_layers", 32),
         "D": _get(cfg, "head_dim", e // h),
         "act": _get(cfg, "hidden_act", "silu"),
         "eps": _get(cfg, "rms_norm_eps", 1e-6),
         "tied": _get(cfg, "tie_word_embeddings", False)}
    # num_key_value_heads: absent -> the class default; null -> H.
    c["Hkv"] = cfg["num_key_value_heads"] if "num_key_value_heads" in cfg \
        else defaults[2]
    c["Hkv"] = c["Hkv"] or h
    if kind == "llama":
        c["qkv_bias"] = c["o_bias"] = _get(cfg, "attention_bias", False)
        c["mlp_bias"] = _get(cfg, "mlp_bias", False)
    else:
        c["qkv_bias"] = kind == "qwen2"
        c["o_bias"] = c["mlp_bias"] = False
    # Sliding window per layer: W keys including the query's own.
    if kind == "mistral":
        window = cfg["sliding_window"] if "sliding_window" in cfg else 4096
        c["windows"] = [window] * c["L"]
    elif kind == "qwen2" and _get(cfg, "use_sliding_window", False):
        window = _get(cfg, "sliding_window", 4096)
        types = cfg.get("layer_types") or [
            "sliding_attention" if i >= _get(cfg, "max_window_layers", 28)
            else "full_attention" for i in range(c["L"])]
        c["windows"] = [window if t == "sliding_attention" else None
                        for t in types]
    else:
        c["windows"] = [None] * c["L"]
    c["rope"] = _rope_parameters(cfg)
    return c


def _rope_parameters(cfg):
    """{'type', 'theta', scaling keys} from rope_parameters (transformers 5)
    or the legacy rope_theta / rope_scaling keys."""
    params = dict(cfg.get("rope_parameters") or {})
    if not params:
        params = dict(cfg.get("rope_scaling") or {})
        params["rope_theta"] = _get(cfg, "rope_theta", 10000.0)
    kind = params.get("rope_type", params.get("type", "default"))
    if kind not in ("default", "linear", "llama3"):
        raise reflib.RefError(f"unsupported rope_type {kind!r}")
    if params.get("partial_rotary_factor", 1.0) != 1.0:
        raise reflib.RefError("partial_rotary_factor is not supported")
    needed = {"default": [], "linear": ["factor"],
              "llama3": ["factor", "low_freq_factor", "high_freq_factor",
                         "original_max_position_embeddings"]}[kind]
    missing = [key for key in needed if params.get(key) is None]
    if missing:
        raise reflib.RefError(f"rope_type {kind} needs {', '.join(missing)}")
    params["type"] = kind
    params["theta"] = _get(params, "rope_theta", 10000.0)
    return params


# ---------------------------------------------------------------------------
# Building blocks, float64 (RoPE tables in float32 as HF computes them)
# ---------------------------------------------------------------------------

def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) *
                                    (x + 0.044715 * x ** 3)))


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


ACTIVATIONS = {
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "relu": lambda x: np.maximum(x, 0.0),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "gelu_new": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "gelu_fast": lambda x: 0.5 * x * (1.0 + np.tanh(
        0.7978845608 * x * (1.0 + 0.044715 * x * x))),
    "quick_gelu": lambda x: x * _sigmoid(1.702 * x),
}


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def dense(x, w, b=None):
    """nn.Linear: w is [out, in]."""
    return x @ w.T + (0.0 if b is None else b)


def heads(x, n):
    """[B, S, n*D] -> [B, n, S, D] (feature f = h*D + d)."""
    b, s, f = x.shape
    return x.reshape(b, s, n, f // n).transpose(0, 2, 1, 3)


def merge(x):
    b, h, s, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * d)


def attend(q, k, v, scale, causal, window=None):
    """Softmax attention per head; KV heads repeated for GQA (query head h
    reads KV head h // (H / Hkv)). causal: key j <= query i; window W: also
    j > i - W. Sq == Skv when causal."""
    rep = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
    scores = (q @ k.transpose(0, 1, 3, 2)) * scale
    if causal:
        i = np.arange(q.shape[2])[:, None]
        j = np.arange(k.shape[2])[None, :]
        allowed = j <= i
        if window is not None:
            allowed &= j > i - window
        scores = np.where(allowed, scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    return (p / p.sum(axis=-1, keepdims=True)) @ v


def rope_tables(rope, dim, seq):
    """cos, sin [S, D] as HF's rotary embedding computes them: inv_freq,
    position * inv_freq, cos and sin in float32."""
    f32 = np.float32
    inv_freq = (f32(1.0) / np.power(
        rope["theta"], (np.arange(0, dim, 2, dtype=np.int64).astype(f32) /
                        f32(dim)).astype(np.float64)).astype(f32)).astype(f32)
    if rope["type"] == "linear":
        inv_freq = (inv_freq / f32(rope["factor"])).astype(f32)
    elif rope["type"] == "llama3":
        factor = f32(rope["factor"])
        low, high = f32(rope["low_freq_factor"]), f32(rope["high_freq_factor"])
        old = f32(rope["original_max_position_embeddings"])
        wavelen = (f32(2 * math.pi) / inv_freq).astype(f32)
        base = np.where(wavelen > old / low, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (f32(1) - smooth) * base / factor + smooth * base
        medium = (wavelen >= old / high) & (wavelen <= old / low)
        inv_freq = np.where(medium, smoothed, base).astype(f32)
    freqs = np.arange(seq).astype(f32)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1).astype(np.float64)
    return (np.cos(emb).astype(f32).astype(np.float64),
            np.sin(emb).astype(f32).astype(np.float64))


def apply_rope(x, cos, sin):
    half = x.shape[-1] // 2
    return x * cos + np.concatenate([-x[..., half:], x[..., :half]], -1) * sin


# ---------------------------------------------------------------------------
# Weights: canonical names (without the body prefix) and shapes per mode
# ---------------------------------------------------------------------------

def layer_weights(c, i):
    """[(name, shape)] of layer i, names without the checkpoint prefix."""
    e, d, inner = c["E"], c["D"], c["I"]
    kind, out = c["kind"], []
    if kind in LLAMA_FAMILY:
        p = f"layers.{i}."
        hd, kvd = c["H"] * d, c["Hkv"] * d
        for proj, rows, bias in (("q", hd, c["qkv_bias"]),
                                 ("k", kvd, c["qkv_bias"]),
                                 ("v", kvd, c["qkv_bias"])):
            out.append((f"{p}self_attn.{proj}_proj.weight", [rows, e]))
            if bias:
                out.append((f"{p}self_attn.{proj}_proj.bias", [rows]))
        out.append((f"{p}self_attn.o_proj.weight", [e, hd]))
        if c["o_bias"]:
            out.append((f"{p}self_attn.o_proj.bias", [e]))
        for proj, shape in (("gate", [inner, e]), ("up", [inner, e]),
                            ("down", [e, inner])):
            out.append((f"{p}mlp.{proj}_proj.weight", shape))
            if c["mlp_bias"]:
                out.append((f"{p}mlp.{proj}_proj.bias", shape[:1]))
        out += [(f"{p}input_layernorm.weight", [e]),
                (f"{p}post_attention_layernorm.weight", [e])]
    elif kind == "gpt2":
        p = f"h.{i}."
        for name, shape in (("attn.c_attn", [e, 3 * e]),
                            ("attn.c_proj", [e, e]),
                            ("mlp.c_fc", [e, inner]),
                            ("mlp.c_proj", [inner, e])):
            out += [(f"{p}{name}.weight", shape),
                    (f"{p}{name}.bias", shape[1:])]
        for ln in ("ln_1", "ln_2"):
            out += [(f"{p}{ln}.weight", [e]), (f"{p}{ln}.bias", [e])]
    elif kind == "bert":
        p = f"encoder.layer.{i}."
        for name, shape in (("attention.self.query", [e, e]),
                            ("attention.self.key", [e, e]),
                            ("attention.self.value", [e, e]),
                            ("attention.output.dense", [e, e]),
                            ("intermediate.dense", [inner, e]),
                            ("output.dense", [e, inner])):
            out += [(f"{p}{name}.weight", shape),
                    (f"{p}{name}.bias", shape[:1])]
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            out += [(f"{p}{ln}.weight", [e]), (f"{p}{ln}.bias", [e])]
    else:  # whisper decoder layer
        p = f"layers.{i}."
        for attn in ("self_attn", "encoder_attn"):
            for proj in ("q", "k", "v", "out"):
                out.append((f"{p}{attn}.{proj}_proj.weight", [e, e]))
                if proj != "k":
                    out.append((f"{p}{attn}.{proj}_proj.bias", [e]))
        out += [(f"{p}fc1.weight", [inner, e]), (f"{p}fc1.bias", [inner]),
                (f"{p}fc2.weight", [e, inner]), (f"{p}fc2.bias", [e])]
        for ln in ("self_attn_layer_norm", "encoder_attn_layer_norm",
                   "final_layer_norm"):
            out += [(f"{p}{ln}.weight", [e]), (f"{p}{ln}.bias", [e])]
    return out


def global_weights(c):
    """[(name, shape, prefixed)] of the --head mode outside the layers;
    prefixed is False for the LM head (a top-level name)."""
    e, v, kind = c["E"], c["V"], c["kind"]
    if kind in LLAMA_FAMILY:
        out = [("embed_tokens.weight", [v, e], True),
               ("norm.weight", [e], True)]
        if not c["tied"]:
            out.append(("lm_head.weight", [v, e], False))
    elif kind == "gpt2":
        out = [("wte.weight", [v, e], True), ("wpe.weight", [c["P"], e], True),
               ("ln_f.weight", [e], True), ("ln_f.bias", [e], True)]
        if not c["tied"]:
            out.append(("lm_head.weight", [v, e], False))
    elif kind == "bert":
        out = [("embeddings.word_embeddings.weight", [v, e], True),
               ("embeddings.position_embeddings.weight", [c["P"], e], True),
               ("embeddings.token_type_embeddings.weight", [c["T"], e], True),
               ("embeddings.LayerNorm.weight", [e], True),
               ("embeddings.LayerNorm.bias", [e], True)]
    else:
        out = [("embed_tokens.weight", [v, e], True),
               ("embed_positions.weight", [c["P"], e], True),
               ("layer_norm.weight", [e], True),
               ("layer_norm.bias", [e], True)]
        if not c["tied"]:
            out.append(("proj_out.weight", [v, e], False))
    return out


class Weights:
    """Looks weights up by canonical name, with or without the prefix (and
    BERT's legacy LayerNorm.gamma/.beta), checking the shape."""

    def __init__(self, tensors, c):
        self.tensors, self.prefix = tensors, PREFIX[c["kind"]]

    def __call__(self, name, shape, prefixed=True):
        names = [name]
        if name.endswith("LayerNorm.weight"):
            names.append(name[:-len("weight")] + "gamma")
        elif name.endswith("LayerNorm.bias"):
            names.append(name[:-len("bias")] + "beta")
        for candidate in names:
            for full in ([self.prefix + candidate, candidate] if prefixed
                         else [candidate]):
                if full in self.tensors:
                    value = self.tensors[full]
                    if list(value.shape) != list(shape):
                        raise reflib.RefError(
                            f"{full} is {list(value.shape)}, expected {shape}")
                    return value
        raise reflib.RefError(f"weight {self.prefix if prefixed else ''}"
                              f"{name} is not in the weights file")


# ---------------------------------------------------------------------------
# Forward passes
# ---------------------------------------------------------------------------

def _llama_layer(c, i, x, get, opt, _):
    """Pre-norm: RMSNorm, attention with RoPE (GQA, causal, optional
    window), residual; RMSNorm, gated MLP, residual."""
    p, d = f"layers.{i}.", c["D"]

    def proj(t, name):
        return dense(t, get(p + name + ".weight"), opt(p + name + ".bias"))

    n = rms_norm(x, get(p + "input_layernorm.weight"), c["eps"])
    q = heads(proj(n, "self_attn.q_proj"), c["H"])
    k = heads(proj(n, "self_attn.k_proj"), c["Hkv"])
    v = heads(proj(n, "self_attn.v_proj"), c["Hkv"])
    cos, sin = rope_tables(c["rope"], d, x.shape[1])
    o = attend(apply_rope(q, cos, sin), apply_rope(k, cos, sin), v,
               d ** -0.5, True, c["windows"][i])
    h = x + proj(merge(o), "self_attn.o_proj")
    m = rms_norm(h, get(p + "post_attention_layernorm.weight"), c["eps"])
    gated = ACTIVATIONS[c["act"]](proj(m, "mlp.gate_proj")) * \
        proj(m, "mlp.up_proj")
    return h + proj(gated, "mlp.down_proj")


def _gpt2_layer(c, i, x, get, *_):
    """Pre-norm with Conv1D weights [in, out]; c_attn's columns are q|k|v."""
    p, e = f"h.{i}.", c["E"]

    def conv(t, name):
        return t @ get(p + name + ".weight") + get(p + name + ".bias")

    def norm(t, name):
        return layer_norm(t, get(p + name + ".weight"),
                          get(p + name + ".bias"), c["eps"])

    qkv = conv(norm(x, "ln_1"), "attn.c_attn")
    q, k, v = (heads(qkv[..., j * e:(j + 1) * e], c["H"]) for j in range(3))
    scale = c["D"] ** -0.5 if c["scale_attn"] else 1.0
    if c["scale_by_layer"]:
        scale /= i + 1
    a = x + conv(merge(attend(q, k, v, scale, True)), "attn.c_proj")
    up = ACTIVATIONS[c["act"]](conv(norm(a, "ln_2"), "mlp.c_fc"))
    return a + conv(up, "mlp.c_proj")


def _bert_layer(c, i, x, get, *_):
    """Post-norm, bidirectional (no mask)."""
    p = f"encoder.layer.{i}."

    def lin(t, name):
        return dense(t, get(p + name + ".weight"), get(p + name + ".bias"))

    def norm(t, name):
        return layer_norm(t, get(p + name + ".LayerNorm.weight"),
                          get(p + name + ".LayerNorm.bias"), c["eps"])

    q, k, v = (heads(lin(x, "attention.self." + n), c["H"])
               for n in ("query", "key", "value"))
    ctx = merge(attend(q, k, v, c["D"] ** -0.5, False))
    a = norm(x + lin(ctx, "attention.output.dense"), "attention.output")
    up = ACTIVATIONS[c["act"]](lin(a, "intermediate.dense"))
    return norm(a + lin(up, "output.dense"), "output")


def _whisper_layer(c, i, x, get, opt, enc):
    """Pre-norm: causal self-attention, cross-attention to the encoder
    output (no mask), MLP; q is scaled by D^-0.5 before q.k^T."""
    p, d = f"layers.{i}.", c["D"]

    def lin(t, name):
        return dense(t, get(p + name + ".weight"), opt(p + name + ".bias"))

    def norm(t, name):
        return layer_norm(t, get(p + name + ".weight"),
                          get(p + name + ".bias"), c["eps"])

    def attention(kind, t, memory, causal):
        q = heads(lin(t, kind + ".q_proj") * d ** -0.5, c["H"])
        k = heads(lin(memory, kind + ".k_proj"), c["H"])
        v = heads(lin(memory, kind + ".v_proj"), c["H"])
        return lin(merge(attend(q, k, v, 1.0, causal)), kind + ".out_proj")

    n = norm(x, "self_attn_layer_norm")
    x1 = x + attention("self_attn", n, n, True)
    x2 = x1 + attention("encoder_attn", norm(x1, "encoder_attn_layer_norm"),
                        enc, False)
    up = ACTIVATIONS[c["act"]](lin(norm(x2, "final_layer_norm"), "fc1"))
    return x2 + lin(up, "fc2")


LAYERS = {"llama": _llama_layer, "mistral": _llama_layer,
          "qwen2": _llama_layer, "gpt2": _gpt2_layer, "bert": _bert_layer,
          "whisper": _whisper_layer}


def layer_forward(c, i, x, w, enc):
    """Layer i on [B, S, E]; w(name, shape) gives weights; enc is the
    encoder output (whisper)."""
    shapes = dict(layer_weights(c, i))

    def get(name):
        return w(name, shapes[name])

    def opt(name):
        return get(name) if name in shapes else None

    return LAYERS[c["kind"]](c, i, x, get, opt, enc)


def embed(c, ids, gw):
    """The --head input stage: token (and position) embeddings."""
    if ids.size and (ids.min() < 0 or ids.max() >= c["V"]):
        raise reflib.RefError(f"input_ids outside [0, {c['V']})")
    s, kind = ids.shape[1], c["kind"]
    if kind in LLAMA_FAMILY:
        return gw("embed_tokens.weight")[ids]
    if s > c["P"]:
        raise reflib.RefError(f"{s} tokens, {c['P']} positions")
    if kind == "gpt2":
        return gw("wte.weight")[ids] + gw("wpe.weight")[:s]
    if kind == "bert":
        x = (gw("embeddings.word_embeddings.weight")[ids] +
             gw("embeddings.token_type_embeddings.weight")[0] +
             gw("embeddings.position_embeddings.weight")[:s])
        return layer_norm(x, gw("embeddings.LayerNorm.weight"),
                          gw("embeddings.LayerNorm.bias"), c["eps"])
    return gw("embed_tokens.weight")[ids] + gw("embed_positions.weight")[:s]


def lm_head(c, x, gw):
    """The --head output stage: final norm, then logits (tied or not)."""
    kind, tied = c["kind"], c["tied"]
    if kind in LLAMA_FAMILY:
        x = rms_norm(x, gw("norm.weight"), c["eps"])
        table = "embed_tokens.weight" if tied else "lm_head.weight"
    elif kind == "gpt2":
        x = layer_norm(x, gw("ln_f.weight"), gw("ln_f.bias"), c["eps"])
        table = "wte.weight" if tied else "lm_head.weight"
    else:
        x = layer_norm(x, gw("layer_norm.weight"), gw("layer_norm.bias"),
                       c["eps"])
        table = "embed_tokens.weight" if tied else "proj_out.weight"
    return x @ gw(table).T


def forward(c, head, inputs, w):
    """{output name: array} of the model."""
    shapes = {name: (shape, prefixed)
              for name, shape, prefixed in global_weights(c)}

    def gw(name):
        return w(name, *shapes[name])

    x = embed(c, inputs["input_ids"], gw) if head else inputs["hidden_states"]
    for i in range(c["L"]):
        x = layer_forward(c, i, x, w, inputs.get("encoder_hidden_states"))
    if not head or c["kind"] == "bert":
        return {"last_hidden_state": x}
    return {"logits": lm_head(c, x, gw)}


def input_specs(c, head, batch, seq, memory):
    """[(name, shape, integer)] of the mode's inputs."""
    specs = [("input_ids", [batch, seq], True)] if head else \
        [("hidden_states", [batch, seq, c["E"]], False)]
    if c["kind"] == "whisper":
        specs.append(("encoder_hidden_states", [batch, memory, c["E"]], False))
    return specs


def load_inputs(c, head, directory):
    """Reads the mode's inputs, taking the sizes from the files."""
    inputs = {}
    for name, shape, integer in input_specs(c, head, 0, 0, 0):
        value = reflib.load_npy(directory, name, integer=integer)
        if value.ndim != len(shape) or \
                (not integer and value.shape[-1] != c["E"]):
            want = "[B, S]" if integer else f"[B, S, {c['E']}]"
            raise reflib.RefError(f"{name}: shape {list(value.shape)}, "
                                  f"expected {want}")
        inputs[name] = value
    if len({v.shape[0] for v in inputs.values()}) != 1:
        raise reflib.RefError("inputs of different batch sizes")
    return inputs


def random_weights(c, head, seed, prefixed):
    """Random weights of the mode (model_ref.py's distribution)."""
    rng = np.random.default_rng(seed)
    names = [(name, shape, True) for i in range(c["L"])
             for name, shape in layer_weights(c, i)]
    if head:
        names = global_weights(c) + names
    out = {}
    for name, shape, in_body in names:
        full = (PREFIX[c["kind"]] if in_body and prefixed else "") + name
        if len(shape) == 1:
            out[full] = rng.uniform(0.5, 1.5, size=shape)
        else:
            s = 1.0 / math.sqrt(shape[-1])
            out[full] = rng.uniform(-s, s, size=shape)
    return out


def main(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="config.json")
    parser.add_argument("--head", action="store_true")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--inputs")
    parser.add_argument("--weights")
    parser.add_argument("--outputs")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--write-ref")
    parser.add_argument("--write-weights")
    parser.add_argument("--no-prefix", action="store_true")
    parser.add_argument("--write-inputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq", type=int, default=8)
    parser.add_argument("--memory", type=int, default=6)
    opts = parser.parse_args(argv)
    try:
        try:
            cfg = json.load(open(opts.config))
        except (OSError, ValueError) as e:
            raise reflib.RefError(f"{opts.config}: {e}") from None
        c = parse_config(cfg, opts.layers)
        if opts.write_weights:
            reflib.write_safetensors(opts.write_weights, random_weights(
                c, opts.head, opts.seed, not opts.no_prefix))
            return 0
        if opts.write_inputs:
            rng = np.random.default_rng(opts.seed)
            reflib.save_npy_dir(opts.write_inputs, {
                name: rng.integers(0, c["V"], size=shape) if integer
                else rng.uniform(-1.0, 1.0, size=shape)
                for name, shape, integer in input_specs(
                    c, opts.head, opts.batch, opts.seq, opts.memory)})
            return 0
        if not (opts.inputs and opts.weights and
                (opts.outputs or opts.write_ref)):
            parser.error("need --inputs, --weights and --outputs or "
                         "--write-ref (or --write-weights / --write-inputs)")
        weights = Weights(reflib.read_safetensors(opts.weights), c)
        refs = forward(c, opts.head, load_inputs(c, opts.head, opts.inputs),
                       weights)
    except reflib.RefError as e:
        print(f"hf_ref.py: error: {e}", file=sys.stderr)
        return 2
    if opts.write_ref:
        reflib.save_npy_dir(opts.write_ref, refs, np.float64)
    if opts.outputs:
        return 0 if reflib.compare(refs, opts.outputs, opts.rtol) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
