//===- attnc.cpp - the attention compiler's command line ------------------===//
//
// Parses flags into CompileOptions and calls attn::compile(), or prints the
// op table for --print-op-table; nothing else. The input may be a model
// description, a .mlir file, or a Hugging Face config.json (or its folder);
// the "Hugging Face config" flags apply only to the last.
//
//===----------------------------------------------------------------------===//
#include "tools/InitAttn.h"
#include "tools/attnc/Compiler.h"
#include "tools/attnc/OpTable.h"
#include "passes/ScheduleHeuristics.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::attn;
namespace cl = llvm::cl;

static cl::OptionCategory category("attnc options");

// Required unless --print-op-table is given (checked in main).
static cl::opt<std::string> inputPath(
    cl::Positional,
    cl::desc("<model file (.model or .mlir), or a Hugging Face config.json "
             "or a folder holding one>"),
    cl::cat(category));
static cl::opt<std::string>
    outputPath("o", cl::desc("output file (default: the input's stem for an "
                             "executable, <stem>.o for --emit=obj, stdout "
                             "for text phases)"),
               cl::value_desc("path"), cl::cat(category));
static cl::opt<EmitPhase> emit(
    "emit", cl::desc("stop after this phase and write its output"),
    cl::values(
        clEnumValN(EmitPhase::Model, "model",
                   "the model description (imported from a config.json; a "
                   ".model file as is)"),
        clEnumValN(EmitPhase::Attn, "attn", "attn dialect IR from the model"),
        clEnumValN(EmitPhase::Loops, "loops",
                   "flash loop nests on buffers (scf + vector + memref); "
                   "with --target=cuda, the host code and the gpu.module "
                   "kernels"),
        clEnumValN(EmitPhase::Gpu, "gpu",
                   "--target=cuda: the kernels in the gpu dialect"),
        clEnumValN(EmitPhase::NVVM, "nvvm",
                   "--target=cuda: the kernels in the NVVM/LLVM dialects"),
        clEnumValN(EmitPhase::PTX, "ptx",
                   "--target=cuda: the kernels' PTX, as embedded"),
        clEnumValN(EmitPhase::LLVM, "llvm", "LLVM dialect IR"),
        clEnumValN(EmitPhase::LL, "ll", "optimized LLVM IR"),
        clEnumValN(EmitPhase::Asm, "asm", "target assembly"),
        clEnumValN(EmitPhase::Obj, "obj", "object file"),
        clEnumValN(EmitPhase::Lib, "lib",
                   "static library (model + runtime) and a C header beside "
                   "it: -o DIR/libNAME.a writes DIR/NAME.h"),
        clEnumValN(EmitPhase::Exe, "exe",
                   "executable linked with the runtime (default)")),
    cl::init(EmitPhase::Exe), cl::cat(category));
enum class TargetKind { Cpu, Cuda };
static cl::opt<TargetKind> targetKind(
    "target", cl::desc("where attention runs"),
    cl::values(clEnumValN(TargetKind::Cpu, "cpu",
                          "the host CPU, vectorized and multithreaded "
                          "(default)"),
               clEnumValN(TargetKind::Cuda, "cuda",
                          "an NVIDIA GPU (--gpu-arch): attn.sdpa runs as "
                          "CUDA kernels embedded as PTX; the other ops stay "
                          "on the host CPU")),
    cl::init(TargetKind::Cpu), cl::cat(category));
static cl::opt<std::string> gpuArch(
    "gpu-arch",
    cl::desc("with --target=cuda: the GPU architecture (sm_80, sm_86, "
             "sm_89, sm_90, sm_90a; default sm_90)"),
    cl::value_desc("sm_XX"), cl::cat(category));
static cl::opt<bool> gpuEmulate(
    "gpu-emulate",
    cl::desc("with --target=cuda: run the GPU kernels' IR on the CPU, a "
             "fiber per GPU thread (slow; tests the GPU lowering without a "
             "GPU)"),
    cl::Hidden, cl::cat(category));
static cl::opt<std::string>
    mcpu("mcpu", cl::desc("target CPU ('native' = this machine's CPU and "
                          "features)"),
         cl::init("native"), cl::cat(category));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level (0-3)"),
                                  cl::Prefix, cl::init(3), cl::cat(category));
static cl::opt<int64_t> vectorWidth(
    "vector-width",
    cl::desc("f32 lanes per vector register (default: from the target)"),
    cl::init(0), cl::cat(category));
static cl::opt<int64_t> vectorRegisters(
    "vector-registers",
    cl::desc("number of vector registers (default: from the target)"),
    cl::init(0), cl::cat(category));
static cl::opt<std::string> schedule(
    "schedule",
    cl::desc("override fields of the chosen schedule of every attention op, "
             "e.g. --schedule=tile_q=64,tile_kv=128 (fields: tile_q, tile_kv, "
             "vector_width, qk_keys, qk_qvecs, pv_rows, pv_vecs, "
             "heads_per_tile, kv_splits, prefetch, qk_dot)"),
    cl::value_desc("key=value,..."), cl::cat(category));
static cl::opt<bool>
    report("report",
           cl::desc("print each attention op's schedule and where it came "
                    "from (heuristic, tuning file, --schedule), FLOPs, "
                    "visited and skipped kv tiles and working set (as "
                    "remarks)"),
           cl::cat(category));
static cl::opt<std::string> tuneFile(
    "tune",
    cl::desc("time candidate schedules of each attention op on this machine "
             "and write the fastest to this tuning file (updating it if it "
             "exists), then compile with them"),
    cl::value_desc("file.json"), cl::cat(category));
static cl::opt<double> tuneBudget(
    "tune-budget",
    cl::desc("seconds of tuning for the whole model (default 60)"),
    cl::init(60), cl::value_desc("seconds"), cl::cat(category));
static cl::opt<int> tuneThreads(
    "tune-threads",
    cl::desc("threads of the tuner's timed runs (default: the generated "
             "program's, all CPUs)"),
    cl::init(0), cl::value_desc("N"), cl::cat(category));
static cl::opt<std::string> tuningFile(
    "tuning",
    cl::desc("use the schedules of this tuning file (attnc --tune) for the "
             "ops and target it has entries for; the heuristic for the rest"),
    cl::value_desc("file.json"), cl::cat(category));
static cl::opt<std::string> prefix(
    "prefix",
    cl::desc("symbol prefix of the compiled model: <prefix>_model and "
             "<prefix>_run_buffers (default: attn_<model name>)"),
    cl::value_desc("identifier"), cl::cat(category));
static cl::list<std::string> embedWeights(
    "embed-weights",
    cl::desc("embed the model's weights, read from these safetensors files, "
             "index files or folders, in the executable or library "
             "(repeatable); the program runs on them unless --weights is "
             "given, the library's create when no weight file is"),
    cl::value_desc("path"), cl::cat(category));
static cl::opt<bool>
    printIRAfterAll("print-ir-after-all",
                    cl::desc("print the IR after every pass (to stderr)"),
                    cl::cat(category));
static cl::opt<bool> verbose("v", cl::desc("print the time of each phase"),
                             cl::cat(category));
static cl::opt<std::string>
    linker("linker", cl::desc("C++ compiler driver used to link executables"),
           cl::value_desc("program"), cl::cat(category));
static cl::opt<bool> printOpTableFlag(
    "print-op-table",
    cl::desc("print the ops a model can call and their arguments (markdown) "
             "and exit"),
    cl::cat(category));
static cl::opt<std::string>
    runtimeDir("runtime-dir",
               cl::desc("folder holding libAttnHarness.a and libAttnRuntime.a "
                        "(default: ../lib next to attnc)"),
               cl::value_desc("path"), cl::cat(category));

// Hugging Face config input (examples/README.md, "Hugging Face models").
// Unset means "not given": each is an error for any other input.
static cl::OptionCategory
    hfCategory("attnc options for a Hugging Face config (input: config.json "
               "or a folder holding it)");
static cl::opt<int64_t>
    batch("batch", cl::desc("batch size B of the compiled model (default 1)"),
          cl::value_desc("B"), cl::cat(hfCategory));
static cl::opt<int64_t>
    seq("seq", cl::desc("sequence length S, the tokens per call (default 128)"),
        cl::value_desc("S"), cl::cat(hfCategory));
static cl::opt<int64_t> memorySeq(
    "memory-seq",
    cl::desc("whisper only: encoder frames M of encoder_hidden_states "
             "[B, M, d_model] (default max_source_positions, 1500)"),
    cl::value_desc("M"), cl::cat(hfCategory));
static cl::opt<int64_t>
    layers("layers",
           cl::desc("compile only the first N layers (default all; at most "
                    "num_hidden_layers)"),
           cl::value_desc("N"), cl::cat(hfCategory));
static cl::opt<bool> idsI64(
    "ids-i64",
    cl::desc("with --head: the input_ids are i64 (as PyTorch makes them), "
             "not i32"),
    cl::cat(hfCategory));
static cl::opt<bool> head(
    "head",
    cl::desc("add the embeddings, final norm and LM head: input_ids i32 "
             "(i64 with --ids-i64) "
             "[B, S] -> logits [B, S, V] (bert: embeddings only -> "
             "last_hidden_state). Without it: hidden_states [B, S, E] -> "
             "last_hidden_state after the last layer, no final norm"),
    cl::cat(hfCategory));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // The pipelines name upstream passes textually: they must be registered.
  registerAttnPassesAndPipelines();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  // --help lists attnc's own options; the LLVM and MLIR ones linked in
  // (e.g. --mlir-print-ir-after=<pass>) still work and show in --help-hidden.
  cl::HideUnrelatedOptions({&category, &hfCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "attnc - ahead-of-time compiler for attention\n\n"
      "  attnc model.model -o model      compile to an executable\n"
      "  ./model --bench 10              run it on random inputs\n"
      "  attnc model.model --emit=loops  inspect the flash loop nest\n"
      "  attnc model.model --tune=t.json tune schedules on this machine\n"
      "  attnc model.model --tuning=t.json  compile with them\n"
      "  attnc Llama-3.2-1B/ --head      compile a Hugging Face model\n"
      "  attnc model.model --target=cuda --gpu-arch=sm_80\n"
      "                                  attention as CUDA kernels\n"
      "  attnc config.json --emit=model  print its model description\n\n"
      "  LLVM/MLIR developer options: --help-hidden\n");
  if (printOpTableFlag) {
    mlir::attn::printOpTable(llvm::outs());
    return 0;
  }
  if (inputPath.empty()) {
    llvm::errs() << "attnc: error: no input file (see --help)\n";
    return 2;
  }
  if (!prefix.empty() &&
      (llvm::isDigit(prefix[0]) ||
       !llvm::all_of(prefix, [](char c) { return llvm::isAlnum(c) || c == '_'; }))) {
    llvm::errs() << "attnc: error: --prefix='" << prefix
                 << "' is not a C identifier ([A-Za-z_][A-Za-z0-9_]*)\n";
    return 2;
  }
  if (optLevel > 3) {
    llvm::errs() << "attnc: error: -O" << optLevel
                 << " is not an optimization level (0-3)\n";
    return 2;
  }
  if (!tuneFile.empty() && !schedule.empty()) {
    llvm::errs() << "attnc: error: --tune measures schedules; it cannot be "
                    "combined with --schedule\n";
    return 2;
  }
  if (!tuneFile.empty() && !tuningFile.empty()) {
    llvm::errs() << "attnc: error: --tune writes the tuning file it then "
                    "compiles with; give it the file instead of --tuning\n";
    return 2;
  }
  if (tuneBudget <= 0) {
    llvm::errs() << "attnc: error: --tune-budget must be positive, got "
                 << tuneBudget << "\n";
    return 2;
  }
  if (tuneThreads < 0) {
    llvm::errs() << "attnc: error: --tune-threads must not be negative, got "
                 << tuneThreads << "\n";
    return 2;
  }
  bool cuda = targetKind == TargetKind::Cuda;
  if (!cuda && gpuArch.getNumOccurrences()) {
    llvm::errs() << "attnc: error: --gpu-arch applies only to "
                    "--target=cuda\n";
    return 2;
  }
  if (!cuda && (emit == EmitPhase::Gpu || emit == EmitPhase::NVVM ||
                emit == EmitPhase::PTX)) {
    llvm::errs() << "attnc: error: --emit=gpu, nvvm and ptx print GPU "
                    "kernels; they need --target=cuda\n";
    return 2;
  }
  if (gpuEmulate && (!cuda || emit == EmitPhase::Gpu ||
                     emit == EmitPhase::NVVM || emit == EmitPhase::PTX)) {
    llvm::errs() << "attnc: error: --gpu-emulate runs the kernels of "
                    "--target=cuda on the CPU; it takes no --emit=gpu, nvvm "
                    "or ptx\n";
    return 2;
  }
  std::string arch = gpuArch.empty() ? "sm_90" : gpuArch.getValue();
  if (cuda && !lookupGpuArch(arch)) {
    llvm::errs() << "attnc: error: unknown GPU architecture --gpu-arch="
                 << arch << " (supported: " << listGpuArchs() << ")\n";
    return 2;
  }
  CompileOptions options;
  options.gpuArch = cuda ? arch : "";
  options.gpuEmulate = gpuEmulate;
  options.tuneFile = tuneFile;
  options.tuneBudget = tuneBudget;
  options.tuneThreads = tuneThreads;
  options.tuningFile = tuningFile;
  options.inputPath = inputPath;
  options.outputPath = outputPath;
  options.emit = emit;
  options.mcpu = mcpu;
  options.optLevel = optLevel;
  options.vectorWidth = vectorWidth;
  options.vectorRegisters = vectorRegisters;
  options.schedule = schedule;
  options.report = report;
  options.prefix = prefix;
  options.printIRAfterAll = printIRAfterAll;
  options.verbose = verbose;
  options.linker = linker;
  options.runtimeDir = runtimeDir;
  options.embedWeights.assign(embedWeights.begin(), embedWeights.end());
  auto given = [](const cl::opt<int64_t> &flag) {
    return flag.getNumOccurrences() ? std::optional<int64_t>(flag)
                                    : std::nullopt;
  };
  options.hf.batch = given(batch);
  options.hf.seq = given(seq);
  options.hf.memorySeq = given(memorySeq);
  options.hf.layers = given(layers);
  options.hf.head = head;
  options.hf.idsI64 = idsI64;
  return compile(options);
}
