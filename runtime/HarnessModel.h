//===- HarnessModel.h - the model table and inputs of the harness -*- C++ -*-===//
//
// Internal to the generic harness main (libAttnHarness.a): the model table
// as the harness sees it, and the input and weight tensors made from it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_HARNESSMODEL_H
#define ATTN_RUNTIME_HARNESSMODEL_H

#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

/// The weights `attnc --embed-weights` put into the executable: one pointer
/// per tensor of the model's table (null for inputs and outputs). Weak: the
/// symbol is absent (null) in executables without embedded weights.
extern "C" const void *const attn_main_embedded[] __attribute__((weak));

namespace attn::harness {

/// Random segment ids: each row gets this many segments (fewer when the row
/// is shorter).
constexpr int64_t kMinSegments = 2;
constexpr int64_t kMaxSegments = 4;

/// One tensor of the model table, checked by readModel.
struct TensorSpec {
  std::string name;
  int32_t dtype;
  int32_t role;
  int32_t content;
  int64_t bound;
  std::vector<int64_t> shape;
};

struct Model {
  std::string name;
  uint64_t flops = 0;
  std::vector<TensorSpec> tensors;              // table order, = buffer order
  std::vector<size_t> inputs, weights, outputs; // indices into `tensors`
  int32_t (*run)(void **buffers) = nullptr;
};

/// Copies and checks the table; on failure returns false with `error` set.
bool readModel(const attn_model_info &info, Model &model, std::string &error);

std::string shapeString(const int64_t *shape, size_t rank);
std::string shapeString(const TensorSpec &spec);
/// The dtype and shape, e.g. "i32[2, 512]".
std::string typeString(const TensorSpec &spec);
const char *roleName(int32_t role);
/// What the values of an input mean; empty for weights and outputs.
std::string contentString(const TensorSpec &spec);

/// Allocates `t` with the dtype and shape of `spec` (prints the error).
bool allocate(const TensorSpec &spec, attnrt_tensor &t);
/// Loads input `spec` from `path` into `t`, checking the dtype and shape
/// (prints the error).
bool loadInput(const TensorSpec &spec, const std::string &path,
               attnrt_tensor &t);
/// Fills input `spec` with seeded random values for its content kind;
/// returns where they came from, for the listing.
std::string fillRandom(const TensorSpec &spec, attnrt_tensor &t, uint64_t seed,
                       uint64_t userSeed);
/// Checks what the model would reject: lengths outside [0, bound] and
/// segment ids that decrease along the last dimension (prints the error).
bool validateInput(const TensorSpec &spec, const attnrt_tensor &t);

/// Makes every weight of `model`: from the files `paths` (--weights; see
/// attnrt_weights_open) if any, found by name and kept in `files`, else
/// the weights embedded in the executable (attn_main_embedded), else
/// seeded random values in `tensors` (table order): weight j from generator
/// seed attnrt_weight_seed(userSeed, j), uniform in [-s, s)
/// with s = 1/sqrt(last dimension) for rank >= 2 and in [0.5, 1.5) (norm
/// scales) for rank <= 1. Sets their `buffers` and appends where each came
/// from to `sources`, for the listing; false after printing the error.
bool makeWeights(const Model &model, const std::vector<std::string> &paths,
                 uint64_t userSeed, std::vector<attnrt_tensor> &tensors,
                 attnrt_weights *&files, std::vector<void *> &buffers,
                 std::vector<std::string> &sources);
/// Writes every weight of `model` (data in `buffers`, table order) to the
/// safetensors file `path` (prints the error).
bool saveWeights(const std::string &path, const Model &model,
                 const std::vector<void *> &buffers);

} // namespace attn::harness

#endif // ATTN_RUNTIME_HARNESSMODEL_H
