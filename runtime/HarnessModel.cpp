//===- HarnessModel.cpp - the model table and inputs of the harness -------===//
//
// The half of the generic harness main that knows the model: reading and
// checking the typed table (AttnModel.h), allocating, loading, filling and
// validating input tensors by their dtype and content kind, and making,
// loading and saving weights.
//
//===----------------------------------------------------------------------===//
#include "runtime/HarnessModel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace attn::harness {

std::string shapeString(const int64_t *shape, size_t rank) {
  return fmt::format("[{}]", fmt::join(shape, shape + rank, ", "));
}

std::string shapeString(const TensorSpec &spec) {
  return shapeString(spec.shape.data(), spec.shape.size());
}

std::string typeString(const TensorSpec &spec) {
  return attnrt_dtype_name(spec.dtype) + shapeString(spec);
}

const char *roleName(int32_t role) {
  return role == ATTN_ROLE_INPUT    ? "input"
         : role == ATTN_ROLE_WEIGHT ? "weight"
                                    : "output";
}

std::string contentString(const TensorSpec &spec) {
  if (spec.role != ATTN_ROLE_INPUT)
    return "";
  switch (spec.content) {
  case ATTN_CONTENT_LENGTHS:
    return fmt::format("lengths <= {}", spec.bound);
  case ATTN_CONTENT_SEGMENTS:
    return "segments";
  case ATTN_CONTENT_TOKENS:
    return fmt::format("token ids < {}", spec.bound);
  default:
    return "data";
  }
}

/// The row-major multi-index of flat element `flat`, e.g. "[0, 17]".
static std::string indexString(const std::vector<int64_t> &shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shapeString(index.data(), index.size());
}

//===----------------------------------------------------------------------===//
// The model table
//===----------------------------------------------------------------------===//

bool readModel(const attn_model_info &info, Model &model, std::string &error) {
  if (info.abi_version != ATTN_ABI_VERSION) {
    error = fmt::format("unsupported model ABI version {} (this harness "
                        "reads version {})",
                        info.abi_version, ATTN_ABI_VERSION);
    return false;
  }
  if (!info.name || !info.run || (info.num_tensors && !info.tensors)) {
    error = "the table lacks the model's name, run function or tensors";
    return false;
  }
  model.name = info.name;
  model.flops = info.flops;
  model.run = info.run;
  for (uint32_t i = 0; i < info.num_tensors; ++i) {
    const attn_tensor_info &t = info.tensors[i];
    const std::string name = t.name ? t.name : "";
    auto bad = [&](const std::string &what) {
      error = fmt::format("tensor {} '{}': {}", i, name, what);
      return false;
    };
    if (name.empty())
      return bad("no name");
    for (const TensorSpec &other : model.tensors)
      if (other.name == name)
        return bad("duplicate name");
    bool half = t.dtype == ATTN_DTYPE_F16 || t.dtype == ATTN_DTYPE_BF16;
    if (t.dtype != ATTN_DTYPE_F32 && t.dtype != ATTN_DTYPE_I32 && !half &&
        !(t.dtype == ATTN_DTYPE_I64 && t.content == ATTN_CONTENT_TOKENS))
      return bad(fmt::format("unsupported dtype {} ({})",
                             attnrt_dtype_name(t.dtype), t.dtype));
    if (t.role != ATTN_ROLE_INPUT && t.role != ATTN_ROLE_WEIGHT &&
        t.role != ATTN_ROLE_OUTPUT)
      return bad(fmt::format("unsupported role {}", t.role));
    if (t.rank < 0 || t.rank > ATTNRT_MAX_RANK || (t.rank && !t.shape))
      return bad(fmt::format("invalid rank {}", t.rank));
    TensorSpec spec{name,    t.dtype,
                    t.role,  t.content,
                    t.bound, std::vector<int64_t>(t.shape, t.shape + t.rank)};
    for (int64_t dim : spec.shape)
      if (dim < 0)
        return bad(fmt::format("negative dimension in {}", shapeString(spec)));
    switch (t.content) {
    case ATTN_CONTENT_DATA:
      break;
    case ATTN_CONTENT_LENGTHS:
      if (t.role != ATTN_ROLE_INPUT || t.dtype != ATTN_DTYPE_I32 ||
          t.bound < 0 || t.bound > std::numeric_limits<int32_t>::max())
        return bad(fmt::format("lengths must be an i32 input with a bound in "
                               "[0, 2^31), not {} {} with bound {}",
                               roleName(t.role), typeString(spec), t.bound));
      break;
    case ATTN_CONTENT_SEGMENTS:
      if (t.role != ATTN_ROLE_INPUT || t.dtype != ATTN_DTYPE_I32 || !t.rank)
        return bad(fmt::format("segment ids must be an i32 input of rank >= "
                               "1, not {} {}",
                               roleName(t.role), typeString(spec)));
      break;
    case ATTN_CONTENT_TOKENS:
      if (t.role != ATTN_ROLE_INPUT ||
          (t.dtype != ATTN_DTYPE_I32 && t.dtype != ATTN_DTYPE_I64) ||
          t.bound < 1 || t.bound > std::numeric_limits<int32_t>::max())
        return bad(fmt::format("token ids must be an i32 or i64 input with a "
                               "bound "
                               "in [1, 2^31), not {} {} with bound {}",
                               roleName(t.role), typeString(spec), t.bound));
      break;
    default:
      return bad(fmt::format("unsupported content kind {}", t.content));
    }
    if (t.role == ATTN_ROLE_WEIGHT && t.dtype != ATTN_DTYPE_F32)
      return bad(fmt::format("weights must be f32, not {}",
                             attnrt_dtype_name(t.dtype)));
    (t.role == ATTN_ROLE_INPUT    ? model.inputs
     : t.role == ATTN_ROLE_WEIGHT ? model.weights
                                  : model.outputs)
        .push_back(model.tensors.size());
    model.tensors.push_back(std::move(spec));
  }
  if (model.outputs.empty()) {
    error = "the model has no outputs";
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

bool allocate(const TensorSpec &spec, attnrt_tensor &t) {
  if (attnrt_tensor_alloc(&t, spec.dtype, int64_t(spec.shape.size()),
                          spec.shape.data()) == ATTNRT_OK)
    return true;
  fmt::print(stderr, "error: cannot allocate {} '{}' of type {}\n",
             roleName(spec.role), spec.name, typeString(spec));
  return false;
}

bool loadInput(const TensorSpec &spec, const std::string &path,
               attnrt_tensor &t) {
  char err[512];
  if (attnrt_npy_load(path.c_str(), &t, err, sizeof(err)) != ATTNRT_OK) {
    fmt::print(stderr, "error: input '{}': {}\n", spec.name, err);
    return false;
  }
  std::string problem;
  if (t.dtype != spec.dtype)
    problem =
        fmt::format("has dtype {} but the model expects {}",
                    attnrt_dtype_name(t.dtype), attnrt_dtype_name(spec.dtype));
  else if (!std::equal(spec.shape.begin(), spec.shape.end(), t.shape,
                       t.shape + t.rank))
    problem =
        fmt::format("has shape {} but the model expects {}",
                    shapeString(t.shape, size_t(t.rank)), shapeString(spec));
  if (problem.empty())
    return true;
  fmt::print(stderr, "error: input '{}': {} {}\n", spec.name, path, problem);
  attnrt_tensor_free(&t);
  return false;
}

/// A uniform integer in [0, n) from a draw `u` in [-1, 1) of
/// attnrt_fill_random.
static int64_t pick(float u, int64_t n) {
  const int64_t k = int64_t((double(u) + 1.0) * 0.5 * double(n));
  return std::min(k, n - 1);
}

/// Fills every row of the last dimension of `t` (i32, rank >= 1) with
/// segment ids 0, 1, ...: kMinSegments to kMaxSegments non-empty segments
/// (fewer when the row is shorter), count and boundaries drawn from the
/// generator seeded by `seed`.
static void fillSegments(attnrt_tensor &t, uint64_t seed) {
  const int64_t len = t.shape[t.rank - 1];
  const int64_t numel = attnrt_tensor_numel(&t);
  if (numel == 0)
    return;
  const int64_t rows = numel / len;
  // Per row: one draw for the count, one per boundary.
  constexpr int64_t kDraws = kMaxSegments;
  std::vector<float> draws(size_t(rows * kDraws));
  attnrt_fill_random(draws.data(), rows * kDraws, seed);
  int32_t *data = static_cast<int32_t *>(t.data);
  std::vector<int64_t> cuts;
  for (int64_t r = 0; r < rows; ++r) {
    const float *u = &draws[size_t(r * kDraws)];
    const int64_t count = std::min(
        len, kMinSegments + pick(u[0], kMaxSegments - kMinSegments + 1));
    // Floyd's sampling of count - 1 distinct boundaries in [1, len - 1]: a
    // segment starts at each.
    cuts.clear();
    for (int64_t j = len - count + 1, d = 1; j < len; ++j, ++d) {
      const int64_t cut = 1 + pick(u[d], j);
      cuts.push_back(
          std::find(cuts.begin(), cuts.end(), cut) == cuts.end() ? cut : j);
    }
    std::sort(cuts.begin(), cuts.end());
    int32_t *row = data + r * len;
    int32_t id = 0;
    for (int64_t p = 0, next = 0; p < len; ++p) {
      if (next < int64_t(cuts.size()) && cuts[size_t(next)] == p) {
        ++id;
        ++next;
      }
      row[p] = id;
    }
  }
}

std::string fillRandom(const TensorSpec &spec, attnrt_tensor &t, uint64_t seed,
                       uint64_t userSeed) {
  const int64_t numel = attnrt_tensor_numel(&t);
  switch (spec.content) {
  case ATTN_CONTENT_LENGTHS:
    std::fill_n(static_cast<int32_t *>(t.data), numel, int32_t(spec.bound));
    return "random (full lengths)";
  case ATTN_CONTENT_SEGMENTS:
    fillSegments(t, seed);
    return fmt::format("random (seed {}, {}-{} segments per row)", userSeed,
                       kMinSegments, kMaxSegments);
  case ATTN_CONTENT_TOKENS:
    attnrt_fill_random_ids(t.data, spec.dtype, numel, spec.bound, seed);
    return fmt::format("random (seed {}, ids below {})", userSeed, spec.bound);
  default:
    if (spec.dtype == ATTN_DTYPE_F32) {
      attnrt_fill_random(static_cast<float *>(t.data), numel, seed);
    } else if (spec.dtype == ATTN_DTYPE_F16 ||
               spec.dtype == ATTN_DTYPE_BF16) {
      // The f32 values of the same seed, rounded to the half type.
      std::vector<float> values(static_cast<size_t>(numel));
      attnrt_fill_random(values.data(), numel, seed);
      attnrt_from_f32(t.data, spec.dtype, values.data(), numel);
    } else {
      return "zeros"; // no random integer data yet
    }
    return fmt::format("random (seed {})", userSeed);
  }
}

bool validateInput(const TensorSpec &spec, const attnrt_tensor &t) {
  const int32_t *data = static_cast<const int32_t *>(t.data);
  const int64_t numel = attnrt_tensor_numel(&t);
  if (spec.content == ATTN_CONTENT_LENGTHS) {
    for (int64_t i = 0; i < numel; ++i)
      if (data[i] < 0 || data[i] > spec.bound) {
        fmt::print(stderr,
                   "error: input '{}': value {} at {} is outside [0, {}]\n",
                   spec.name, data[i], indexString(spec.shape, i), spec.bound);
        return false;
      }
  } else if (spec.content == ATTN_CONTENT_TOKENS) {
    for (int64_t i = 0; i < numel; ++i) {
      int64_t id = spec.dtype == ATTN_DTYPE_I64
                       ? static_cast<const int64_t *>(t.data)[i]
                       : int64_t(data[i]);
      if (id < 0 || id >= spec.bound) {
        fmt::print(stderr,
                   "error: input '{}': token id {} at {} is outside [0, {})\n",
                   spec.name, id, indexString(spec.shape, i), spec.bound);
        return false;
      }
    }
  } else if (spec.content == ATTN_CONTENT_SEGMENTS) {
    const int64_t len = spec.shape.back();
    for (int64_t i = 0; i < numel; ++i)
      if (i % len != 0 && data[i] < data[i - 1]) {
        fmt::print(stderr,
                   "error: input '{}': segment ids decrease at {} ({} after "
                   "{})\n",
                   spec.name, indexString(spec.shape, i), data[i], data[i - 1]);
        return false;
      }
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

/// Points `buffer` at the f32 values of weight `spec` in `files` (in place
/// or converted, see attnrt_weights_get_f32); returns where they came from,
/// or an empty string after printing the error.
static std::string loadWeight(attnrt_weights *files, const TensorSpec &spec,
                              void *&buffer) {
  char err[1024];
  attnrt_weight_info info;
  const float *data;
  if (attnrt_weights_find(files, spec.name.c_str(), &info, err, sizeof(err)) !=
          ATTNRT_OK ||
      attnrt_weights_get_f32(files, spec.name.c_str(),
                             int64_t(spec.shape.size()), spec.shape.data(),
                             &data, err, sizeof(err)) != ATTNRT_OK) {
    fmt::print(stderr, "error: {}\n", err);
    return "";
  }
  // Generated code never writes weights (the mapping is read-only).
  buffer = const_cast<float *>(data);
  std::vector<std::string> notes;
  if (spec.name != info.name)
    notes.push_back(fmt::format("'{}'", info.name));
  if (info.attn_dtype != ATTN_DTYPE_F32)
    notes.push_back(
        fmt::format("{} to f32", attnrt_dtype_name(info.attn_dtype)));
  else if (data != info.data)
    notes.push_back("copied: unaligned");
  std::string source = fmt::format("from {}", info.path);
  if (!notes.empty())
    source += fmt::format(" ({})", fmt::join(notes, ", "));
  return source;
}

bool makeWeights(const Model &model, const std::vector<std::string> &paths,
                 uint64_t userSeed, std::vector<attnrt_tensor> &tensors,
                 attnrt_weights *&files, std::vector<void *> &buffers,
                 std::vector<std::string> &sources) {
  if (!paths.empty()) {
    std::vector<const char *> list;
    for (const std::string &path : paths)
      list.push_back(path.c_str());
    char err[1024];
    if (attnrt_weights_open(list.data(), int(list.size()), &files, err,
                            sizeof(err)) != ATTNRT_OK) {
      fmt::print(stderr, "error: {}\n", err);
      return false;
    }
  }
  for (size_t j = 0; j < model.weights.size(); ++j) {
    const size_t index = model.weights[j];
    const TensorSpec &spec = model.tensors[index];
    if (files) {
      sources.push_back(loadWeight(files, spec, buffers[index]));
      if (sources.back().empty())
        return false;
      continue;
    }
    if (&attn_main_embedded != nullptr && attn_main_embedded[index]) {
      // Generated code never writes weights.
      buffers[index] = const_cast<void *>(attn_main_embedded[index]);
      sources.push_back("embedded");
      continue;
    }
    attnrt_tensor &t = tensors[index];
    if (!allocate(spec, t))
      return false;
    attnrt_fill_random_weight(static_cast<float *>(t.data),
                              int32_t(spec.shape.size()), spec.shape.data(),
                              attnrt_weight_seed(userSeed, int64_t(j)));
    buffers[index] = t.data;
    sources.push_back(fmt::format("random (seed {})", userSeed));
  }
  return true;
}

bool saveWeights(const std::string &path, const Model &model,
                 const std::vector<void *> &buffers) {
  std::vector<const char *> names;
  std::vector<attnrt_tensor> views;
  for (size_t index : model.weights) {
    const TensorSpec &spec = model.tensors[index];
    attnrt_tensor view{
        buffers[index], spec.dtype, int64_t(spec.shape.size()), {}};
    std::copy(spec.shape.begin(), spec.shape.end(), view.shape);
    names.push_back(spec.name.c_str());
    views.push_back(view);
  }
  char err[1024];
  if (attnrt_safetensors_save(path.c_str(), int(views.size()), names.data(),
                              views.data(), err, sizeof(err)) == ATTNRT_OK)
    return true;
  fmt::print(stderr, "error: {}\n", err);
  return false;
}

} // namespace attn::harness
