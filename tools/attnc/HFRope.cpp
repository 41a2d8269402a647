//===- HFRope.cpp - the RoPE fields of a Hugging Face config --------------===//
//
// rope_theta and rope_scaling (the legacy keys) or rope_parameters
// (transformers v5, which holds rope_theta too). The scaling type is
// `rope_type` or the legacy `type`: default, linear (factor) or llama3
// (factor, low_freq_factor, high_freq_factor,
// original_max_position_embeddings, all required). Any other type, a key
// the type does not use, or a partial_rotary_factor other than 1 is an
// error: each would change the rotation.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/HFConfig.h"
#include "tools/attnc/HFModel.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::attn::hf {

using llvm::failed;
using llvm::failure;
using llvm::FailureOr;
using llvm::LogicalResult;
using llvm::StringRef;
using llvm::success;

LogicalResult readRope(HFConfig &c, Rope &rope) {
  bool v5 = c.has("rope_parameters") && !c.isNull("rope_parameters");
  std::string base = v5 ? "rope_parameters" : "rope_scaling";
  for (std::string key : {std::string("partial_rotary_factor"),
                          base + ".partial_rotary_factor"}) {
    auto partial = c.optNumber(key);
    if (failed(partial))
      return failure();
    if (*partial && **partial != 1.0)
      return c.error(key, "unsupported " + key + " " + c.spelling(key) +
                              ": rotary embedding on a part of each head is "
                              "not implemented (only 1)");
  }
  // The rope op takes bases above 1 (theta^(-2j/D) must decrease).
  auto badTheta = [&](const std::string &key) {
    return c.error(key, key + " must be greater than 1, got " +
                            c.spelling(key));
  };
  auto theta = c.optNumber("rope_theta");
  if (failed(theta))
    return failure();
  rope.theta = theta->value_or(10000);
  if (*theta && !(rope.theta > 1))
    return badTheta("rope_theta");
  if (!c.has(base) || c.isNull(base)) {
    c.log("rope_theta", formatNumber(rope.theta), *theta ? "" : "default");
    c.log(base, "none", "no scaling");
    return success();
  }
  if (!c.get(base)->getAsObject())
    return c.error(base, "expected an object or null for '" + base +
                             "', got " + c.spelling(base));
  if (v5) {
    if (c.has("rope_scaling") && !c.isNull("rope_scaling"))
      return c.error("rope_scaling", "both 'rope_scaling' and "
                                     "'rope_parameters' are given; keep one");
    std::string key = base + ".rope_theta";
    auto inner = c.optNumber(key);
    if (failed(inner))
      return failure();
    if (*inner && *theta && **inner != **theta)
      return c.error(key, key + " (" + c.spelling(key) +
                              ") contradicts rope_theta (" +
                              c.spelling("rope_theta") + ")");
    rope.theta = inner->value_or(rope.theta);
    if (*inner && !(rope.theta > 1))
      return badTheta(key);
    c.log(*inner ? key : "rope_theta", formatNumber(rope.theta),
          *inner || *theta ? "" : "default");
  } else {
    c.log("rope_theta", formatNumber(rope.theta), *theta ? "" : "default");
  }

  auto ropeType = c.optString(base + ".rope_type");
  auto legacyType = succeeded(ropeType) ? c.optString(base + ".type")
                                        : FailureOr<std::optional<std::string>>(
                                              failure());
  if (failed(legacyType))
    return failure();
  if (*ropeType && *legacyType && **ropeType != **legacyType)
    return c.error(base + ".type", "'type' (\"" + **legacyType +
                                       "\") contradicts 'rope_type' (\"" +
                                       **ropeType + "\") in '" + base + "'");
  std::string typeKey = base + (*ropeType ? ".rope_type" : ".type");
  if (!*ropeType && !*legacyType)
    return c.error(base, "missing 'rope_type' in '" + base + "'");
  std::string type = ropeType->value_or(legacyType->value_or(""));
  c.log(typeKey, type);

  std::vector<StringRef> params;
  if (type == "linear")
    params = {"factor"};
  else if (type == "llama3")
    params = {"factor", "low_freq_factor", "high_freq_factor",
              "original_max_position_embeddings"};
  else if (type != "default")
    return c.error(typeKey, "unsupported rope scaling '" + type + "' (" +
                                typeKey + "); supported: default, linear, "
                                          "llama3");
  std::string expected = llvm::join(params, ", ");
  for (const std::string &key : c.keys(base)) {
    bool known = llvm::is_contained(params, key) || key == "rope_type" ||
                 key == "type" ||
                 (v5 && (key == "rope_theta" || key == "partial_rotary_factor"));
    if (!known)
      return c.error(base + "." + key,
                     "unexpected key '" + key + "' in '" + base +
                         "' for rope_type '" + type + "' (expected: " +
                         (expected.empty() ? "none" : expected) + ")");
  }
  for (StringRef param : params)
    if (!c.has(base + "." + param.str()))
      return c.error(base, "missing '" + param + "' in '" + base +
                               "' (rope_type '" + type + "' needs " +
                               expected + ")");
  if (params.empty())
    return success();
  rope.scaling = type;
  auto factor = c.number(base + ".factor", 1);
  if (failed(factor))
    return failure();
  rope.factor = *factor;
  if (type == "linear")
    return success();
  auto low = c.number(base + ".low_freq_factor", 1);
  auto high = succeeded(low) ? c.number(base + ".high_freq_factor", 4)
                             : FailureOr<double>(failure());
  auto original =
      succeeded(high)
          ? c.integer(base + ".original_max_position_embeddings", 8192)
          : FailureOr<int64_t>(failure());
  if (failed(original))
    return failure();
  if (!(*high > *low))
    return c.error(base + ".high_freq_factor",
                   "expected high_freq_factor (" + formatNumber(*high) +
                       ") to be greater than low_freq_factor (" +
                       formatNumber(*low) + ")");
  rope.lowFreqFactor = *low;
  rope.highFreqFactor = *high;
  rope.originalMaxPositions = *original;
  return success();
}

} // namespace mlir::attn::hf
