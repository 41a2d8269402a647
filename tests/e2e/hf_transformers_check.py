#!/usr/bin/env python3
"""Runs the real `transformers` model on a config and weights (test code only).

    hf_transformers_check.py CONFIG.json [--head] [--layers N] --inputs DIR
        --weights FILE.safetensors [--outputs DIR] [--rtol 1e-4]
        [--write-ref DIR] [--next CONFIG.json ...]

The same interface as hf_ref.py (inputs, outputs, report), computed by the
Hugging Face implementation instead: the model class is built from the
config (transformers.AutoConfig.for_model; float32, eval mode,
attn_implementation="eager", no cache), the weights are loaded with the
`safetensors` package (names with or without the checkpoint prefix, BERT's
legacy LayerNorm gamma/beta accepted; any unexpected name, and any missing
one the mode uses, is an error), and the outputs are compared with
--outputs DIR (typically hf_ref.py's --write-ref, which validates hf_ref.py,
or a compiled program's output).

Without --head the input is `hidden_states` [B, S, E] and the output
`last_hidden_state` is the hidden states after the last layer. The most
faithful way to get that from the stock classes is to run the whole base
model with `inputs_embeds` and neutralize only what lies outside the layers,
so that masks, positions and RoPE are built by transformers itself:
the final norm (llama family `norm`, GPT-2 `ln_f`, Whisper `layer_norm`)
becomes an identity, the learned position tables added to `inputs_embeds`
(GPT-2 `wpe`, Whisper `embed_positions`) are zeroed, and BERT's embedding
module (word + token_type + position + LayerNorm) is replaced by a module
that returns `inputs_embeds` unchanged. Whisper gets
`encoder_hidden_states` [B, M, E] (cross-attention, no mask).
With --head: `input_ids` -> `logits` (llama family, GPT-2: *ForCausalLM;
Whisper: WhisperForCausalLM with encoder_outputs), BERT: BertModel ->
`last_hidden_state`.

`--next` starts another case in the same process (each case prints its
lines; the exit status is the worst case's). Prints
`UNSUPPORTED: transformers not installed` and exits 0 when torch,
transformers or safetensors cannot be imported.
"""
import argparse
import json
import os
import sys

try:
    import numpy  # noqa: F401  (reflib needs it)
    import safetensors.torch
    import torch
    import transformers
except ImportError:
    print("UNSUPPORTED: transformers not installed")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reflib  # noqa: E402  (shared npy I/O and comparison)

# Checkpoint prefix of the model body, and the config key of the layer count.
PREFIX = {"llama": "model.", "mistral": "model.", "qwen2": "model.",
          "gpt2": "transformer.", "bert": "bert.", "whisper": "model.decoder."}
LAYERS_KEY = {"gpt2": "n_layer", "whisper": "decoder_layers"}
# Substrings of parameter names that belong to a layer (always needed).
LAYER_PARTS = (".layers.", ".h.", "encoder.layer.")


class PassThroughEmbeddings(torch.nn.Module):
    """Stands in for BertEmbeddings: returns inputs_embeds unchanged."""

    def forward(self, inputs_embeds=None, **_):
        return inputs_embeds


def build_model(cfg, layers):
    """The transformers model for the config (float32, eager, eval)."""
    cfg = dict(cfg)
    kind = cfg.pop("model_type")
    if layers is not None:
        cfg[LAYERS_KEY.get(kind, "num_hidden_layers")] = layers
    config = transformers.AutoConfig.for_model(kind, **cfg)
    config.use_cache = False
    # AutoModelForCausalLM maps whisper to WhisperForCausalLM (the decoder).
    auto = transformers.AutoModel if kind == "bert" else \
        transformers.AutoModelForCausalLM
    model = auto.from_config(config, attn_implementation="eager",
                             dtype=torch.float32)
    if model.config._attn_implementation != "eager":
        raise reflib.RefError("transformers did not select eager attention")
    return kind, model.eval()


def load_weights(kind, model, path, head):
    """Loads the file into the model; checks names against the mode."""
    prefix = PREFIX[kind]
    wanted = set(model.state_dict())
    mapped = {}
    for name, value in safetensors.torch.load_file(path).items():
        legacy = name.replace("LayerNorm.gamma", "LayerNorm.weight") \
                     .replace("LayerNorm.beta", "LayerNorm.bias")
        for candidate in (legacy, prefix + legacy,
                          legacy[len(prefix):] if legacy.startswith(prefix)
                          else None):
            if candidate in wanted:
                mapped[candidate] = value.to(torch.float32)
                break
        else:
            raise reflib.RefError(f"unexpected weight {name!r}")
    missing = model.load_state_dict(mapped, strict=False).missing_keys
    tied = {"lm_head.weight", "proj_out.weight"} \
        if model.config.tie_word_embeddings else set()
    for name in missing:
        in_layer = any(part in "." + name for part in LAYER_PARTS)
        if (in_layer or head) and name not in tied and \
                not name.startswith("pooler."):
            raise reflib.RefError(f"weight {name!r} missing from {path}")


def run(kind, model, head, inputs):
    """{output name: float64 array}."""
    enc = inputs.get("encoder_hidden_states")
    enc = None if enc is None else torch.from_numpy(enc).float()
    with torch.no_grad():
        if head:
            ids = torch.from_numpy(inputs["input_ids"]).long()
            if kind == "bert":
                return {"last_hidden_state":
                        model(input_ids=ids).last_hidden_state}
            if kind == "whisper":
                return {"logits": model(input_ids=ids,
                                        encoder_outputs=(enc,)).logits}
            return {"logits": model(input_ids=ids).logits}
        x = torch.from_numpy(inputs["hidden_states"]).float()
        if kind == "bert":
            model.embeddings = PassThroughEmbeddings()
            body = model
        elif kind == "gpt2":
            body = model.transformer
            body.wpe.weight.zero_()
            body.ln_f = torch.nn.Identity()
        elif kind == "whisper":
            body = model.model.decoder
            body.embed_positions.weight.zero_()
            body.layer_norm = torch.nn.Identity()
        else:
            body = model.model
            body.norm = torch.nn.Identity()
        extra = {"encoder_hidden_states": enc} if kind == "whisper" else {}
        return {"last_hidden_state":
                body(inputs_embeds=x, **extra).last_hidden_state}


def check(parser, argv):
    """One case; returns the exit status (0 pass, 1 fail, 2 error)."""
    opts = parser.parse_args(argv)
    if not (opts.outputs or opts.write_ref):
        parser.error("need --outputs or --write-ref")
    try:
        kind, model = build_model(json.load(open(opts.config)), opts.layers)
        load_weights(kind, model, opts.weights, opts.head)
        names = ["input_ids" if opts.head else "hidden_states"] + \
            (["encoder_hidden_states"] if kind == "whisper" else [])
        inputs = {name: reflib.load_npy(opts.inputs, name,
                                        integer=name == "input_ids")
                  for name in names}
        results = {name: value.double().numpy()
                   for name, value in run(kind, model, opts.head,
                                          inputs).items()}
    except reflib.RefError as e:
        print(f"hf_transformers_check.py: error: {e}", file=sys.stderr)
        return 2
    if opts.write_ref:
        reflib.save_npy_dir(opts.write_ref, results, numpy.float64)
    if opts.outputs:
        return 0 if reflib.compare(results, opts.outputs, opts.rtol) else 1
    return 0


def main(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--head", action="store_true")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--outputs")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--write-ref")
    torch.set_num_threads(1)
    # Several cases separated by --next share one process (torch and
    # transformers take seconds to import).
    cases, status = [[]], 0
    for arg in argv:
        if arg == "--next":
            cases.append([])
        else:
            cases[-1].append(arg)
    for case in cases:
        status = max(status, check(parser, case))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
