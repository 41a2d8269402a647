//===- CudaRuntime.cpp - the mgpu* host functions on the CUDA driver ------===//
//
// MLIR's `gpu-to-llvm` lowering and the `gpu.binary` translation make host
// code call a small set of `mgpu*` C functions (module load at start-up,
// kernel launch, streams, events, device memory). This file implements them
// on the CUDA driver API. The driver, libcuda.so.1, is opened with dlopen at
// the first call, so that programs which never touch a GPU do not depend on
// it and a machine without a driver gets a clear error, not a loader failure.
//
// These functions have MLIR's signatures and return no status: a failure is
// recorded (the first message wins) and later calls do nothing, so that the
// caller (the harness, or a library user through attnrt_cuda_error) reports
// it once. No CUDA header is needed: the few driver types are declared here.
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"

#include <fmt/format.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// The driver API's types, as opaque handles and plain integers.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUevent = void *;

constexpr unsigned kStreamNonBlocking = 1;      // CU_STREAM_NON_BLOCKING
constexpr unsigned kMemAttachGlobal = 1;        // CU_MEM_ATTACH_GLOBAL
constexpr int kFuncMaxDynamicSharedBytes = 8;   // CU_FUNC_ATTRIBUTE_...
constexpr int kJitOptimizationLevel = 7;        // CU_JIT_OPTIMIZATION_LEVEL
constexpr int32_t kDefaultSharedBytesLimit = 48 * 1024;

/// The driver entry points this file uses, resolved by name.
struct Driver {
#define ATTNRT_CUDA_FUNCTIONS(X)                                               \
  X(cuInit, CUresult(unsigned))                                            \
  X(cuGetErrorString, CUresult(CUresult, const char **))                   \
  X(cuDeviceGet, CUresult(CUdevice *, int))                                \
  X(cuDevicePrimaryCtxRetain, CUresult(CUcontext *, CUdevice))             \
  X(cuCtxSetCurrent, CUresult(CUcontext))                                  \
  X(cuModuleLoadData, CUresult(CUmodule *, const void *))                  \
  X(cuModuleLoadDataEx,                                                        \
    CUresult(CUmodule *, const void *, unsigned, int *, void **))          \
  X(cuModuleUnload, CUresult(CUmodule))                                    \
  X(cuModuleGetFunction, CUresult(CUfunction *, CUmodule, const char *))   \
  X(cuFuncSetAttribute, CUresult(CUfunction, int, int))                    \
  X(cuLaunchKernel,                                                            \
    CUresult(CUfunction, unsigned, unsigned, unsigned, unsigned,           \
                 unsigned, unsigned, unsigned, CUstream, void **, void **))    \
  X(cuStreamCreate, CUresult(CUstream *, unsigned))                        \
  X(cuStreamDestroy_v2, CUresult(CUstream))                                \
  X(cuStreamSynchronize, CUresult(CUstream))                               \
  X(cuStreamWaitEvent, CUresult(CUstream, CUevent, unsigned))              \
  X(cuEventCreate, CUresult(CUevent *, unsigned))                          \
  X(cuEventDestroy_v2, CUresult(CUevent))                                  \
  X(cuEventRecord, CUresult(CUevent, CUstream))                            \
  X(cuEventSynchronize, CUresult(CUevent))                                 \
  X(cuEventElapsedTime, CUresult(float *, CUevent, CUevent))               \
  X(cuMemAlloc_v2, CUresult(CUdeviceptr *, size_t))                        \
  X(cuMemAllocManaged, CUresult(CUdeviceptr *, size_t, unsigned))          \
  X(cuMemFree_v2, CUresult(CUdeviceptr))                                   \
  X(cuMemcpyAsync, CUresult(CUdeviceptr, CUdeviceptr, size_t, CUstream))   \
  X(cuMemsetD32Async,                                                          \
    CUresult(CUdeviceptr, unsigned, size_t, CUstream))                     \
  X(cuMemsetD16Async,                                                          \
    CUresult(CUdeviceptr, unsigned short, size_t, CUstream))
#define ATTNRT_CUDA_FIELD(name, type) std::add_pointer_t<type> name = nullptr;
  ATTNRT_CUDA_FUNCTIONS(ATTNRT_CUDA_FIELD)
#undef ATTNRT_CUDA_FIELD
  void *library = nullptr;
  CUcontext context = nullptr;
};

/// The process's CUDA state: the driver once it is usable, and the first
/// error since attnrt_cuda_error() last returned it.
struct State {
  std::mutex mutex;
  Driver driver;
  bool ready = false;
  int device = 0;
  std::string error, reported;
  // Kernel timing (attnrt_cuda_time_kernels): each launch's events until
  // its stream is synchronized, and the milliseconds of those measured.
  struct TimedLaunch {
    CUstream stream;
    CUevent start, end;
  };
  bool timing = false;
  std::vector<TimedLaunch> launches;
  double kernelMs = 0;
  int64_t kernelLaunches = 0;
};

State &state() {
  static State s;
  return s;
}

/// Records `message` unless an earlier error is pending. Caller holds the
/// mutex.
void record(State &s, std::string message) {
  if (s.error.empty())
    s.error = std::move(message);
}

std::string resultText(const Driver &d, CUresult result) {
  const char *text = nullptr;
  if (d.cuGetErrorString && d.cuGetErrorString(result, &text) == 0 && text)
    return fmt::format("{} (CUresult {})", text, result);
  return fmt::format("CUresult {}", result);
}

/// Opens `path` (or $ATTNRT_LIBCUDA, or libcuda.so.1), resolves the entry
/// points and makes the primary context of device `s.device` current.
/// Returns an error message, empty on success. Caller holds the mutex.
std::string load(State &s, const char *path) {
  if (!path || !*path)
    path = std::getenv("ATTNRT_LIBCUDA");
  if (!path || !*path)
    path = "libcuda.so.1";
  Driver d;
  d.library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!d.library) {
    const char *why = dlerror();
    return fmt::format("cannot load the CUDA driver '{}': {}", path,
                       why ? why : "unknown error");
  }
  auto fail = [&](std::string message) {
    dlclose(d.library);
    return message;
  };
#define ATTNRT_CUDA_RESOLVE(name, type)                                        \
  d.name = reinterpret_cast<std::add_pointer_t<type>>(dlsym(d.library, #name));                  \
  if (!d.name)                                                                 \
    return fail(fmt::format("the CUDA driver '{}' has no '{}'", path, #name));
  ATTNRT_CUDA_FUNCTIONS(ATTNRT_CUDA_RESOLVE)
#undef ATTNRT_CUDA_RESOLVE
  CUdevice device = 0;
  auto check = [&](CUresult result, const char *what) -> std::string {
    if (result == 0)
      return "";
    return fmt::format("CUDA driver '{}': {} failed: {}", path, what,
                       resultText(d, result));
  };
  std::string message = check(d.cuInit(0), "cuInit");
  if (message.empty())
    message = check(d.cuDeviceGet(&device, s.device),
                    fmt::format("cuDeviceGet({})", s.device).c_str());
  if (message.empty())
    message = check(d.cuDevicePrimaryCtxRetain(&d.context, device),
                    "cuDevicePrimaryCtxRetain");
  if (!message.empty())
    return fail(message);
  s.driver = d;
  s.ready = true;
  return "";
}

/// The driver with its context current on this thread, or null (the error
/// recorded) if CUDA cannot be used or an error is pending. Caller holds the
/// mutex.
Driver *ready(State &s) {
  if (!s.error.empty())
    return nullptr;
  if (!s.ready) {
    std::string message = load(s, nullptr);
    if (!message.empty()) {
      record(s, message);
      return nullptr;
    }
  }
  if (CUresult r = s.driver.cuCtxSetCurrent(s.driver.context)) {
    record(s, "cuCtxSetCurrent failed: " + resultText(s.driver, r));
    return nullptr;
  }
  return &s.driver;
}

/// Runs `call(driver)` under the lock if CUDA is usable; a non-zero result
/// is recorded as "`what` failed: ...".
template <typename F> void withDriver(const char *what, F &&call) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Driver *d = ready(s);
  if (!d)
    return;
  if (CUresult r = call(*d))
    record(s, fmt::format("{} failed: {}", what, resultText(*d, r)));
}

CUdeviceptr devicePtr(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

} // namespace

extern "C" {

int32_t attnrt_cuda_init(const char *library, char *err, size_t errlen) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::string message = s.ready ? "" : load(s, library);
  if (message.empty())
    return ATTNRT_OK;
  if (err && errlen)
    fmt::format_to_n(err, errlen - 1, "{}", message).out[0] = '\0';
  return ATTNRT_ERROR_UNSUPPORTED;
}

const char *attnrt_cuda_error(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.reported = std::move(s.error);
  s.error.clear();
  return s.reported.c_str();
}

void *mgpuModuleLoad(void *data, size_t /*size*/) {
  CUmodule module = nullptr;
  withDriver("cuModuleLoadData", [&](Driver &d) {
    return d.cuModuleLoadData(&module, data);
  });
  return module;
}

void *mgpuModuleLoadJIT(void *ptx, int32_t optLevel) {
  CUmodule module = nullptr;
  withDriver("cuModuleLoadDataEx (PTX JIT)", [&](Driver &d) {
    int options[] = {kJitOptimizationLevel};
    void *values[] = {reinterpret_cast<void *>(intptr_t(optLevel))};
    return d.cuModuleLoadDataEx(&module, ptx, 1, options, values);
  });
  return module;
}

void mgpuModuleUnload(void *module) {
  if (!module)
    return;
  withDriver("cuModuleUnload",
             [&](Driver &d) { return d.cuModuleUnload(module); });
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  CUfunction function = nullptr;
  if (!module)
    return nullptr; // the load's error is pending
  withDriver("cuModuleGetFunction", [&](Driver &d) {
    return d.cuModuleGetFunction(&function, module, name);
  });
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz,
                      int32_t sharedBytes, void *stream, void **params,
                      void **extra, size_t /*paramsCount*/) {
  if (!function)
    return; // the load's error is pending
  withDriver("cuLaunchKernel", [&](Driver &d) -> CUresult {
    // Above 48 KiB a kernel must opt in to its dynamic shared memory.
    if (sharedBytes > kDefaultSharedBytesLimit)
      if (CUresult r = d.cuFuncSetAttribute(
              function, kFuncMaxDynamicSharedBytes, sharedBytes))
        return r;
    State &s = state();
    State::TimedLaunch timed{stream, nullptr, nullptr};
    if (s.timing) {
      if (CUresult r = d.cuEventCreate(&timed.start, 0))
        return r;
      if (CUresult r = d.cuEventCreate(&timed.end, 0))
        return r;
      s.launches.push_back(timed);
      if (CUresult r = d.cuEventRecord(timed.start, stream))
        return r;
    }
    if (CUresult r = d.cuLaunchKernel(function, unsigned(gx), unsigned(gy),
                                      unsigned(gz), unsigned(bx), unsigned(by),
                                      unsigned(bz), unsigned(sharedBytes),
                                      stream, params, extra))
      return r;
    return s.timing ? d.cuEventRecord(timed.end, stream) : 0;
  });
}

void *mgpuStreamCreate(void) {
  CUstream stream = nullptr;
  withDriver("cuStreamCreate", [&](Driver &d) {
    return d.cuStreamCreate(&stream, kStreamNonBlocking);
  });
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  withDriver("cuStreamDestroy",
             [&](Driver &d) { return d.cuStreamDestroy_v2(stream); });
}

void mgpuStreamSynchronize(void *stream) {
  withDriver("cuStreamSynchronize", [&](Driver &d) -> CUresult {
    if (CUresult r = d.cuStreamSynchronize(stream))
      return r;
    // The kernels timed on this stream are done.
    State &s = state();
    CUresult result = 0;
    auto done = [&](const State::TimedLaunch &t) {
      if (t.stream != stream)
        return false;
      float ms = 0;
      if (CUresult r = d.cuEventElapsedTime(&ms, t.start, t.end); r && !result)
        result = r;
      s.kernelMs += ms;
      ++s.kernelLaunches;
      d.cuEventDestroy_v2(t.start);
      d.cuEventDestroy_v2(t.end);
      return true;
    };
    s.launches.erase(
        std::remove_if(s.launches.begin(), s.launches.end(), done),
        s.launches.end());
    return result;
  });
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  withDriver("cuStreamWaitEvent",
             [&](Driver &d) { return d.cuStreamWaitEvent(stream, event, 0); });
}

void *mgpuEventCreate(void) {
  CUevent event = nullptr;
  withDriver("cuEventCreate",
             [&](Driver &d) { return d.cuEventCreate(&event, 0); });
  return event;
}

void mgpuEventDestroy(void *event) {
  withDriver("cuEventDestroy",
             [&](Driver &d) { return d.cuEventDestroy_v2(event); });
}

void mgpuEventSynchronize(void *event) {
  withDriver("cuEventSynchronize",
             [&](Driver &d) { return d.cuEventSynchronize(event); });
}

void mgpuEventRecord(void *event, void *stream) {
  withDriver("cuEventRecord",
             [&](Driver &d) { return d.cuEventRecord(event, stream); });
}

void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool hostShared) {
  CUdeviceptr ptr = 0;
  withDriver(hostShared ? "cuMemAllocManaged" : "cuMemAlloc",
             [&](Driver &d) {
               return hostShared
                          ? d.cuMemAllocManaged(&ptr, bytes, kMemAttachGlobal)
                          : d.cuMemAlloc_v2(&ptr, bytes);
             });
  return reinterpret_cast<void *>(uintptr_t(ptr));
}

void mgpuMemFree(void *ptr, void * /*stream*/) {
  if (!ptr)
    return;
  withDriver("cuMemFree",
             [&](Driver &d) { return d.cuMemFree_v2(devicePtr(ptr)); });
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  withDriver("cuMemcpyAsync", [&](Driver &d) {
    return d.cuMemcpyAsync(devicePtr(dst), devicePtr(src), bytes, stream);
  });
}

void mgpuMemset32(void *dst, uint32_t value, size_t count, void *stream) {
  withDriver("cuMemsetD32Async", [&](Driver &d) {
    return d.cuMemsetD32Async(devicePtr(dst), value, count, stream);
  });
}

void mgpuMemset16(void *dst, uint16_t value, size_t count, void *stream) {
  withDriver("cuMemsetD16Async", [&](Driver &d) {
    return d.cuMemsetD16Async(devicePtr(dst), value, count, stream);
  });
}

void mgpuSetDefaultDevice(int32_t device) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.ready)
    s.device = device;
}

int32_t attnrt_cuda_elapsed_ms(void *start, void *end, float *ms) {
  int32_t status = ATTNRT_ERROR_UNSUPPORTED;
  withDriver("cuEventElapsedTime", [&](Driver &d) {
    CUresult r = d.cuEventElapsedTime(ms, start, end);
    status = r == 0 ? ATTNRT_OK : ATTNRT_ERROR_INVALID_ARG;
    return r;
  });
  return status;
}

int32_t attnrt_cuda_status(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.error.empty() ? ATTNRT_OK : ATTNRT_ERROR_DEVICE;
}

void attnrt_cuda_time_kernels(bool enable) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.timing = enable;
}

double attnrt_cuda_kernel_ms(int64_t *launches) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  double ms = s.kernelMs;
  if (launches)
    *launches = s.kernelLaunches;
  s.kernelMs = 0;
  s.kernelLaunches = 0;
  return ms;
}

} // extern "C"
