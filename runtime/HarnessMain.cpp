//===- HarnessMain.cpp - Generic main of generated executables ------------===//
//
// The `main` linked into every executable that attnc builds. It runs the
// model the executable names `attn_main_model`, a typed table of the model's
// tensors (see AttnModel.h): it checks the table, parses the command line,
// loads or generates the inputs, checks lengths and segment ids, maps the
// weights from safetensors files (or makes random ones), calls the model's
// `run`, and reports timing, memory and output statistics. Run a generated
// program with --help for the options.
//
// Exit status: 0 on success, 1 on I/O, input or weight data errors and on a
// failed run, 2 on usage errors and on a malformed model table (an internal
// error of the compiler).
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"
#include "runtime/HarnessModel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

extern "C" const attn_model_info attn_main_model;

namespace {

using namespace attn::harness;

constexpr int kExitIO = 1;
constexpr int kExitUsage = 2;
constexpr int32_t kMaxThreads = 1024;
constexpr uint64_t kMaxBench = 1000000000;

struct Options {
  std::vector<std::pair<std::string, std::string>> inputFiles; // name, path
  std::vector<std::string> weightFiles;
  std::string output, saveInputs, saveWeights;
  uint64_t seed = 0;
  int32_t threads = 0; // 0: the runtime's default
  uint64_t bench = 0;
  bool quiet = false, help = false;
};

/// Owns the runtime tensors of one run, in table order (weights from files
/// stay empty: their data lies in `files`).
struct Tensors {
  std::vector<attnrt_tensor> list;
  attnrt_weights *files = nullptr;
  explicit Tensors(size_t count) : list(count, attnrt_tensor{}) {}
  ~Tensors() {
    for (attnrt_tensor &t : list)
      attnrt_tensor_free(&t);
    attnrt_weights_close(files);
  }
};

/// Parses a decimal integer in [0, max] (digits only, no sign or spaces).
bool parseUInt(const std::string &text, uint64_t max, uint64_t &out) {
  if (text.empty() || text.size() > 20)
    return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || out > (max - uint64_t(c - '0')) / 10)
      return false;
    out = out * 10 + uint64_t(c - '0');
  }
  return true;
}

/// `digits` significant digits, without an exponent for large values.
std::string formatNumber(double value, int digits = 3) {
  if (std::fabs(value) >= std::pow(10.0, digits))
    return fmt::format("{:.0f}", value);
  return fmt::format("{:.{}g}", value, digits);
}

/// Seconds as milliseconds with four significant digits.
std::string formatMs(double seconds) { return formatNumber(seconds * 1e3, 4); }

std::string plural(size_t count, const char *noun) {
  return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

/// Column widths of the tensor listing: the longest name, type and (inputs
/// only) content kind.
struct Layout {
  size_t nameWidth = 0, typeWidth = 0, contentWidth = 0;

  explicit Layout(const Model &model) {
    for (const TensorSpec &spec : model.tensors) {
      nameWidth = std::max(nameWidth, spec.name.size());
      typeWidth = std::max(typeWidth, typeString(spec).size());
      contentWidth = std::max(contentWidth, contentString(spec).size());
    }
  }

  /// "  input  lens  i32[2]  lengths <= 512  random (full lengths)"; `info`
  /// may be empty.
  void print(const TensorSpec &spec, const std::string &info) const {
    std::string line =
        fmt::format("  {:<6} {:<{}}  {:<{}}", roleName(spec.role), spec.name,
                    nameWidth, typeString(spec), typeWidth);
    if (contentWidth)
      line += fmt::format("  {:<{}}", contentString(spec), contentWidth);
    line += "  " + info;
    line.erase(line.find_last_not_of(' ') + 1);
    fmt::print("{}\n", line);
  }
};

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

void printHelp(const char *program, const Model &model) {
  fmt::print("usage: {} [options]\n\n"
             "Runs the attention model '{}' compiled by attnc ({} GFLOP per "
             "run).\n\ntensors:\n",
             program, model.name, formatNumber(double(model.flops) * 1e-9));
  const Layout layout(model);
  for (const TensorSpec &spec : model.tensors)
    layout.print(spec, "");
  fmt::print(
      "\noptions:\n"
      "  --input NAME=FILE.npy  read input NAME from a C-order .npy file of\n"
      "                         its dtype ('<f4' for f32, '<f2' for f16,\n"
      "                         '<u2' holding the bits for bf16, '<i4' for\n"
      "                         i32, '<i8' for i64; repeatable); other\n"
      "                         inputs get seeded random values: data\n"
      "                         uniform in [-1, 1) (rounded for f16/bf16),\n"
      "                         lengths\n"
      "                         equal to their bound, segment ids with {} to\n"
      "                         {} segments per row, token ids uniform below\n"
      "                         the vocabulary size\n"
      "  --output PATH          write the outputs: to PATH if it ends in .npy\n"
      "                         and the model has one output, else to\n"
      "                         PATH/<name>.npy (the directory is created)\n"
      "  --save-inputs DIR      write every input used to DIR/<name>.npy\n"
      "  --weights PATH         read the weights from a .safetensors file, a\n"
      "                         sharded model.safetensors.index.json or a\n"
      "                         folder (its index, else all its .safetensors\n"
      "                         files; repeatable): each by its name, else\n"
      "                         the one tensor named P.<name> for a prefix P\n"
      "                         such as 'model.', else <name> without its\n"
      "                         first component ('LayerNorm.gamma'/'.beta'\n"
      "                         stand for '.weight'/'.bias'); f16 and bf16\n"
      "                         are converted to f32. Without --weights,\n"
      "                         the weights embedded in the program (attnc\n"
      "                         --embed-weights) are used, if any; else\n"
      "                         weights get seeded random values: uniform in\n"
      "                         [-s, s) with s = 1/sqrt(last dim) for rank\n"
      "                         >= 2, in [0.5, 1.5) for rank <= 1\n"
      "  --save-weights FILE    write every weight used to FILE as an f32\n"
      "                         .safetensors file\n"
      "  --seed N               seed of the random inputs and weights\n"
      "                         (default 0); input i (0-based) uses\n"
      "                         generator seed N*1000003+i, weight j seed\n"
      "                         N*1000003+500000+j\n"
      "  --threads N            threads, 1 to {} (default: all CPUs, here {})\n"
      "  --bench N              after the first (warm-up) run, time N more\n"
      "                         runs and report the median and minimum\n"
      "  --quiet                print nothing but errors and warnings\n"
      "  --help                 print this help\n"
      "\nValues may be given as '--flag value' or '--flag=value'. Lengths\n"
      "must lie in [0, bound], token ids in [0, vocabulary size), and\n"
      "segment ids must not decrease along the last dimension. f32 outputs\n"
      "are filled with NaN before the run, so elements the model does not\n"
      "write are reported as non-finite.\n"
      "Exit status: 0 success, 1 I/O, input or weight data error or failed\n"
      "run, 2 usage error.\n",
      kMinSegments, kMaxSegments,
      kMaxThreads, attnrt_get_num_threads());
}

/// Parses argv into `opts`; on failure returns false with `error` set.
bool parseOptions(int argc, char **argv, const Model &model, Options &opts,
                  std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h")
      arg = "--help";
    if (arg.compare(0, 2, "--") != 0 || arg.size() == 2) {
      error = fmt::format("unexpected argument '{}'", arg);
      return false;
    }
    std::string flag = arg.substr(2), value;
    const size_t eq = flag.find('=');
    const bool inlineValue = eq != std::string::npos;
    if (inlineValue) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    if (flag == "quiet" || flag == "help") {
      if (inlineValue) {
        error = fmt::format("option '--{}' takes no value", flag);
        return false;
      }
      (flag == "quiet" ? opts.quiet : opts.help) = true;
      continue;
    }
    if (flag != "input" && flag != "output" && flag != "save-inputs" &&
        flag != "weights" && flag != "save-weights" && flag != "seed" &&
        flag != "threads" && flag != "bench") {
      error = fmt::format("unknown option '--{}'", flag);
      return false;
    }
    if (!inlineValue) {
      if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
        error = fmt::format("option '--{}' needs a value", flag);
        return false;
      }
      value = argv[++i];
    }
    auto invalid = [&](const char *expected) {
      error = fmt::format("invalid --{} value '{}' (expected {})", flag, value,
                          expected);
      return false;
    };
    uint64_t number;
    if (flag == "seed") {
      if (!parseUInt(value, UINT64_MAX, opts.seed))
        return invalid("a non-negative integer");
    } else if (flag == "threads") {
      if (!parseUInt(value, kMaxThreads, number) || number == 0)
        return invalid("an integer from 1 to 1024");
      opts.threads = int32_t(number);
    } else if (flag == "bench") {
      if (!parseUInt(value, kMaxBench, opts.bench) || opts.bench == 0)
        return invalid("a positive integer");
    } else if (value.empty()) {
      return invalid("a path");
    } else if (flag == "output") {
      opts.output = value;
    } else if (flag == "save-inputs") {
      opts.saveInputs = value;
    } else if (flag == "weights") {
      opts.weightFiles.push_back(value);
    } else if (flag == "save-weights") {
      opts.saveWeights = value;
    } else {
      const size_t split = value.find('=');
      if (split == std::string::npos || split == 0 || split + 1 == value.size())
        return invalid("NAME=FILE.npy");
      std::string name = value.substr(0, split);
      bool known = false;
      std::vector<std::string> valid;
      for (size_t index : model.inputs) {
        known |= model.tensors[index].name == name;
        valid.push_back(model.tensors[index].name);
      }
      if (!known) {
        error = fmt::format("unknown input '{}' (the model's inputs are: {})",
                            name, fmt::join(valid, ", "));
        return false;
      }
      for (const auto &given : opts.inputFiles)
        if (given.first == name) {
          error = fmt::format("input '{}' is given twice", name);
          return false;
        }
      opts.inputFiles.emplace_back(name, value.substr(split + 1));
    }
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Files and statistics
//===----------------------------------------------------------------------===//

/// Creates `path` and its missing parents (like mkdir -p).
bool makeDirs(const std::string &path, std::string &error) {
  for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    struct stat info;
    if (mkdir(prefix.c_str(), 0777) != 0 &&
        !(errno == EEXIST && stat(prefix.c_str(), &info) == 0 &&
          S_ISDIR(info.st_mode))) {
      error = fmt::format("cannot create directory '{}': {}", prefix,
                          strerror(errno));
      return false;
    }
    if (end == std::string::npos)
      return true;
  }
}

bool saveTensor(const std::string &path, const attnrt_tensor &t) {
  char err[512];
  if (attnrt_npy_save(path.c_str(), &t, err, sizeof(err)) == ATTNRT_OK)
    return true;
  fmt::print(stderr, "error: {}\n", err);
  return false;
}

/// f32, f16 and bf16: "mean .. std .. min .. max .." over the finite values,
/// counting the others; i32 and i64: "min .. max ..".
std::string describeValues(const attnrt_tensor &t, int64_t &nonFinite) {
  const int64_t numel = attnrt_tensor_numel(&t);
  nonFinite = 0;
  if (numel == 0)
    return "empty";
  auto integerRange = [&](const auto *data) {
    const auto [lo, hi] = std::minmax_element(data, data + numel);
    return fmt::format("min {}  max {}", *lo, *hi);
  };
  if (t.dtype == ATTN_DTYPE_I32)
    return integerRange(static_cast<const int32_t *>(t.data));
  if (t.dtype == ATTN_DTYPE_I64)
    return integerRange(static_cast<const int64_t *>(t.data));
  std::vector<float> widened;
  const float *data = static_cast<const float *>(t.data);
  if (t.dtype != ATTN_DTYPE_F32) {
    widened.resize(static_cast<size_t>(numel));
    attnrt_to_f32(widened.data(), t.data, t.dtype, numel);
    data = widened.data();
  }
  double sum = 0, sumSq = 0;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int64_t i = 0; i < numel; ++i) {
    const float x = data[i];
    if (!std::isfinite(x)) {
      ++nonFinite;
      continue;
    }
    sum += x;
    sumSq += double(x) * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const int64_t finite = numel - nonFinite;
  if (finite == 0)
    return "no finite values";
  const double mean = sum / double(finite);
  const double var = std::max(0.0, sumSq / double(finite) - mean * mean);
  return fmt::format("mean {}  std {}  min {}  max {}", formatNumber(mean),
                     formatNumber(std::sqrt(var)), formatNumber(lo),
                     formatNumber(hi));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid]
                           : 0.5 * (values[mid - 1] + values[mid]);
}

double gflops(const Model &model, double seconds) {
  return seconds > 0 ? double(model.flops) * 1e-9 / seconds : 0;
}

} // namespace

int main(int argc, char **argv) {
  Model model;
  std::string error;
  if (!readModel(attn_main_model, model, error)) {
    fmt::print(stderr, "error: internal error: malformed model table: {}\n",
               error);
    return kExitUsage;
  }
  Options opts;
  if (!parseOptions(argc, argv, model, opts, error)) {
    fmt::print(stderr, "error: {}\n(run '{} --help' for usage)\n", error,
               argv[0]);
    return kExitUsage;
  }
  if (opts.help) {
    printHelp(argv[0], model);
    return 0;
  }
  if (opts.threads)
    attnrt_set_num_threads(opts.threads);

  // Inputs (from files or random, then checked), weights (from files or
  // random), then outputs (f32: NaN).
  Tensors tensors(model.tensors.size());
  std::vector<void *> buffers(model.tensors.size());
  std::vector<std::string> sources; // inputs, then weights
  for (size_t i = 0; i < model.inputs.size(); ++i) {
    const TensorSpec &spec = model.tensors[model.inputs[i]];
    attnrt_tensor &t = tensors.list[model.inputs[i]];
    auto given = std::find_if(
        opts.inputFiles.begin(), opts.inputFiles.end(),
        [&](const auto &entry) { return entry.first == spec.name; });
    if (given != opts.inputFiles.end()) {
      if (!loadInput(spec, given->second, t))
        return kExitIO;
      sources.push_back("from " + given->second);
    } else {
      if (!allocate(spec, t))
        return kExitIO;
      sources.push_back(
          fillRandom(spec, t, attnrt_input_seed(opts.seed, int64_t(i)), opts.seed));
    }
    if (!validateInput(spec, t))
      return kExitIO;
    buffers[model.inputs[i]] = t.data;
  }
  if (!makeWeights(model, opts.weightFiles, opts.seed, tensors.list,
                   tensors.files, buffers, sources))
    return kExitIO;
  for (size_t index : model.outputs) {
    attnrt_tensor &t = tensors.list[index];
    if (!allocate(model.tensors[index], t))
      return kExitIO;
    // NaN until written, so that an output the model fails to write shows.
    if (t.dtype == ATTN_DTYPE_F32)
      std::fill_n(static_cast<float *>(t.data), attnrt_tensor_numel(&t),
                  std::nanf(""));
    else if (t.dtype == ATTN_DTYPE_F16 || t.dtype == ATTN_DTYPE_BF16)
      std::fill_n(static_cast<uint16_t *>(t.data), attnrt_tensor_numel(&t),
                  uint16_t(t.dtype == ATTN_DTYPE_F16 ? 0x7E00 : 0x7FC0));
    buffers[index] = t.data;
  }
  int64_t tensorBytes = 0;
  for (const TensorSpec &spec : model.tensors) {
    int64_t numel = 1;
    for (int64_t dim : spec.shape)
      numel *= dim;
    tensorBytes += numel * attnrt_dtype_size(spec.dtype);
  }

  if (!opts.saveInputs.empty()) {
    if (!makeDirs(opts.saveInputs, error)) {
      fmt::print(stderr, "error: {}\n", error);
      return kExitIO;
    }
    for (size_t index : model.inputs)
      if (!saveTensor(opts.saveInputs + "/" + model.tensors[index].name +
                          ".npy",
                      tensors.list[index]))
        return kExitIO;
  }
  if (!opts.saveWeights.empty() &&
      !saveWeights(opts.saveWeights, model, buffers))
    return kExitIO;

  const Layout layout(model);
  if (!opts.quiet) {
    const std::string weights =
        model.weights.empty() ? ""
                              : ", " + plural(model.weights.size(), "weight");
    fmt::print("model {}: {}{}, {}, {} GFLOP/run, {}\n", model.name,
               plural(model.inputs.size(), "input"), weights,
               plural(model.outputs.size(), "output"),
               formatNumber(double(model.flops) * 1e-9),
               plural(size_t(attnrt_get_num_threads()), "thread"));
    for (size_t i = 0; i < model.inputs.size(); ++i)
      layout.print(model.tensors[model.inputs[i]], sources[i]);
    for (size_t j = 0; j < model.weights.size(); ++j)
      layout.print(model.tensors[model.weights[j]],
                   sources[model.inputs.size() + j]);
    fflush(stdout);
  }

  // The first run doubles as the warm-up of --bench. A cuda-target model's
  // kernels are also timed on the GPU (CUDA events), without the copies.
  attnrt_cuda_time_kernels(true);
  std::vector<double> kernelTimes;
  auto timeRun = [&](double &seconds) {
    const double start = attnrt_now_seconds();
    const int32_t status = model.run(buffers.data());
    seconds = attnrt_now_seconds() - start;
    int64_t launches = 0;
    const double kernelMs = attnrt_cuda_kernel_ms(&launches);
    if (launches)
      kernelTimes.push_back(kernelMs * 1e-3);
    if (status == ATTNRT_ERROR_DEVICE)
      fmt::print(stderr, "error: model run failed: GPU error: {}\n",
                 attnrt_cuda_error());
    else if (status != ATTNRT_OK)
      fmt::print(stderr, "error: model run failed: {}\n",
                 attnrt_status_string(attnrt_status(status)));
    return status == ATTNRT_OK;
  };
  double first;
  if (!timeRun(first))
    return kExitIO;
  kernelTimes.clear(); // the warm-up's include the driver's PTX compilation
  std::vector<double> times;
  for (uint64_t i = 0; i < opts.bench; ++i) {
    double seconds;
    if (!timeRun(seconds))
      return kExitIO;
    times.push_back(seconds);
  }
  const double reported = times.empty() ? first : median(times);

  for (size_t index : model.outputs) {
    int64_t nonFinite;
    const std::string stats = describeValues(tensors.list[index], nonFinite);
    if (!opts.quiet)
      layout.print(model.tensors[index], stats);
    if (nonFinite)
      fmt::print(stderr, "warning: output '{}' contains {} non-finite values\n",
                 model.tensors[index].name, nonFinite);
  }

  if (!opts.output.empty()) {
    const std::string &path = opts.output;
    const bool singleFile = model.outputs.size() == 1 && path.size() > 4 &&
                            path.compare(path.size() - 4, 4, ".npy") == 0;
    if (!singleFile && !makeDirs(path, error)) {
      fmt::print(stderr, "error: {}\n", error);
      return kExitIO;
    }
    for (size_t index : model.outputs)
      if (!saveTensor(singleFile
                          ? path
                          : path + "/" + model.tensors[index].name + ".npy",
                      tensors.list[index]))
        return kExitIO;
  }

  if (opts.quiet)
    return 0;
  const int64_t peakRss = attnrt_peak_rss_bytes();
  const double mib = 1.0 / (1024 * 1024);
  fmt::print("time: {} ms ({} GFLOP/s), peak RSS {:.1f} MiB (tensors {:.1f} "
             "MiB)\n",
             formatMs(first), formatNumber(gflops(model, first)),
             double(peakRss) * mib, double(tensorBytes) * mib);
  if (!times.empty())
    fmt::print("bench: {}, median {} ms, min {} ms, {} GFLOP/s (median)\n",
               plural(times.size(), "run"), formatMs(reported),
               formatMs(*std::min_element(times.begin(), times.end())),
               formatNumber(gflops(model, reported)));
  if (!kernelTimes.empty())
    fmt::print("gpu kernels: median {} ms per run, {} GFLOP/s (CUDA events; "
               "the times above include the host-device copies)\n",
               formatMs(median(kernelTimes)),
               formatNumber(gflops(model, median(kernelTimes))));
  fmt::print("summary: ms={:.6g} gflops={:.6g} peak_rss_bytes={} "
             "tensor_bytes={}\n",
             reported * 1e3, gflops(model, reported), peakRss, tensorBytes);
  return 0;
}
