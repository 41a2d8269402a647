//===- CudaRuntimeTest.cpp - the CUDA host functions without a GPU --------===//
//
// The build and CI machines have no GPU and usually no driver: these tests
// check that every way of not having CUDA is a clear error, never a crash,
// and that the mgpu* functions then do nothing until the error is read. On a
// machine with a driver and a GPU, the last case also loads it.
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <string>

namespace {

std::string initError(const char *library) {
  char err[512] = "untouched";
  int32_t status = attnrt_cuda_init(library, err, sizeof(err));
  if (status == ATTNRT_OK)
    return "";
  CHECK(status == ATTNRT_ERROR_UNSUPPORTED);
  return err;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("CUDA: a missing driver, a library without the driver's entry "
          "points, the toolkit's stub",
          "[cuda]") {
  // Runs first in this process: nothing is loaded yet.
  std::string missing = initError("/nonexistent/libcuda.so.1");
  CHECK(contains(missing,
                 "cannot load the CUDA driver '/nonexistent/libcuda.so.1'"));

  // A real shared library that is not the driver.
  std::string notDriver = initError("libm.so.6");
  CHECK(contains(notDriver, "the CUDA driver 'libm.so.6' has no 'cuInit'"));

  // The toolkit's stub libcuda resolves every symbol but cuInit fails.
  const char *stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (void *handle = dlopen(stub, RTLD_NOW | RTLD_LOCAL)) {
    dlclose(handle);
    std::string stubError = initError(stub);
    CHECK(contains(stubError, "cuInit failed"));
  } else {
    WARN("no CUDA toolkit stub at " << stub << "; that check is skipped");
  }
}

TEST_CASE("CUDA: mgpu functions record the first error and do nothing",
          "[cuda]") {
  attnrt_cuda_error(); // clear
  // Whether or not this machine has a driver, an unloadable module is an
  // error and the launch after it does nothing.
  char junk[] = "not a cubin";
  void *module = nullptr;
  if (initError(nullptr).empty()) {
    module = mgpuModuleLoad(junk, sizeof(junk));
    CHECK(module == nullptr);
    CHECK(contains(attnrt_cuda_error(), "cuModuleLoadData failed"));
  } else {
    module = mgpuModuleLoad(junk, sizeof(junk));
    CHECK(module == nullptr);
    std::string first = attnrt_cuda_error();
    CHECK(contains(first, "CUDA driver"));
  }
  // Nothing pending now; a launch of the null function records nothing
  // more (the load already reported why), and no call crashes.
  void *function = mgpuModuleGetFunction(module, "kernel");
  CHECK(function == nullptr);
  mgpuLaunchKernel(function, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr,
                   0);
  mgpuModuleUnload(module);
  mgpuMemFree(nullptr, nullptr);
  CHECK(std::string(attnrt_cuda_error()).empty());
}

TEST_CASE("CUDA: the status a cuda-target run returns, kernel timing",
          "[cuda]") {
  attnrt_cuda_error(); // clear
  CHECK(attnrt_cuda_status() == ATTNRT_OK);
  // A failed load leaves an error pending: the run's status is a device
  // error until the error is read.
  char junk[] = "not PTX";
  void *module = mgpuModuleLoadJIT(junk, 3);
  CHECK(module == nullptr);
  CHECK(attnrt_cuda_status() == ATTNRT_ERROR_DEVICE);
  CHECK(attnrt_cuda_status() == ATTNRT_ERROR_DEVICE);
  CHECK(std::string(attnrt_status_string(ATTNRT_ERROR_DEVICE)) == "GPU error");
  CHECK(!std::string(attnrt_cuda_error()).empty());
  CHECK(attnrt_cuda_status() == ATTNRT_OK);

  // Nothing was launched: no kernel time, no launches.
  attnrt_cuda_time_kernels(true);
  int64_t launches = -1;
  CHECK(attnrt_cuda_kernel_ms(&launches) == 0.0);
  CHECK(launches == 0);
  attnrt_cuda_time_kernels(false);
  CHECK(attnrt_cuda_kernel_ms(nullptr) == 0.0);
}
