//===- Instance.cpp - model instances for attnc libraries -----------------===//
//
// The C API behind the header that `attnc --emit=lib` writes: an instance
// owns a model's weights (mapped from safetensors files, or seeded random)
// and fills the buffer array of `<prefix>_run_buffers` from the caller's inputs and
// outputs. The math is the compiled model's.
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <vector>

struct attnrt_instance {
  const attn_model_info *model = nullptr;
  attnrt_weights *files = nullptr;
  std::vector<attnrt_tensor> random; // owned random weights
  std::vector<void *> buffers;       // table order; weights filled in
  std::vector<uint32_t> inputs, outputs;

  ~attnrt_instance() {
    // Generated code keeps packed forms of the weights by address.
    for (uint32_t i = 0; i < model->num_tensors; ++i)
      if (model->tensors[i].role == ATTN_ROLE_WEIGHT && buffers[i])
        attnrt_packed_forget(buffers[i]);
    for (attnrt_tensor &t : random)
      attnrt_tensor_free(&t);
    attnrt_weights_close(files);
  }
};

static int32_t fail(char *error, size_t size, attnrt_status status,
                    const std::string &message) {
  if (error && size) {
    size_t n = std::min(size - 1, message.size());
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
  }
  return status;
}

int32_t attnrt_instance_create(const attn_model_info *model,
                               const char *const *weight_paths,
                               int32_t num_paths,
                               const void *const *embedded, uint64_t seed,
                               attnrt_instance **out, char *error,
                               size_t error_size) {
  if (error && error_size)
    error[0] = '\0';
  if (!model || !out || num_paths < 0 || (num_paths && !weight_paths))
    return fail(error, error_size, ATTNRT_ERROR_INVALID_ARG,
                "attnrt_instance_create: invalid argument");
  *out = nullptr;
  if (model->abi_version != ATTN_ABI_VERSION)
    return fail(error, error_size, ATTNRT_ERROR_FORMAT,
                fmt::format("model ABI version {} is not the runtime's {}",
                            model->abi_version, ATTN_ABI_VERSION));
  auto instance = std::make_unique<attnrt_instance>();
  instance->model = model;
  instance->buffers.assign(model->num_tensors, nullptr);
  int64_t weights = 0;
  for (uint32_t i = 0; i < model->num_tensors; ++i) {
    const attn_tensor_info &t = model->tensors[i];
    if (t.role == ATTN_ROLE_INPUT)
      instance->inputs.push_back(i);
    else if (t.role == ATTN_ROLE_OUTPUT)
      instance->outputs.push_back(i);
    else if (t.role != ATTN_ROLE_WEIGHT)
      return fail(error, error_size, ATTNRT_ERROR_FORMAT,
                  fmt::format("tensor '{}' has unsupported role {}", t.name,
                              t.role));
    if (t.role != ATTN_ROLE_WEIGHT || num_paths)
      continue;
    if (embedded && embedded[i]) {
      // Generated code never writes weights.
      instance->buffers[i] = const_cast<void *>(embedded[i]);
      continue;
    }
    attnrt_tensor &w = instance->random.emplace_back();
    if (attnrt_status status =
            attnrt_tensor_alloc(&w, t.dtype, t.rank, t.shape)) {
      instance->random.pop_back();
      return fail(error, error_size, status,
                  fmt::format("cannot allocate weight '{}'", t.name));
    }
    attnrt_fill_random_weight(static_cast<float *>(w.data), t.rank, t.shape,
                              attnrt_weight_seed(seed, weights++));
    instance->buffers[i] = w.data;
  }
  if (num_paths) {
    char message[1024];
    attnrt_status status = attnrt_weights_open(weight_paths, num_paths,
                                               &instance->files, message,
                                               sizeof(message));
    if (status == ATTNRT_OK)
      status = attnrt_weights_bind(instance->files, model,
                                   instance->buffers.data(), message,
                                   sizeof(message));
    if (status != ATTNRT_OK)
      return fail(error, error_size, status, message);
  }
  *out = instance.release();
  return ATTNRT_OK;
}

int32_t attnrt_instance_run(attnrt_instance *instance,
                            const void *const *inputs, void *const *outputs) {
  if (!instance || (!instance->inputs.empty() && !inputs) ||
      (!instance->outputs.empty() && !outputs))
    return ATTNRT_ERROR_INVALID_ARG;
  for (size_t i = 0; i < instance->inputs.size(); ++i) {
    if (!inputs[i])
      return ATTNRT_ERROR_INVALID_ARG;
    // Generated code never writes its inputs.
    instance->buffers[instance->inputs[i]] = const_cast<void *>(inputs[i]);
  }
  for (size_t i = 0; i < instance->outputs.size(); ++i) {
    if (!outputs[i])
      return ATTNRT_ERROR_INVALID_ARG;
    instance->buffers[instance->outputs[i]] = outputs[i];
  }
  return instance->model->run(instance->buffers.data());
}

void attnrt_instance_destroy(attnrt_instance *instance) { delete instance; }
