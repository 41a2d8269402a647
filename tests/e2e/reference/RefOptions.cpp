//===- RefOptions.cpp - attn-ref's command line ---------------------------===//
#include "RefOptions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace attnref {
namespace {

constexpr int kExitUsage = 2;

const char *const kUsage =
    "usage: attn-ref --q Q.npy --k K.npy --v V.npy --out O.npy\n"
    "                [--mask none|causal] [--window L,R] [--global P0,P1,...]\n"
    "                [--kv-lengths L.npy] [--q-lengths L.npy]\n"
    "                [--kv-segments S.npy] [--q-segments S.npy]\n"
    "                [--scale S] [--atol T] [--write-ref R.npy]\n"
    "                [--bias B.npy] [--alibi S0,S1,...|standard]\n"
    "                [--softcap C] [--cosine] [--lse L.npy] [--lse-atol T]\n"
    "                [--probs P.npy [--probs-heads H0,H1,...]] [--probs-atol "
    "T]\n"
    "Compares O with attention over Q, K, V computed in double precision,\n"
    "with the mask rule of attn.sdpa (dialect/README.md): --window keeps\n"
    "keys within L before and R after a query's position, --global lists\n"
    "global positions,\n"
    "lengths are int32 [B], segment ids int32 [B, S] (--q-segments defaults\n"
    "to --kv-segments). --scale defaults to 1/sqrt(D), --atol to 1e-4;\n"
    "--write-ref also writes the reference as float32. Score modifiers:\n"
    "--bias adds an f32 [B|1, Hq|1, Sq, Skv] tensor, --alibi adds\n"
    "slope[h] * (j - pos(i)) (standard: the ALiBi paper's slopes), --softcap\n"
    "maps s to C*tanh(s/C), --cosine divides q.k by both norms. --lse also\n"
    "checks the row log-sum-exp, --probs the attention weights of the\n"
    "listed heads (default: the average over heads). Exit status: 0 pass,\n"
    "1 fail, 2 error.\n";

[[noreturn]] void usageError(const std::string &message) {
  fmt::print(stderr, "attn-ref: error: {}\n{}", message, kUsage);
  exit(kExitUsage);
}

double parseNumber(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  double value = strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value))
    fatal(fmt::format("invalid {} value '{}' (expected a number)", flag, text));
  return value;
}

/// "3,0,17": non-negative integers separated by commas.
std::vector<int64_t> parseList(const std::string &flag,
                               const std::string &text) {
  std::vector<int64_t> values;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma - start);
    char *end = nullptr;
    const long long value = strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 0 || item[0] == '+')
      fatal(fmt::format("invalid {} value '{}' (expected non-negative "
                        "integers separated by commas)",
                        flag, text));
    values.push_back(value);
    if (comma == std::string::npos)
      return values;
    start = comma + 1;
  }
}

} // namespace

[[noreturn]] void fatal(const std::string &message) {
  fmt::print(stderr, "attn-ref: error: {}\n", message);
  exit(kExitUsage);
}

Options parseOptions(int argc, char **argv) {
  // The options that name a file.
  const std::pair<const char *, std::string Options::*> paths[] = {
      {"--q", &Options::q},
      {"--k", &Options::k},
      {"--v", &Options::v},
      {"--out", &Options::out},
      {"--write-ref", &Options::writeRef},
      {"--kv-lengths", &Options::kvLengths},
      {"--q-lengths", &Options::qLengths},
      {"--kv-segments", &Options::kvSegments},
      {"--q-segments", &Options::qSegments},
      {"--bias", &Options::bias},
      {"--probs", &Options::probs},
      {"--lse", &Options::lse}};
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    if (flag == "--help" || flag == "-h") {
      fmt::print("{}", kUsage);
      exit(0);
    }
    if (flag == "--cosine") {
      opts.cosine = true;
      continue;
    }
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usageError(fmt::format("option '{}' needs a value", flag));
    }
    auto path = std::find_if(std::begin(paths), std::end(paths),
                             [&](const auto &p) { return flag == p.first; });
    if (path != std::end(paths))
      opts.*path->second = value;
    else if (flag == "--mask" && (value == "none" || value == "causal"))
      opts.causal = value == "causal";
    else if (flag == "--mask")
      fatal(fmt::format("invalid --mask value '{}' (expected none or causal)",
                        value));
    else if (flag == "--window") {
      const std::vector<int64_t> sides = parseList(flag, value);
      if (sides.size() != 2)
        fatal(fmt::format("invalid --window value '{}' (expected L,R)", value));
      opts.hasWindow = true;
      opts.left = sides[0];
      opts.right = sides[1];
    } else if (flag == "--global") {
      opts.global = parseList(flag, value);
    } else if (flag == "--scale") {
      opts.scale = parseNumber(flag, value);
      opts.hasScale = true;
    } else if (flag == "--probs-atol") {
      opts.probsAtol = parseNumber(flag, value);
    } else if (flag == "--probs-heads") {
      opts.probsHeads = parseList(flag, value);
    } else if (flag == "--lse-atol") {
      opts.lseAtol = parseNumber(flag, value);
    } else if (flag == "--alibi" && value == "standard") {
      opts.alibiStandard = true;
    } else if (flag == "--alibi") {
      size_t start = 0;
      while (true) {
        const size_t comma = value.find(',', start);
        opts.alibi.push_back(
            parseNumber(flag, value.substr(start, comma - start)));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
    } else if (flag == "--softcap") {
      opts.softcap = parseNumber(flag, value);
      if (opts.softcap <= 0)
        fatal("--softcap must be > 0");
    } else if (flag == "--atol") {
      opts.atol = parseNumber(flag, value);
      if (opts.atol < 0)
        fatal("--atol must not be negative");
    } else {
      usageError(fmt::format("unknown option '{}'", flag));
    }
  }
  if (opts.q.empty() || opts.k.empty() || opts.v.empty() || opts.out.empty())
    usageError("--q, --k, --v and --out are required");
  if (opts.causal && opts.hasWindow && opts.right != 0)
    fatal("with --mask causal the window's right side must be 0");
  return opts;
}

} // namespace attnref
