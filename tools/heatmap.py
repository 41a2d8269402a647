#!/usr/bin/env python3
"""Renders an attention map written by a compiled model as a PNG heat map.

    tools/heatmap.py probs.npy -o map.png [--batch B] [--slot N]
                     [--head H] [--layer L] [--title TEXT] [--gamma G]
                     [--vmax P] [--rows I0:I1] [--keys J0:J1]

probs.npy is the output of an `attention_probs` op, float32
[batch, heads, query, key] (a .npy the generated program wrote with
--output). The picture shows one (batch, slot) slice: query positions down,
key positions across, a colour bar of the probability, and a title naming
the head (--head, the query head that slot maps; "average over heads" when
the file has one slot and --head is not given) and the layer (--layer).
--gamma < 1 brightens small weights (a power-law colour scale; default 1,
linear); --vmax caps the colour scale (default: the largest weight shown;
the first rows of a causal map, which see one key with weight 1, would
otherwise leave the rest dark). --rows and --keys crop the picture to
half-open ranges.

Needs numpy and matplotlib (Debian: python3-matplotlib). Exit status 0, or
2 with one `heatmap: error: ...` line for a bad file or option.
"""
import argparse
import sys


def fail(message):
    print(f"heatmap: error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_range(text, size, what):
    """'a:b' (either side may be empty) as a slice inside [0, size)."""
    try:
        first, last = text.split(":")
        first = int(first) if first else 0
        last = int(last) if last else size
    except ValueError:
        fail(f"--{what} expects FIRST:LAST (e.g. 0:128), got '{text}'")
    if not 0 <= first < last <= size:
        fail(f"--{what} {text} is not a non-empty range inside [0, {size})")
    return first, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probs", help="attention map .npy [B, heads, Sq, Skv]")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--batch", type=int, default=0,
                        help="batch entry (default 0)")
    parser.add_argument("--slot", type=int, default=0,
                        help="which of the file's heads (default 0)")
    parser.add_argument("--head", type=int,
                        help="the query head that slot is, for the title")
    parser.add_argument("--layer", help="the layer, for the title")
    parser.add_argument("--title", help="replaces the generated title")
    parser.add_argument("--gamma", type=float, default=1.0,
                        help="power-law colour scale exponent (default 1)")
    parser.add_argument("--vmax", type=float,
                        help="the top of the colour scale (default: the "
                             "largest weight)")
    parser.add_argument("--rows", help="query rows FIRST:LAST")
    parser.add_argument("--keys", help="keys FIRST:LAST")
    args = parser.parse_args()

    try:
        import numpy as np
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import PowerNorm
    except ImportError as error:
        fail(f"{error.name} is missing (Debian: apt-get install "
             "python3-matplotlib)")

    try:
        probs = np.load(args.probs)
    except (OSError, ValueError) as error:
        fail(f"cannot read {args.probs}: {error}")
    if probs.ndim != 4 or probs.dtype != np.float32:
        fail(f"{args.probs} is {probs.dtype} of shape {list(probs.shape)}; "
             "expected float32 [batch, heads, query, key] (an attention_probs "
             "output)")
    batches, slots, rows, keys = probs.shape
    if not 0 <= args.batch < batches:
        fail(f"--batch {args.batch} is outside [0, {batches})")
    if not 0 <= args.slot < slots:
        fail(f"--slot {args.slot} is outside [0, {slots}) (the file has "
             f"{slots} head{'s' if slots != 1 else ''})")
    if not args.gamma > 0:
        fail(f"--gamma must be > 0, got {args.gamma}")
    if args.vmax is not None and not args.vmax > 0:
        fail(f"--vmax must be > 0, got {args.vmax}")
    r0, r1 = parse_range(args.rows, rows, "rows") if args.rows else (0, rows)
    k0, k1 = parse_range(args.keys, keys, "keys") if args.keys else (0, keys)
    data = probs[args.batch, args.slot, r0:r1, k0:k1]
    if not np.all(np.isfinite(data)):
        fail(f"{args.probs} holds non-finite values in the slice shown")

    if args.title:
        title = args.title
    else:
        who = (f"head {args.head}" if args.head is not None else
               "average over heads" if slots == 1 else f"slot {args.slot}")
        title = f"attention weights, {who}"
        if args.layer:
            title += f", layer {args.layer}"
        if batches > 1:
            title += f", batch {args.batch}"
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=100)
    top = args.vmax if args.vmax else max(float(data.max()), 1e-12)
    image = ax.imshow(data, cmap="viridis", interpolation="nearest",
                      aspect="auto", origin="upper",
                      extent=(k0 - 0.5, k1 - 0.5, r1 - 0.5, r0 - 0.5),
                      norm=PowerNorm(gamma=args.gamma, vmin=0, vmax=top))
    ax.set_xlabel("key position j")
    ax.set_ylabel("query position i")
    ax.set_title(title)
    bar = fig.colorbar(image, ax=ax, extend="max" if top < data.max() else
                       "neither")
    bar.set_label("probability" + (f" (colour gamma {args.gamma:g})"
                                   if args.gamma != 1 else ""))
    fig.tight_layout()
    try:
        fig.savefig(args.output, format="png")
    except OSError as error:
        fail(f"cannot write {args.output}: {error}")
    print(f"wrote {args.output}: {title}, rows {r0}-{r1 - 1}, keys "
          f"{k0}-{k1 - 1}, max {top:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
