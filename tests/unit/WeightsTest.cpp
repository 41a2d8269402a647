//===- WeightsTest.cpp - Unit tests of the attnrt_weights_* C API ---------===//
//
// Opening files, indexes and folders, the name-matching rules, f32 in place
// versus converted copies, shape and dtype errors, binding a model table,
// and attnrt_safetensors_save round trips, through the C API of
// AttnRuntime.h only.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

const std::string &tempDir() {
  static const struct TempDir {
    std::string path;
    TempDir() {
      char pattern[] = "/tmp/attnrt-weights-test-XXXXXX";
      REQUIRE(mkdtemp(pattern) != nullptr);
      path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
  } dir;
  return dir.path;
}

std::string readFile(const std::string &path) {
  FILE *file = fopen(path.c_str(), "rb");
  REQUIRE(file);
  std::string bytes;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), file)) > 0;)
    bytes.append(buffer, n);
  fclose(file);
  return bytes;
}

/// A tensor view of `data` (not owned).
attnrt_tensor view(void *data, int32_t dtype, std::vector<int64_t> shape) {
  attnrt_tensor t{data, dtype, int64_t(shape.size()), {}};
  for (size_t i = 0; i < shape.size(); ++i)
    t.shape[i] = shape[i];
  return t;
}

/// Saves `tensors` named `names` to tempDir()/`file`; returns the path.
std::string save(const std::string &file, std::vector<const char *> names,
                 std::vector<attnrt_tensor> tensors) {
  const std::string path = tempDir() + "/" + file;
  char err[512];
  REQUIRE(attnrt_safetensors_save(path.c_str(), int(names.size()), names.data(),
                                  tensors.data(), err,
                                  sizeof(err)) == ATTNRT_OK);
  return path;
}

/// Owns an attnrt_weights opened on `paths`; `status` and `error` hold the
/// outcome.
struct Opened {
  attnrt_weights *weights = nullptr;
  attnrt_status status;
  std::string error;
  explicit Opened(std::vector<std::string> paths) {
    std::vector<const char *> list;
    for (const std::string &path : paths)
      list.push_back(path.c_str());
    char err[1024];
    status = attnrt_weights_open(list.data(), int(list.size()), &weights, err,
                                 sizeof(err));
    error = err;
  }
  ~Opened() { attnrt_weights_close(weights); }

  /// The file name of the tensor found for `name`, or the error.
  std::string find(const char *name) {
    attnrt_weight_info info;
    char err[1024];
    if (attnrt_weights_find(weights, name, &info, err, sizeof(err)) !=
        ATTNRT_OK)
      return err;
    return info.name;
  }
};

float f32[6] = {1, 2, 3, 4, 5, 6};
uint16_t f16[3] = {0x3C00, 0x0001, 0xFC00};  // 1, 2^-24, -inf
uint16_t bf16[3] = {0x3F80, 0x0001, 0x7FC0}; // 1, 2^-133, nan
int32_t i32[2] = {7, 8};

} // namespace

TEST_CASE("weights: save and reopen", "[weights]") {
  const std::string path =
      save("all.safetensors", {"f32", "f16", "bf16", "i32", "we\"ird\\\n"},
           {view(f32, ATTN_DTYPE_F32, {2, 3}), view(f16, ATTN_DTYPE_F16, {3}),
            view(bf16, ATTN_DTYPE_BF16, {3}), view(i32, ATTN_DTYPE_I32, {2}),
            view(f32, ATTN_DTYPE_F32, {})});
  // The header is padded to 8 bytes and starts with the metadata.
  const std::string bytes = readFile(path);
  uint64_t size;
  memcpy(&size, bytes.data(), 8);
  CHECK(size % 8 == 0);
  CHECK(bytes.compare(8, 31, "{\"__metadata__\":{\"format\":\"pt\"}") == 0);
  CHECK(bytes.size() == 8 + size + 24 + 6 + 6 + 8 + 4);

  Opened opened({path});
  REQUIRE(opened.status == ATTNRT_OK);
  attnrt_weight_info info;
  char err[512];
  REQUIRE(attnrt_weights_find(opened.weights, "f16", &info, err, sizeof(err)) ==
          ATTNRT_OK);
  CHECK(std::string(info.dtype) == "F16");
  CHECK(info.attn_dtype == ATTN_DTYPE_F16);
  CHECK(info.rank == 1);
  CHECK(info.shape[0] == 3);
  CHECK(info.bytes == 6);
  CHECK(memcmp(info.data, f16, 6) == 0);
  CHECK(std::string(info.path) == path);
  REQUIRE(attnrt_weights_find(opened.weights, "we\"ird\\\n", &info, err,
                              sizeof(err)) == ATTNRT_OK);
  CHECK(info.rank == 0);
  CHECK(memcmp(info.data, f32, 4) == 0);
  REQUIRE(attnrt_weights_find(opened.weights, "i32", &info, err, sizeof(err)) ==
          ATTNRT_OK);
  CHECK(info.attn_dtype == ATTN_DTYPE_I32);
  CHECK(memcmp(info.data, i32, 8) == 0);
}

TEST_CASE("weights: f32 in place, f16 and bf16 converted", "[weights]") {
  const std::string path =
      save("mixed.safetensors", {"a", "h", "b"},
           {view(f32, ATTN_DTYPE_F32, {2, 3}), view(f16, ATTN_DTYPE_F16, {3}),
            view(bf16, ATTN_DTYPE_BF16, {3})});
  Opened opened({path});
  REQUIRE(opened.status == ATTNRT_OK);
  char err[512];
  attnrt_weight_info info;
  const float *data;
  const int64_t matrix[] = {2, 3}, vector[] = {3};
  REQUIRE(attnrt_weights_find(opened.weights, "a", &info, err, sizeof(err)) ==
          ATTNRT_OK);
  REQUIRE(attnrt_weights_get_f32(opened.weights, "a", 2, matrix, &data, err,
                                 sizeof(err)) == ATTNRT_OK);
  CHECK(static_cast<const void *>(data) == info.data); // zero copy
  CHECK(std::vector<float>(data, data + 6) == std::vector<float>(f32, f32 + 6));
  REQUIRE(attnrt_weights_get_f32(opened.weights, "h", 1, vector, &data, err,
                                 sizeof(err)) == ATTNRT_OK);
  CHECK(data[0] == 1.0f);
  CHECK(data[1] == std::ldexp(1.0f, -24));
  CHECK(data[2] == -INFINITY);
  CHECK(reinterpret_cast<uintptr_t>(data) % 64 == 0);
  // A second request returns the same copy.
  const float *again;
  REQUIRE(attnrt_weights_get_f32(opened.weights, "h", 1, vector, &again, err,
                                 sizeof(err)) == ATTNRT_OK);
  CHECK(again == data);
  REQUIRE(attnrt_weights_get_f32(opened.weights, "b", 1, vector, &data, err,
                                 sizeof(err)) == ATTNRT_OK);
  CHECK(data[0] == 1.0f);
  CHECK(data[1] == std::ldexp(1.0f, -133));
  CHECK(std::isnan(data[2]));

  // Shape and dtype errors.
  const int64_t wrong[] = {3, 2};
  CHECK(attnrt_weights_get_f32(opened.weights, "a", 2, wrong, &data, err,
                               sizeof(err)) == ATTNRT_ERROR_SHAPE);
  CHECK(std::string(err) == path + ": weight 'a' has shape [2, 3] but the "
                                   "model expects [3, 2]");
  CHECK(attnrt_weights_get_f32(opened.weights, "a", 1, vector, &data, err,
                               sizeof(err)) == ATTNRT_ERROR_SHAPE);
  CHECK(attnrt_weights_get_f32(opened.weights, "nope", 1, vector, &data, err,
                               sizeof(err)) == ATTNRT_ERROR_NOT_FOUND);
  CHECK(std::string(err) == "weight 'nope' not found in " + path);
  const std::string ints =
      save("ints.safetensors", {"model.i"}, {view(i32, ATTN_DTYPE_I32, {2})});
  Opened intFile({ints});
  const int64_t two[] = {2};
  CHECK(attnrt_weights_get_f32(intFile.weights, "i", 1, two, &data, err,
                               sizeof(err)) == ATTNRT_ERROR_FORMAT);
  CHECK(std::string(err) ==
        ints + ": tensor 'model.i' for weight 'i' has dtype i32 (weights must "
               "be f32, f16 or bf16)");
}

TEST_CASE("weights: unaligned f32 is copied", "[weights]") {
  // A hand-made file whose data starts at an odd offset: N = 65 (8 + 65 =
  // 73).
  std::string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                       "\"data_offsets\":[0,8]}}";
  header.append(65 - header.size(), ' ');
  std::string bytes(8, '\0');
  bytes[0] = char(header.size());
  bytes += header;
  bytes.append(reinterpret_cast<const char *>(f32), 8);
  const std::string path = tempDir() + "/odd.safetensors";
  FILE *file = fopen(path.c_str(), "wb");
  REQUIRE(file);
  fwrite(bytes.data(), 1, bytes.size(), file);
  fclose(file);
  Opened opened({path});
  REQUIRE(opened.status == ATTNRT_OK);
  attnrt_weight_info info;
  char err[512];
  REQUIRE(attnrt_weights_find(opened.weights, "a", &info, err, sizeof(err)) ==
          ATTNRT_OK);
  CHECK(reinterpret_cast<uintptr_t>(info.data) % 4 != 0);
  const float *data;
  const int64_t shape[] = {2};
  REQUIRE(attnrt_weights_get_f32(opened.weights, "a", 1, shape, &data, err,
                                 sizeof(err)) == ATTNRT_OK);
  CHECK(static_cast<const void *>(data) != info.data);
  CHECK(data[0] == 1.0f);
  CHECK(data[1] == 2.0f);
}

TEST_CASE("weights: name matching", "[weights]") {
  const std::string path =
      save("names.safetensors",
           {"exact.w", "model.exact.w", "model.norm.weight", "layers.0.q",
            "bert.enc.LayerNorm.gamma", "enc2.LayerNorm.beta", "model.dup",
            "transformer.dup"},
           std::vector<attnrt_tensor>(8, view(f32, ATTN_DTYPE_F32, {1})));
  Opened opened({path});
  REQUIRE(opened.status == ATTNRT_OK);
  // Exact first, then one prefix, then without the own first component.
  CHECK(opened.find("exact.w") == "exact.w");
  CHECK(opened.find("norm.weight") == "model.norm.weight");
  CHECK(opened.find("model.layers.0.q") == "layers.0.q");
  // Legacy LayerNorm names, with the same rules.
  CHECK(opened.find("enc.LayerNorm.weight") == "bert.enc.LayerNorm.gamma");
  CHECK(opened.find("model.enc2.LayerNorm.bias") == "enc2.LayerNorm.beta");
  CHECK(opened.find("enc.LayerNorm.bias") ==
        "weight 'enc.LayerNorm.bias' not found in " + path);
  // Only one leading component is added or removed.
  CHECK(opened.find("weight") == "weight 'weight' not found in " + path);
  CHECK(opened.find("x.model.layers.0.q") ==
        "weight 'x.model.layers.0.q' not found in " + path);
  // Two prefixes: ambiguous.
  CHECK(opened.find("dup") ==
        "weight 'dup' not found in " + path +
            " ('model.dup', 'transformer.dup' match it with different "
            "prefixes)");
}

TEST_CASE("weights: files, folders and indexes", "[weights]") {
  namespace fs = std::filesystem;
  const std::string folder = tempDir() + "/folder";
  fs::create_directories(folder);
  save("folder/b.safetensors", {"b"}, {view(f32, ATTN_DTYPE_F32, {1})});
  save("folder/a.safetensors", {"a"}, {view(f32, ATTN_DTYPE_F32, {1})});
  {
    Opened opened({folder});
    REQUIRE(opened.status == ATTNRT_OK);
    CHECK(opened.find("a") == "a");
    CHECK(opened.find("c") == "weight 'c' not found in " + folder +
                                  "/a.safetensors, " + folder +
                                  "/b.safetensors");
  }
  {
    // The same file twice is read once; a name in two files is an error.
    Opened twice({folder + "/", folder + "/a.safetensors"});
    CHECK(twice.status == ATTNRT_OK);
    save("other.safetensors", {"a"}, {view(f32, ATTN_DTYPE_F32, {1})});
    Opened clash({folder, tempDir() + "/other.safetensors"});
    CHECK(clash.status == ATTNRT_ERROR_FORMAT);
    CHECK(clash.weights == nullptr);
    CHECK(clash.error == "tensor 'a' is in both " + folder +
                             "/a.safetensors and " + tempDir() +
                             "/other.safetensors");
  }
  {
    // With an index, the folder means the index (c.safetensors is ignored).
    save("folder/c.safetensors", {"a"}, {view(f32, ATTN_DTYPE_F32, {1})});
    FILE *file = fopen((folder + "/model.safetensors.index.json").c_str(), "w");
    REQUIRE(file);
    fputs(R"({"weight_map": {"a": "a.safetensors", "b": "b.safetensors"}})",
          file);
    fclose(file);
    Opened opened({folder});
    REQUIRE(opened.status == ATTNRT_OK);
    CHECK(opened.find("b") == "b");
    Opened index({folder + "/model.safetensors.index.json"});
    REQUIRE(index.status == ATTNRT_OK);
  }
  {
    Opened none({tempDir() + "/none.safetensors"});
    CHECK(none.status == ATTNRT_ERROR_IO);
    CHECK(none.error == tempDir() +
                            "/none.safetensors: cannot open: No such file or "
                            "directory");
    fs::create_directories(tempDir() + "/empty");
    Opened empty({tempDir() + "/empty"});
    CHECK(empty.status == ATTNRT_ERROR_IO);
    CHECK(empty.error == tempDir() + "/empty: the folder holds no "
                                     "model.safetensors.index.json and no "
                                     ".safetensors file");
    Opened nothing(std::vector<std::string>{});
    REQUIRE(nothing.status == ATTNRT_OK);
    CHECK(nothing.find("a") == "weight 'a' not found in no files");
  }
  // Messages are truncated to the buffer.
  const char *path = "/nonexistent/w.safetensors";
  attnrt_weights *weights;
  char small[8];
  CHECK(attnrt_weights_open(&path, 1, &weights, small, sizeof(small)) ==
        ATTNRT_ERROR_IO);
  CHECK(std::string(small) == "/nonexi");
  CHECK(attnrt_weights_open(&path, -1, &weights, nullptr, 0) ==
        ATTNRT_ERROR_INVALID_ARG);
  attnrt_weights_close(nullptr);
}

TEST_CASE("weights: bind a model table", "[weights]") {
  const std::string path =
      save("bind.safetensors", {"model.w", "norm"},
           {view(f32, ATTN_DTYPE_F32, {2, 3}), view(f16, ATTN_DTYPE_F16, {3})});
  const int64_t matrix[] = {2, 3}, vector[] = {3};
  const attn_tensor_info tensors[] = {
      {"x", ATTN_DTYPE_F32, ATTN_ROLE_INPUT, ATTN_CONTENT_DATA, 2, 0, matrix},
      {"w", ATTN_DTYPE_F32, ATTN_ROLE_WEIGHT, ATTN_CONTENT_DATA, 2, 0, matrix},
      {"norm", ATTN_DTYPE_F32, ATTN_ROLE_WEIGHT, ATTN_CONTENT_DATA, 1, 0,
       vector},
      {"y", ATTN_DTYPE_F32, ATTN_ROLE_OUTPUT, ATTN_CONTENT_DATA, 2, 0, matrix},
  };
  const attn_model_info model = {ATTN_ABI_VERSION, 4, "m", 0, tensors, nullptr};
  Opened opened({path});
  REQUIRE(opened.status == ATTNRT_OK);
  int marker;
  void *buffers[4] = {&marker, nullptr, nullptr, &marker};
  char err[512];
  REQUIRE(attnrt_weights_bind(opened.weights, &model, buffers, err,
                              sizeof(err)) == ATTNRT_OK);
  CHECK(buffers[0] == &marker);
  CHECK(buffers[3] == &marker);
  CHECK(std::vector<float>(static_cast<float *>(buffers[1]),
                           static_cast<float *>(buffers[1]) + 6) ==
        std::vector<float>(f32, f32 + 6));
  CHECK(static_cast<float *>(buffers[2])[1] == std::ldexp(1.0f, -24));

  // The first failing weight stops the binding.
  const attn_tensor_info missing[] = {{"absent", ATTN_DTYPE_F32,
                                       ATTN_ROLE_WEIGHT, ATTN_CONTENT_DATA, 1,
                                       0, vector}};
  const attn_model_info other = {ATTN_ABI_VERSION, 1, "m", 0, missing, nullptr};
  CHECK(attnrt_weights_bind(opened.weights, &other, buffers, err,
                            sizeof(err)) == ATTNRT_ERROR_NOT_FOUND);
  CHECK(std::string(err) == "weight 'absent' not found in " + path);
}

TEST_CASE("weights: save errors", "[weights]") {
  char err[512];
  const std::string path = tempDir() + "/bad.safetensors";
  attnrt_tensor t = view(f32, ATTN_DTYPE_F32, {1});
  const attnrt_tensor two[] = {t, t};
  const char *dup[] = {"a", "a"};
  CHECK(attnrt_safetensors_save(path.c_str(), 2, dup, two, err, sizeof(err)) ==
        ATTNRT_ERROR_INVALID_ARG);
  CHECK(std::string(err) == path + ": cannot write a tensor named 'a' (names "
                                   "must be unique, non-empty utf-8 and not "
                                   "__metadata__)");
  for (const char *name : {"", "__metadata__", "\xff"}) {
    CHECK(attnrt_safetensors_save(path.c_str(), 1, &name, &t, err,
                                  sizeof(err)) == ATTNRT_ERROR_INVALID_ARG);
  }
  attnrt_tensor bad = view(f32, 9, {1});
  const char *name = "x";
  CHECK(attnrt_safetensors_save(path.c_str(), 1, &name, &bad, err,
                                sizeof(err)) == ATTNRT_ERROR_INVALID_ARG);
  CHECK(std::string(err) ==
        path + ": cannot write tensor 'x' of dtype unknown and rank 1");
  CHECK(attnrt_safetensors_save("/nonexistent/dir/w.safetensors", 1, &name, &t,
                                err, sizeof(err)) == ATTNRT_ERROR_IO);
  CHECK(std::string(err) == "/nonexistent/dir/w.safetensors: cannot create: "
                            "No such file or directory");
  // No tensors: a valid file with only the metadata.
  const char *none = nullptr;
  REQUIRE(attnrt_safetensors_save(path.c_str(), 0, &none, nullptr, err,
                                  sizeof(err)) == ATTNRT_OK);
  Opened opened({path});
  CHECK(opened.status == ATTNRT_OK);
}
