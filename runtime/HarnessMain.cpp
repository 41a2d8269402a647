//===- HarnessMain.cpp - Generic main of generated executables ------------===//
//
// The `main` linked into every executable that attnc builds. It reads the
// model's signature text (see AttnRuntime.h) from the generated object,
// parses the command line, loads or generates the inputs, calls
// attn_model_run, and reports timing, memory and output statistics. Run a
// generated program with --help for the options.
//
// Exit status: 0 on success, 1 on I/O or input data errors, 2 on usage
// errors and on a malformed signature (an internal error of the compiler).
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

extern "C" const char attn_model_signature[];
extern "C" void attn_model_run(void **buffers);

namespace {

constexpr int kExitIO = 1;
constexpr int kExitUsage = 2;
/// Input i of a run with --seed N is filled from seed N * kSeedStride + i.
constexpr uint64_t kSeedStride = 1000003;
constexpr int32_t kMaxThreads = 1024;
constexpr uint64_t kMaxBench = 1000000000;

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

struct Signature {
  std::string name;
  uint64_t flops = 0;
  std::vector<TensorSpec> inputs, outputs;
};

struct Options {
  std::vector<std::pair<std::string, std::string>> inputFiles; // name, path
  std::string output, saveInputs;
  uint64_t seed = 0;
  int32_t threads = 0; // 0: the runtime's default
  uint64_t bench = 0;
  bool quiet = false, help = false;
};

/// Owns the runtime tensors of one run: inputs, then outputs.
struct Tensors {
  std::vector<attnrt_tensor> list;
  ~Tensors() {
    for (attnrt_tensor &t : list)
      attnrt_tensor_free(&t);
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

std::string shapeString(const int64_t *shape, size_t rank) {
  std::string text = "[";
  for (size_t i = 0; i < rank; ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string shapeString(const TensorSpec &spec) {
  return shapeString(spec.shape.data(), spec.shape.size());
}

/// `digits` significant digits, without an exponent for large values.
std::string formatNumber(double value, int digits = 3) {
  char buffer[64];
  if (std::fabs(value) >= std::pow(10.0, digits))
    snprintf(buffer, sizeof(buffer), "%.0f", value);
  else
    snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

/// Seconds as milliseconds with four significant digits.
std::string formatMs(double seconds) { return formatNumber(seconds * 1e3, 4); }

std::string plural(size_t count, const char *noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

//===----------------------------------------------------------------------===//
// Signature
//===----------------------------------------------------------------------===//

bool parseSignature(const char *text, Signature &sig, std::string &error) {
  std::istringstream lines(text);
  std::string line;
  bool sawHeader = false, sawName = false, sawFlops = false;
  for (int lineNo = 1; std::getline(lines, line); ++lineNo) {
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string word; words >> word;)
      tokens.push_back(word);
    if (tokens.empty())
      continue;
    auto bad = [&](const std::string &what) {
      error =
          "line " + std::to_string(lineNo) + ": " + what + " in '" + line + "'";
      return false;
    };
    const std::string &key = tokens[0];
    if (!sawHeader) {
      if (tokens.size() != 2 || key != "attnc-model" || tokens[1] != "1")
        return bad("expected the header 'attnc-model 1'");
      sawHeader = true;
    } else if (key == "name" && tokens.size() == 2 && !sawName) {
      sig.name = tokens[1];
      sawName = true;
    } else if (key == "flops" && tokens.size() == 2 && !sawFlops) {
      if (!parseUInt(tokens[1], UINT64_MAX, sig.flops))
        return bad("invalid FLOP count");
      sawFlops = true;
    } else if ((key == "input" || key == "output") && tokens.size() >= 3) {
      if (tokens[2] != "f32")
        return bad("unsupported element type '" + tokens[2] + "'");
      if (tokens.size() - 3 > ATTNRT_MAX_RANK)
        return bad("rank above " + std::to_string(ATTNRT_MAX_RANK));
      TensorSpec spec{tokens[1], {}};
      for (size_t i = 3; i < tokens.size(); ++i) {
        uint64_t dim;
        if (!parseUInt(tokens[i], INT64_MAX, dim))
          return bad("invalid dimension '" + tokens[i] + "'");
        spec.shape.push_back(int64_t(dim));
      }
      for (const auto *list : {&sig.inputs, &sig.outputs})
        for (const TensorSpec &other : *list)
          if (other.name == spec.name)
            return bad("duplicate tensor name '" + spec.name + "'");
      (key == "input" ? sig.inputs : sig.outputs).push_back(std::move(spec));
    } else {
      return bad("unexpected line");
    }
  }
  if (!sawHeader || !sawName || !sawFlops || sig.outputs.empty())
    error = "missing header, name, flops or outputs";
  return error.empty();
}

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

void printHelp(const char *program, const Signature &sig) {
  printf(
      "usage: %s [options]\n\n"
      "Runs the attention model '%s' compiled by attnc (%s GFLOP per run).\n",
      program, sig.name.c_str(),
      formatNumber(double(sig.flops) * 1e-9).c_str());
  for (const auto &[title, list] : {std::make_pair("inputs", &sig.inputs),
                                    std::make_pair("outputs", &sig.outputs)}) {
    printf("\n%s (f32):\n", title);
    for (const TensorSpec &spec : *list)
      printf("  %-12s %s\n", spec.name.c_str(), shapeString(spec).c_str());
  }
  printf(
      "\noptions:\n"
      "  --input NAME=FILE.npy  read input NAME from a C-order float32 .npy\n"
      "                         file (repeatable); other inputs get seeded\n"
      "                         random data, uniform in [-1, 1)\n"
      "  --output PATH          write the outputs: to PATH if it ends in .npy\n"
      "                         and the model has one output, else to\n"
      "                         PATH/<name>.npy (the directory is created)\n"
      "  --save-inputs DIR      write every input used to DIR/<name>.npy\n"
      "  --seed N               seed of the random inputs (default 0); input "
      "i\n"
      "                         (0-based) uses generator seed N*%llu+i\n"
      "  --threads N            threads, 1 to %d (default: all CPUs, here %d)\n"
      "  --bench N              after the first (warm-up) run, time N more\n"
      "                         runs and report the median and minimum\n"
      "  --quiet                print nothing but errors and warnings\n"
      "  --help                 print this help\n"
      "\nValues may be given as '--flag value' or '--flag=value'. Outputs are\n"
      "filled with NaN before the run, so elements the model does not write\n"
      "are reported as non-finite.\n"
      "Exit status: 0 success, 1 I/O or input data error, 2 usage error.\n",
      (unsigned long long)kSeedStride, kMaxThreads, attnrt_get_num_threads());
}

/// Parses argv into `opts`; on failure returns false with `error` set.
bool parseOptions(int argc, char **argv, const Signature &sig, Options &opts,
                  std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h")
      arg = "--help";
    if (arg.compare(0, 2, "--") != 0 || arg.size() == 2) {
      error = "unexpected argument '" + arg + "'";
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
        error = "option '--" + flag + "' takes no value";
        return false;
      }
      (flag == "quiet" ? opts.quiet : opts.help) = true;
      continue;
    }
    if (flag != "input" && flag != "output" && flag != "save-inputs" &&
        flag != "seed" && flag != "threads" && flag != "bench") {
      error = "unknown option '--" + flag + "'";
      return false;
    }
    if (!inlineValue) {
      if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
        error = "option '--" + flag + "' needs a value";
        return false;
      }
      value = argv[++i];
    }
    auto invalid = [&](const char *expected) {
      error = "invalid --" + flag + " value '" + value + "' (expected " +
              expected + ")";
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
    } else {
      const size_t split = value.find('=');
      if (split == std::string::npos || split == 0 || split + 1 == value.size())
        return invalid("NAME=FILE.npy");
      std::string name = value.substr(0, split);
      bool known = false;
      std::string valid;
      for (const TensorSpec &spec : sig.inputs) {
        known |= spec.name == name;
        valid += (valid.empty() ? "" : ", ") + spec.name;
      }
      if (!known) {
        error = "unknown input '" + name +
                "' (the model's inputs are: " + valid + ")";
        return false;
      }
      for (const auto &given : opts.inputFiles)
        if (given.first == name) {
          error = "input '" + name + "' is given twice";
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
      error = "cannot create directory '" + prefix + "': " + strerror(errno);
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
  fprintf(stderr, "error: %s\n", err);
  return false;
}

/// Loads input `spec` from `path` into `t`, checking the shape.
bool loadInput(const TensorSpec &spec, const std::string &path,
               attnrt_tensor &t) {
  char err[512];
  if (attnrt_npy_load(path.c_str(), &t, err, sizeof(err)) != ATTNRT_OK) {
    fprintf(stderr, "error: input '%s': %s\n", spec.name.c_str(), err);
    return false;
  }
  if (std::equal(spec.shape.begin(), spec.shape.end(), t.shape,
                 t.shape + t.rank))
    return true;
  fprintf(
      stderr, "error: input '%s': %s has shape %s but the model expects %s\n",
      spec.name.c_str(), path.c_str(),
      shapeString(t.shape, size_t(t.rank)).c_str(), shapeString(spec).c_str());
  attnrt_tensor_free(&t);
  return false;
}

/// "mean .. std .. min .. max .." over the finite values; counts the others.
std::string describeValues(const attnrt_tensor &t, int64_t &nonFinite) {
  double sum = 0, sumSq = 0;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  const int64_t numel = attnrt_tensor_numel(&t);
  nonFinite = 0;
  for (int64_t i = 0; i < numel; ++i) {
    const float x = t.data[i];
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
    return numel ? "no finite values" : "empty";
  const double mean = sum / double(finite);
  const double var = std::max(0.0, sumSq / double(finite) - mean * mean);
  return "mean " + formatNumber(mean) + "  std " +
         formatNumber(std::sqrt(var)) + "  min " + formatNumber(lo) + "  max " +
         formatNumber(hi);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid]
                           : 0.5 * (values[mid - 1] + values[mid]);
}

double gflops(const Signature &sig, double seconds) {
  return seconds > 0 ? double(sig.flops) * 1e-9 / seconds : 0;
}

/// Allocates `t` with the shape of `spec`; `kind` names it in errors.
bool allocate(const TensorSpec &spec, const char *kind, attnrt_tensor &t) {
  if (attnrt_tensor_alloc(&t, int64_t(spec.shape.size()), spec.shape.data()) ==
      ATTNRT_OK)
    return true;
  fprintf(stderr, "error: cannot allocate %s '%s' of shape %s\n", kind,
          spec.name.c_str(), shapeString(spec).c_str());
  return false;
}

} // namespace

int main(int argc, char **argv) {
  Signature sig;
  std::string error;
  if (!parseSignature(attn_model_signature, sig, error)) {
    fprintf(stderr, "error: internal error: malformed model signature: %s\n",
            error.c_str());
    return kExitUsage;
  }
  Options opts;
  if (!parseOptions(argc, argv, sig, opts, error)) {
    fprintf(stderr, "error: %s\n(run '%s --help' for usage)\n", error.c_str(),
            argv[0]);
    return kExitUsage;
  }
  if (opts.help) {
    printHelp(argv[0], sig);
    return 0;
  }
  if (opts.threads)
    attnrt_set_num_threads(opts.threads);

  // Inputs (from files or random), then outputs (NaN).
  Tensors tensors;
  std::vector<std::string> sources;
  const size_t numInputs = sig.inputs.size();
  for (size_t i = 0; i < numInputs; ++i) {
    const TensorSpec &spec = sig.inputs[i];
    attnrt_tensor t;
    auto given = std::find_if(
        opts.inputFiles.begin(), opts.inputFiles.end(),
        [&](const auto &entry) { return entry.first == spec.name; });
    if (given != opts.inputFiles.end()) {
      if (!loadInput(spec, given->second, t))
        return kExitIO;
      sources.push_back("from " + given->second);
    } else {
      if (!allocate(spec, "input", t))
        return kExitIO;
      attnrt_fill_random(t.data, attnrt_tensor_numel(&t),
                         opts.seed * kSeedStride + i);
      sources.push_back("random (seed " + std::to_string(opts.seed) + ")");
    }
    tensors.list.push_back(t);
  }
  for (const TensorSpec &spec : sig.outputs) {
    attnrt_tensor t;
    if (!allocate(spec, "output", t))
      return kExitIO;
    std::fill(t.data, t.data + attnrt_tensor_numel(&t), std::nanf(""));
    tensors.list.push_back(t);
  }
  std::vector<void *> buffers;
  int64_t tensorBytes = 0;
  for (attnrt_tensor &t : tensors.list) {
    buffers.push_back(t.data);
    tensorBytes += attnrt_tensor_numel(&t) * int64_t(sizeof(float));
  }

  if (!opts.saveInputs.empty()) {
    if (!makeDirs(opts.saveInputs, error)) {
      fprintf(stderr, "error: %s\n", error.c_str());
      return kExitIO;
    }
    for (size_t i = 0; i < numInputs; ++i)
      if (!saveTensor(opts.saveInputs + "/" + sig.inputs[i].name + ".npy",
                      tensors.list[i]))
        return kExitIO;
  }

  // Tensor lines are aligned on the longest name and shape.
  size_t nameWidth = 0, shapeWidth = 0;
  for (const auto *list : {&sig.inputs, &sig.outputs})
    for (const TensorSpec &spec : *list) {
      nameWidth = std::max(nameWidth, spec.name.size());
      shapeWidth = std::max(shapeWidth, shapeString(spec).size());
    }
  auto printTensor = [&](const char *kind, const TensorSpec &spec,
                         const std::string &info) {
    printf("  %-6s %-*s  %-*s  %s\n", kind, int(nameWidth), spec.name.c_str(),
           int(shapeWidth), shapeString(spec).c_str(), info.c_str());
  };
  if (!opts.quiet) {
    printf("model %s: %s, %s, %s GFLOP/run, %s\n", sig.name.c_str(),
           plural(numInputs, "input").c_str(),
           plural(sig.outputs.size(), "output").c_str(),
           formatNumber(double(sig.flops) * 1e-9).c_str(),
           plural(size_t(attnrt_get_num_threads()), "thread").c_str());
    for (size_t i = 0; i < numInputs; ++i)
      printTensor("input", sig.inputs[i], sources[i]);
    fflush(stdout);
  }

  // The first run doubles as the warm-up of --bench.
  auto timeRun = [&] {
    const double start = attnrt_now_seconds();
    attn_model_run(buffers.data());
    return attnrt_now_seconds() - start;
  };
  const double first = timeRun();
  std::vector<double> times;
  for (uint64_t i = 0; i < opts.bench; ++i)
    times.push_back(timeRun());
  const double reported = times.empty() ? first : median(times);

  for (size_t i = 0; i < sig.outputs.size(); ++i) {
    int64_t nonFinite;
    std::string stats = describeValues(tensors.list[numInputs + i], nonFinite);
    if (!opts.quiet)
      printTensor("output", sig.outputs[i], stats);
    if (nonFinite)
      fprintf(stderr, "warning: output '%s' contains %lld non-finite values\n",
              sig.outputs[i].name.c_str(), (long long)nonFinite);
  }

  if (!opts.output.empty()) {
    const std::string &path = opts.output;
    const bool singleFile = sig.outputs.size() == 1 && path.size() > 4 &&
                            path.compare(path.size() - 4, 4, ".npy") == 0;
    if (!singleFile && !makeDirs(path, error)) {
      fprintf(stderr, "error: %s\n", error.c_str());
      return kExitIO;
    }
    for (size_t i = 0; i < sig.outputs.size(); ++i)
      if (!saveTensor(singleFile ? path
                                 : path + "/" + sig.outputs[i].name + ".npy",
                      tensors.list[numInputs + i]))
        return kExitIO;
  }

  if (opts.quiet)
    return 0;
  const int64_t peakRss = attnrt_peak_rss_bytes();
  const double mib = 1.0 / (1024 * 1024);
  printf("time: %s ms (%s GFLOP/s), peak RSS %.1f MiB (tensors %.1f MiB)\n",
         formatMs(first).c_str(), formatNumber(gflops(sig, first)).c_str(),
         double(peakRss) * mib, double(tensorBytes) * mib);
  if (!times.empty())
    printf("bench: %s, median %s ms, min %s ms, %s GFLOP/s (median)\n",
           plural(times.size(), "run").c_str(), formatMs(reported).c_str(),
           formatMs(*std::min_element(times.begin(), times.end())).c_str(),
           formatNumber(gflops(sig, reported)).c_str());
  printf("summary: ms=%.6g gflops=%.6g peak_rss_bytes=%lld tensor_bytes=%lld\n",
         reported * 1e3, gflops(sig, reported), (long long)peakRss,
         (long long)tensorBytes);
  return 0;
}
