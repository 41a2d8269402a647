//===- two-models.cpp - two compiled models in one program ----------------===//
//
// Test code: links with the objects of two models compiled with
// `attnc --emit=obj --prefix=first` and `--prefix=second` (no harness main),
// runs both through their typed tables and writes every tensor to
// DIR/<prefix>/<name>.npy for attn-ref. Lengths inputs get their bound minus
// one; segment ids are 0 for the first half of a row and 1 after. Then it
// passes `first` a length above its bound and expects `run` to refuse it.
//
//   two-models DIR     exit 0 when everything ran as expected
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"

#include <fmt/core.h>

#include <string>
#include <vector>

extern "C" const attn_model_info first_model, second_model;

namespace {

bool runModel(const attn_model_info &model, const std::string &dir,
              uint64_t seed) {
  std::vector<attnrt_tensor> tensors(model.num_tensors);
  std::vector<void *> buffers;
  for (uint32_t i = 0; i < model.num_tensors; ++i) {
    const attn_tensor_info &info = model.tensors[i];
    attnrt_tensor &t = tensors[i];
    if (attnrt_tensor_alloc(&t, info.dtype, info.rank, info.shape) != ATTNRT_OK)
      return false;
    int64_t n = attnrt_tensor_numel(&t);
    auto *ints = static_cast<int32_t *>(t.data);
    int64_t row = info.rank ? info.shape[info.rank - 1] : 1;
    if (info.content == ATTN_CONTENT_LENGTHS)
      for (int64_t j = 0; j < n; ++j)
        ints[j] = int32_t(info.bound - 1);
    else if (info.content == ATTN_CONTENT_SEGMENTS)
      for (int64_t j = 0; j < n; ++j)
        ints[j] = j % row >= row / 2;
    else if (info.dtype == ATTN_DTYPE_F32)
      attnrt_fill_random(static_cast<float *>(t.data), n, seed + i);
    buffers.push_back(t.data);
  }
  int32_t status = model.run(buffers.data());
  fmt::print("{}: run returned {}\n", model.name, status);
  bool ok = status == ATTNRT_OK;
  char err[256];
  for (uint32_t i = 0; ok && i < model.num_tensors; ++i)
    ok = attnrt_npy_save(fmt::format("{}/{}.npy", dir, model.tensors[i].name)
                             .c_str(),
                         &tensors[i], err, sizeof(err)) == ATTNRT_OK;
  // A length past its bound must be refused before anything is computed.
  for (uint32_t i = 0; ok && i < model.num_tensors; ++i)
    if (model.tensors[i].content == ATTN_CONTENT_LENGTHS) {
      static_cast<int32_t *>(tensors[i].data)[0] =
          int32_t(model.tensors[i].bound + 1);
      status = model.run(buffers.data());
      fmt::print("{}: with {} = {}: run returned {} ({})\n", model.name,
                 model.tensors[i].name, model.tensors[i].bound + 1, status,
                 attnrt_status_string(attnrt_status(status)));
      ok = status == ATTNRT_ERROR_INVALID_ARG;
    }
  for (attnrt_tensor &t : tensors)
    attnrt_tensor_free(&t);
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: two-models DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  bool ok = runModel(first_model, dir + "/first", 1) &&
            runModel(second_model, dir + "/second", 100);
  return ok ? 0 : 1;
}
