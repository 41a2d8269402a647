//===- Tuner.cpp - measure schedules on this machine (attnc --tune) -------===//
//
// Per distinct attention problem, a coordinate descent over the axes of
// tuningVariants() (ScheduleHeuristics.h), starting from the heuristic's
// schedule: each axis's variants of the best schedule so far are compiled
// (the op alone in a module whose public function takes its operands, so
// the generated program makes random inputs of the right kinds) and timed
// with the program's own `--bench` (the median of N runs after a warm-up,
// N chosen so that a measurement takes about 0.3 s). At the end the best
// schedule and the heuristic's are timed again, alternately, three rounds
// each; the best is kept only if its median beats the heuristic's by 2 %,
// so noise alone does not replace the heuristic.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/Tuner.h"
#include "dialect/AttnOps.h"
#include "passes/Passes.h"
#include "passes/TuningFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>

namespace mlir::attn {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// One attention problem: the op alone in a module, compiled and timed
/// with candidate schedules in a scratch folder.
class OpTuner {
public:
  OpTuner(Operation *op, const CompileOptions &options, std::string folder)
      : options(options), folder(std::move(folder)) {
    OpBuilder b(op->getContext());
    Location loc = op->getLoc();
    module = ModuleOp::create(loc);
    b.setInsertionPointToEnd(module->getBody());
    llvm::SetVector<Value> operands(op->getOperands().begin(),
                                    op->getOperands().end());
    SmallVector<Type> types;
    for (Value v : operands)
      types.push_back(v.getType());
    auto func = func::FuncOp::create(
        b, loc, "tune", b.getFunctionType(types, op->getResultTypes()));
    Block *body = func.addEntryBlock();
    b.setInsertionPointToEnd(body);
    IRMapping map;
    map.map(operands.getArrayRef(), body->getArguments());
    Operation *clone = b.clone(*op, map);
    clone->removeAttr("schedule");
    func::ReturnOp::create(b, loc, clone->getResults());
  }

  ScheduledOpInterface op() {
    ScheduledOpInterface found;
    module->walk([&](ScheduledOpInterface s) { found = s; });
    return found;
  }

  /// The median ms of `runs` timed runs of `params`, or nullopt when the
  /// schedule does not fit the op or the program fails.
  std::optional<double> measure(const ScheduleParams &params, int runs) {
    ScheduledOpInterface target = op();
    ScopedDiagnosticHandler quiet(module->getContext(),
                                  [](Diagnostic &) { return success(); });
    ScheduleAttr schedule = getScheduleAttr(
        [&] { return target->emitError(); }, target->getContext(), params);
    if (!schedule)
      return std::nullopt;
    target->setAttr("schedule", schedule);
    if (failed(verify(target)))
      return std::nullopt;
    std::string key = formatSchedule(params);
    auto [it, fresh] = executables.try_emplace(key, "");
    if (fresh) {
      std::string exe = folder + "/candidate-" +
                        std::to_string(executables.size());
      OwningOpRef<ModuleOp> copy = module->clone();
      CompileOptions o = options;
      o.emit = EmitPhase::Exe;
      o.outputPath = exe;
      o.report = o.verbose = o.printIRAfterAll = false;
      o.schedule.clear();
      o.tuningFile.clear();
      o.prefix.clear();
      o.embedWeights.clear();
      if (compileModule(*copy, o, "tune") != 0)
        return std::nullopt;
      it->second = exe;
    }
    if (it->second.empty())
      return std::nullopt;
    return run(it->second, runs);
  }

private:
  std::optional<double> run(const std::string &exe, int runs) {
    std::string out = folder + "/stdout.txt";
    std::vector<std::string> args{exe, "--bench", std::to_string(runs)};
    if (options.tuneThreads > 0) {
      args.push_back("--threads");
      args.push_back(std::to_string(options.tuneThreads));
    }
    SmallVector<llvm::StringRef> argv(args.begin(), args.end());
    std::optional<llvm::StringRef> redirects[] = {std::nullopt,
                                                  llvm::StringRef(out),
                                                  llvm::StringRef("")};
    if (llvm::sys::ExecuteAndWait(exe, argv, std::nullopt, redirects) != 0)
      return std::nullopt;
    auto text = llvm::MemoryBuffer::getFile(out);
    if (!text)
      return std::nullopt;
    llvm::StringRef summary = (*text)->getBuffer();
    size_t at = summary.find("summary: ms=");
    if (at == llvm::StringRef::npos)
      return std::nullopt;
    double ms = 0;
    if (summary.substr(at + 12).split(' ').first.getAsDouble(ms))
      return std::nullopt;
    return ms;
  }

  const CompileOptions &options;
  std::string folder;
  OwningOpRef<ModuleOp> module;
  llvm::StringMap<std::string> executables; // schedule -> program ("": failed)
};

} // namespace

int tune(ModuleOp module, const CompileOptions &options,
         const TuneTarget &target) {
  // The file is updated: entries of other ops and targets stay.
  TuningFile file;
  if (llvm::sys::fs::exists(options.tuneFile)) {
    std::string error;
    std::optional<TuningFile> existing =
        TuningFile::load(options.tuneFile, error);
    if (!existing) {
      llvm::errs() << "attnc: error: " << error << "\n";
      return 1;
    }
    file = *existing;
  }
  // The distinct problems, in program order. Only attention is tuned.
  SmallVector<std::pair<std::string, Operation *>> problems;
  llvm::StringSet<> seen;
  module.walk([&](ScheduledOpInterface op) {
    std::string key = op.getTuningKey();
    if (!key.empty() && isa<SdpaOp>(op.getOperation()) &&
        seen.insert(key).second)
      problems.push_back({key, op.getOperation()});
  });
  if (problems.empty()) {
    llvm::errs() << "attnc: --tune: the model has no attention op to tune\n";
    return file.save(options.tuneFile).empty() ? 0 : 1;
  }
  llvm::SmallString<128> folder;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("attnc-tune", folder)) {
    llvm::errs() << "attnc: error: cannot create a scratch folder: "
                 << ec.message() << "\n";
    return 1;
  }
  auto start = Clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  int rc = 0;
  for (auto [index, problem] : llvm::enumerate(problems)) {
    auto [key, raw] = problem;
    double deadline =
        options.tuneBudget * double(index + 1) / double(problems.size());
    llvm::errs() << "attnc: tune " << index + 1 << "/" << problems.size()
                 << ": " << key << "\n";
    OpTuner tuner(raw, options, folder.str().str());
    ScheduledOpInterface op = tuner.op();
    if (failed(op.selectSchedule(target.cpu, ScheduleOverride{}))) {
      rc = 1;
      break;
    }
    ScheduleParams heuristic =
        getScheduleParams(cast<ScheduleAttr>(op.getSchedule()));
    AttentionProblem shape =
        getAttentionProblem(cast<AttentionOpInterface>(op.getOperation()));
    // Runs per measurement: about 0.3 s of them, from a first timing.
    std::optional<double> first = tuner.measure(heuristic, 3);
    if (!first) {
      llvm::errs() << "attnc: error: the heuristic's schedule did not "
                      "compile or run for "
                   << key << "\n";
      rc = 1;
      break;
    }
    int runs = std::clamp(int(300.0 / std::max(*first, 1e-3)), 3, 200);
    ScheduleParams best = heuristic;
    double bestMs = *first;
    int tried = 1;
    auto progress = [&](const ScheduleParams &p, std::optional<double> ms) {
      llvm::errs() << llvm::format("  [%3d, %5.1f s] ", tried, elapsed())
                   << formatSchedule(p) << ": "
                   << (ms ? llvm::formatv("{0:f3} ms", *ms).str()
                          : std::string("does not fit"))
                   << llvm::formatv(" (best {0:f3} ms)\n", bestMs);
    };
    progress(heuristic, first);
    for (int axis = 0; axis < kTuningAxes && elapsed() < deadline; ++axis)
      for (const ScheduleParams &p :
           tuningVariants(best, axis, shape, target.cpu)) {
        if (elapsed() >= deadline)
          break;
        ++tried;
        std::optional<double> ms = tuner.measure(p, runs);
        if (ms && *ms < bestMs) {
          bestMs = *ms;
          best = p;
        }
        progress(p, ms);
      }
    // Confirm against the heuristic, alternately.
    std::vector<double> bestTimes, heuristicTimes;
    for (int round = 0; round < 3; ++round) {
      if (std::optional<double> ms = tuner.measure(heuristic, runs))
        heuristicTimes.push_back(*ms);
      if (std::optional<double> ms = tuner.measure(best, runs))
        bestTimes.push_back(*ms);
    }
    double heuristicMs = heuristicTimes.empty() ? *first : median(heuristicTimes);
    bestMs = bestTimes.empty() ? bestMs : median(bestTimes);
    if (bestMs > 0.98 * heuristicMs) {
      best = heuristic;
      bestMs = heuristicMs;
    }
    llvm::errs() << llvm::formatv(
        "  best of {0}: {1} ({2:f3} ms, heuristic {3:f3} ms, {4:f2}x)\n",
        tried, formatSchedule(best), bestMs, heuristicMs,
        heuristicMs / bestMs);
    file.set({target.name, key, formatSchedule(best), bestMs, heuristicMs});
  }
  llvm::sys::fs::remove_directories(folder);
  if (rc)
    return rc;
  std::string error = file.save(options.tuneFile);
  if (!error.empty()) {
    llvm::errs() << "attnc: error: " << error << "\n";
    return 1;
  }
  llvm::errs() << "attnc: tuning file " << options.tuneFile << " ("
               << problems.size() << " op" << (problems.size() == 1 ? "" : "s")
               << llvm::formatv(", {0:f0} s)\n", elapsed());
  return 0;
}

} // namespace mlir::attn
