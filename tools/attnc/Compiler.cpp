//===- Compiler.cpp - the attnc compilation driver ------------------------===//
//
// load (model description or .mlir) -> attn IR -> loops pipeline -> LLVM
// pipeline -> LLVM IR -> LLVM -O3 -> asm/object -> link with the runtime.
// Each arrow can be the last one (`--emit=`). No pass list is written here:
// the pipelines come from passes/Pipelines.h, shared with attn-opt.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/Compiler.h"

#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "passes/ScheduleHeuristics.h"
#include "tools/InitAttn.h"
#include "tools/attnc/HFImport.h"
#include "tools/attnc/IRGen.h"
#include "tools/attnc/Library.h"
#include "tools/attnc/Tuner.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <chrono>

namespace mlir::attn {
namespace {

/// Prints `attnc: error: ...` for problems that have no source location.
int fail(const llvm::Twine &message) {
  llvm::errs() << "attnc: error: " << message << "\n";
  return 1;
}

/// Phase timings for `-v`.
class PhaseTimer {
public:
  explicit PhaseTimer(bool enabled) : enabled(enabled) {}
  void done(llvm::StringRef phase) {
    auto now = std::chrono::steady_clock::now();
    if (enabled)
      llvm::errs() << llvm::format("attnc: %-8s %8.1f ms\n",
                                   phase.str().c_str(),
                                   std::chrono::duration<double, std::milli>(
                                       now - last)
                                       .count());
    last = now;
  }

private:
  bool enabled;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

/// The host (or --mcpu) target machine and the vector shape it implies.
struct Target {
  std::unique_ptr<llvm::TargetMachine> machine;
  int64_t vectorWidth = 4;
  int64_t vectorRegisters = 16;
  std::string name; // in tuning files: "<cpu> vw=<width> regs=<registers>"
};

FailureOr<Target> createTarget(const CompileOptions &options) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    fail("no LLVM target for " + triple.str() + ": " + error);
    return failure();
  }
  std::string cpu = options.mcpu;
  llvm::SubtargetFeatures features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.getKey(), feature.getValue());
  }
  Target result;
  result.machine.reset(target->createTargetMachine(
      triple, cpu, features.getString(), llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt,
      options.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : options.optLevel == 0 ? llvm::CodeGenOptLevel::None
                              : llvm::CodeGenOptLevel::Default));
  const llvm::MCSubtargetInfo *sti = result.machine->getMCSubtargetInfo();
  if (!sti->isCPUStringValid(cpu)) {
    fail("unknown CPU '" + cpu + "' for " + triple.str() +
         " (try --mcpu=native)");
    return failure();
  }
  if (triple.isX86()) {
    bool avx512 = sti->checkFeatures("+avx512f");
    result.vectorWidth = avx512 ? 16 : sti->checkFeatures("+avx") ? 8 : 4;
    result.vectorRegisters = avx512 ? 32 : 16;
  } else if (triple.isAArch64()) {
    result.vectorRegisters = 32;
  }
  if (options.vectorWidth > 0)
    result.vectorWidth = options.vectorWidth;
  if (options.vectorRegisters > 0)
    result.vectorRegisters = options.vectorRegisters;
  result.name = cpu + " vw=" + std::to_string(result.vectorWidth) +
                " regs=" + std::to_string(result.vectorRegisters);
  return result;
}

/// Writes text to `path` ("-": stdout); returns the exit code.
int emitTextTo(const std::string &path,
               llvm::function_ref<void(llvm::raw_ostream &)> print) {
  std::string error;
  auto file = openOutputFile(path, &error);
  if (!file)
    return fail(error);
  print(file->os());
  file->keep();
  return 0;
}

/// Writes a text phase to the -o file, or stdout; returns the exit code.
int emitText(const CompileOptions &options,
             llvm::function_ref<void(llvm::raw_ostream &)> print) {
  return emitTextTo(options.outputPath.empty() ? "-" : options.outputPath,
                    print);
}

/// Loads the input as attn IR: a `.mlir` file is parsed, anything else is a
/// model description (`stem` names a model without `model NAME`).
OwningOpRef<ModuleOp> loadInput(MLIRContext &context,
                                llvm::SourceMgr &sourceMgr, bool isMlir,
                                llvm::StringRef stem) {
  if (isMlir)
    return parseSourceFile<ModuleOp>(sourceMgr, &context);
  std::optional<model::Model> model = model::parseModel(sourceMgr, stem);
  if (!model)
    return nullptr;
  return buildModelIR(context, sourceMgr, *model);
}

/// The folder with the runtime archives: --runtime-dir, else ../lib next to
/// attnc (installed and build-tree layouts alike), else the configured one.
std::string findRuntimeDir(const CompileOptions &options) {
  if (!options.runtimeDir.empty())
    return options.runtimeDir;
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable("attnc", &anchor);
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(dir, "..", "lib");
  llvm::SmallString<256> probe(dir);
  llvm::sys::path::append(probe, "libAttnRuntime.a");
  return llvm::sys::fs::exists(probe) ? std::string(dir) : ATTNC_RUNTIME_DIR;
}

/// Why nothing can be written at `path` (empty if it can be): checked
/// before code generation for outputs that a linker or archiver writes, whose
/// own messages would be less clear.
std::string outputProblem(llvm::StringRef path) {
  llvm::StringRef parent = llvm::sys::path::parent_path(path);
  if (parent.empty())
    parent = ".";
  if (!llvm::sys::fs::is_directory(parent))
    return "no such directory '" + parent.str() + "'";
  if (llvm::sys::fs::is_directory(path))
    return "it is a directory";
  if (llvm::sys::fs::access(parent, llvm::sys::fs::AccessMode::Write))
    return "the directory '" + parent.str() + "' is not writable";
  return "";
}

int link(const CompileOptions &options, llvm::StringRef objectPath,
         llvm::StringRef outputPath) {
  std::string linker = options.linker.empty() ? ATTNC_DEFAULT_LINKER
                                              : options.linker;
  if (!llvm::sys::path::is_absolute(linker)) {
    auto found = llvm::sys::findProgramByName(linker);
    if (!found)
      return fail("linker '" + linker + "' not found in PATH");
    linker = *found;
  }
  std::string dir = findRuntimeDir(options);
  std::string harness = dir + "/libAttnHarness.a";
  std::string runtime = dir + "/libAttnRuntime.a";
  for (const std::string &lib : {harness, runtime})
    if (!llvm::sys::fs::exists(lib))
      return fail("runtime library '" + lib + "' not found (use --runtime-dir)");
  llvm::SmallVector<llvm::StringRef> args = {
      linker, objectPath, harness, runtime, "-o", outputPath, "-lpthread"};
  // A sanitizer build's runtime needs the sanitizers' runtimes.
  llvm::StringRef extra = ATTNC_LINK_FLAGS;
  if (!extra.empty())
    args.push_back(extra);
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(linker, args, std::nullopt, {}, 0, 0,
                                     &error);
  if (rc != 0)
    return fail("linking with '" + linker + "' failed" +
                (error.empty() ? "" : ": " + error));
  return 0;
}

/// `--emit=lib`: the archive at `outputPath` and the header beside it
/// (`DIR/libNAME.a` -> `DIR/NAME.h`, any other name -> its stem + `.h`).
int writeLibrary(const CompileOptions &options, DictionaryAttr signature,
                 llvm::StringRef prefix, llvm::StringRef objectPath,
                 llvm::StringRef outputPath, llvm::StringRef stem) {
  if (!signature || prefix.empty())
    return fail("internal error: the model has no signature");
  std::string runtime = findRuntimeDir(options) + "/libAttnRuntime.a";
  if (!llvm::sys::fs::exists(runtime))
    return fail("runtime library '" + runtime +
                "' not found (use --runtime-dir)");
  std::string message =
      writeLibraryArchive(outputPath, objectPath, stem.str() + ".o", runtime);
  if (!message.empty())
    return fail("cannot write '" + outputPath + "': " + message);
  llvm::StringRef name = llvm::sys::path::stem(outputPath);
  name.consume_front("lib");
  llvm::SmallString<256> header(llvm::sys::path::parent_path(outputPath));
  llvm::sys::path::append(header, name + ".h");
  return emitTextTo(header.str().str(), [&](llvm::raw_ostream &os) {
    os << generateLibraryHeader(signature, prefix,
                                llvm::sys::path::filename(options.inputPath),
                                llvm::sys::path::filename(header),
                                llvm::sys::path::filename(outputPath),
                                !options.embedWeights.empty());
  });
}

/// Runs a pipeline stage; the passes report their own errors.
LogicalResult runStage(ModuleOp module, const CompileOptions &options,
                       llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  if (options.printIRAfterAll)
    pm.enableIRPrinting(/*shouldPrintBeforePass=*/nullptr,
                        /*shouldPrintAfterPass=*/
                        [](Pass *, Operation *) { return true; },
                        /*printModuleScope=*/true);
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  build(pm);
  return pm.run(module);
}

int lowerAndEmit(ModuleOp module, const CompileOptions &options,
                 Target &target, llvm::StringRef stem, PhaseTimer &timer);

} // namespace

int compile(const CompileOptions &options) {
  DialectRegistry registry;
  registerAttnDialects(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  // Diagnostics point into the user's file; the IR dump adds only noise.
  context.printOpOnDiagnostic(false);

  std::string error;
  if (!options.embedWeights.empty() && options.emit != EmitPhase::Exe &&
      options.emit != EmitPhase::Lib)
    return fail("--embed-weights puts the weights into an executable or a "
                "library; it cannot be combined with --emit other than exe "
                "or lib");
  if (!parseScheduleOverride(options.schedule, error))
    return fail("invalid --schedule: " + error);

  // The input: a `.mlir` file, a model description, or a Hugging Face
  // config.json (or a folder holding one), imported as a description.
  std::string inputPath = options.inputPath;
  bool isConfig = llvm::StringRef(inputPath).ends_with(".json");
  if (llvm::sys::fs::is_directory(inputPath)) {
    llvm::SmallString<256> config(inputPath);
    llvm::sys::path::append(config, "config.json");
    if (!llvm::sys::fs::exists(config))
      return fail("no config.json in the folder '" + inputPath + "'");
    inputPath = config.str().str();
    isConfig = true;
  }
  bool isMlir = llvm::StringRef(inputPath).ends_with(".mlir");
  if (const char *flag = options.hf.firstGivenFlag(); flag && !isConfig)
    return fail(llvm::Twine(flag) +
                " applies only to a Hugging Face config (config.json or a "
                "folder holding it), not to '" +
                inputPath + "'");
  if (isMlir && options.emit == EmitPhase::Model)
    return fail("--emit=model needs a model description or a Hugging Face "
                "config; '" +
                inputPath + "' is MLIR");

  auto buffer = openInputFile(inputPath, &error);
  if (!buffer)
    return fail(error);
  std::string stem = llvm::sys::path::stem(inputPath).str();
  if (isConfig) {
    llvm::SourceMgr configSource;
    configSource.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    std::optional<HFImportResult> imported =
        importHFConfig(configSource, options.hf);
    if (!imported)
      return 1;
    // Errors in the description point into the text --emit=model prints.
    stem = imported->name;
    buffer = llvm::MemoryBuffer::getMemBufferCopy(imported->text,
                                                  inputPath + ".model");
  }
  if (options.emit == EmitPhase::Model)
    return emitText(options, [&](llvm::raw_ostream &os) {
      os << buffer->getBuffer();
    });
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  PhaseTimer timer(options.verbose);

  OwningOpRef<ModuleOp> module = loadInput(context, sourceMgr, isMlir, stem);
  if (!module || failed(verify(*module)))
    return 1;
  timer.done("parse");
  auto printModule = [&](llvm::raw_ostream &os) { module->print(os); };
  if (options.emit == EmitPhase::Attn)
    return emitText(options, printModule);

  FailureOr<Target> target = createTarget(options);
  if (failed(target))
    return 1;
  if (options.tuneFile.empty())
    return lowerAndEmit(*module, options, *target, stem, timer);
  if (!options.gpuArch.empty())
    return fail("--tune times CPU schedules; it cannot be combined with "
                "--target=cuda");
  TuneTarget tuneTarget{target->name,
                        {target->vectorWidth, target->vectorRegisters}};
  if (int rc = tune(*module, options, tuneTarget))
    return rc;
  timer.done("tune");
  CompileOptions tuned = options;
  tuned.tuningFile = options.tuneFile;
  return lowerAndEmit(*module, tuned, *target, stem, timer);
}

int compileModule(ModuleOp module, const CompileOptions &options,
                  llvm::StringRef stem) {
  FailureOr<Target> target = createTarget(options);
  if (failed(target))
    return 1;
  PhaseTimer timer(options.verbose);
  return lowerAndEmit(module, options, *target, stem, timer);
}

namespace {
/// Everything after parsing: the pipelines, LLVM, and the phase asked for.
int lowerAndEmit(ModuleOp module, const CompileOptions &options,
                 Target &target, llvm::StringRef stem, PhaseTimer &timer) {
  auto printModule = [&](llvm::raw_ostream &os) { module->print(os); };
  CpuPipelineOptions pipelineOptions;
  pipelineOptions.vectorWidth = target.vectorWidth;
  pipelineOptions.vectorRegisters = target.vectorRegisters;
  pipelineOptions.schedule = options.schedule;
  pipelineOptions.report = options.report;
  pipelineOptions.prefix = options.prefix;
  pipelineOptions.tuningFile = options.tuningFile;
  pipelineOptions.target = target.name;
  pipelineOptions.gpuArch = options.gpuArch;
  pipelineOptions.gpuEmulate = options.gpuEmulate;
  // Only an executable has the harness main that runs attn_main_model.
  pipelineOptions.mainAlias = options.emit == EmitPhase::Exe;
  if (failed(runStage(module, options, [&](OpPassManager &pm) {
        buildCpuLoopsPipeline(pm, pipelineOptions);
      })))
    return 1;
  timer.done("loops");
  // The library header is written from the tensor table, which the LLVM
  // stage turns into data.
  auto signature = module->getAttrOfType<DictionaryAttr>(kSignatureAttrName);
  auto entryName = module->getAttrOfType<FlatSymbolRefAttr>(kEntryAttrName);
  std::string prefix = !options.prefix.empty() ? options.prefix
                       : entryName          ? entryName.getValue().str()
                                            : "";
  // The kernels alone, at one of their stages.
  auto printKernels = [&](llvm::raw_ostream &os) {
    for (auto kernels : module.getOps<gpu::GPUModuleOp>())
      os << kernels << "\n";
  };
  if (options.emit == EmitPhase::Gpu)
    return emitText(options, printKernels);
  if (options.emit == EmitPhase::NVVM) {
    if (failed(runStage(module, options, [&](OpPassManager &pm) {
          buildGpuToNVVMPipeline(pm, pipelineOptions);
        })))
      return 1;
    return emitText(options, printKernels);
  }
  if (options.emit != EmitPhase::Loops &&
      failed(runStage(module, options, [&](OpPassManager &pm) {
        buildCpuToLLVMPipeline(pm, pipelineOptions);
      })))
    return 1;
  if (options.emit == EmitPhase::Loops || options.emit == EmitPhase::LLVM)
    return emitText(options, printModule);
  timer.done("to-llvm");
  if (options.emit == EmitPhase::PTX)
    return emitText(options, [&](llvm::raw_ostream &os) {
      for (auto binary : module.getOps<gpu::BinaryOp>())
        for (Attribute object : binary.getObjects())
          os << cast<gpu::ObjectAttr>(object).getObject().getValue();
    });

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return fail("translation to LLVM IR failed");
  llvm::TargetMachine &machine = *target.machine;
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple());
  if (llvm::Error err = makeOptimizingTransformer(options.optLevel,
                                                  /*sizeLevel=*/0, &machine)(
          llvmModule.get()))
    return fail("LLVM optimization failed: " + toString(std::move(err)));
  timer.done("llvm-opt");
  if (!options.embedWeights.empty()) {
    std::string message = embedWeights(
        *llvmModule, signature, options.embedWeights,
        options.emit == EmitPhase::Lib ? prefix + "_embedded"
                                       : std::string("attn_main_embedded"));
    if (!message.empty())
      return fail("--embed-weights: " + message);
    timer.done("embed");
  }
  if (options.emit == EmitPhase::LL)
    return emitText(options, [&](llvm::raw_ostream &os) {
      llvmModule->print(os, nullptr);
    });

  // Asm and Obj go to the output; Exe goes through a temporary object.
  std::string outputPath = options.outputPath;
  llvm::SmallString<128> objectPath;
  if (options.emit == EmitPhase::Exe) {
    if (outputPath.empty())
      outputPath = stem.str();
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("attnc", "o", objectPath))
      return fail("cannot create a temporary object file: " + ec.message());
  } else if (options.emit == EmitPhase::Obj) {
    if (outputPath.empty())
      outputPath = stem.str() + ".o";
    objectPath = outputPath;
  } else if (options.emit == EmitPhase::Lib) {
    if (outputPath.empty())
      outputPath = "lib" + stem.str() + ".a";
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("attnc", "o", objectPath))
      return fail("cannot create a temporary object file: " + ec.message());
  } else {
    objectPath = outputPath.empty() ? "-" : outputPath;
  }
  if (options.emit == EmitPhase::Exe || options.emit == EmitPhase::Lib) {
    std::string problem = outputProblem(outputPath);
    if (!problem.empty()) {
      llvm::sys::fs::remove(objectPath);
      return fail("cannot write '" + outputPath + "': " + problem);
    }
  }
  {
    std::string error;
    auto out = openOutputFile(objectPath, &error);
    if (!out)
      return fail(error);
    llvm::legacy::PassManager codegen;
    auto fileType = options.emit == EmitPhase::Asm
                        ? llvm::CodeGenFileType::AssemblyFile
                        : llvm::CodeGenFileType::ObjectFile;
    if (machine.addPassesToEmitFile(codegen, out->os(), nullptr, fileType))
      return fail("the target cannot emit this file type");
    codegen.run(*llvmModule);
    out->keep();
  }
  timer.done("codegen");
  if (options.emit == EmitPhase::Lib) {
    int rc = writeLibrary(options, signature, prefix, objectPath, outputPath,
                          stem);
    llvm::sys::fs::remove(objectPath);
    return rc;
  }
  if (options.emit != EmitPhase::Exe)
    return 0;
  int rc = link(options, objectPath, outputPath);
  llvm::sys::fs::remove(objectPath);
  timer.done("link");
  return rc;
}
} // namespace

} // namespace mlir::attn
