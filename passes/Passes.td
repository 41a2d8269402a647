//===- Passes.td - attn passes -----------------------------*- tablegen -*-===//
//
// Every pass of the attn compiler, grouped by pipeline stage (see
// passes/README.md for the invariants that hold between stages).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_TD
#define ATTN_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Stage 1: model level (attn ops on tensors)
//===----------------------------------------------------------------------===//

def ExportSignaturePass : Pass<"attn-export-signature", "::mlir::ModuleOp"> {
  let summary = "record the entry function's typed tensor table and FLOPs";
  let description = [{
    Finds the entry function (the one marked `attn.entry`, else the only
    public function) and stores the model's tensor table in the module
    attribute `attn.signature`: for every input and output its name
    (`attn.name`, default `argN`/`resultN`), element type (f32, i32), role,
    content (data, or lengths / segment ids as the ops that use it say
    through `TensorContentOpInterface`) and shape, plus the useful FLOPs
    summed over `CostOpInterface` ops of the entry function and of every
    function it calls. `--attn-emit-entry-point` turns it into the data of
    `runtime/AttnModel.h`.

    ```mlir
    module attributes {attn.signature = {name = "m", flops = 1024 : i64,
        tensors = [ {name = "q", dtype = "f32", role = "input", ...} ]}} { ... }
    ```
  }];
}

def FuseEpiloguesPass : Pass<"attn-fuse-epilogues", "::mlir::func::FuncOp"> {
  let summary = "fold activations, products and residual sums into attn.linear";
  let description = [{
    Rewrites `act(linear(x))`, `mul(linear(x), g)` and `add(linear(x), r)`
    (either operand order, same shapes, the linear result used once) into
    the linear's `activation`, `gate` and `residual`, in that order of the
    epilogue (`act(x·Wᵀ + b) · g + r`), so that they run while the output
    tile is still in registers instead of as separate passes over memory.
    A SwiGLU MLP `down(silu(gate(x)) · up(x)) + h` becomes three linears:
    gate with `silu`, up with `gate`, down with `residual`.

    ```mlir
    %g = attn.linear %x, %wg : ...
    %a = attn.activation %g {kind = #attn.activation<silu>} : ...
    // becomes
    %a = attn.linear %x, %wg {activation = #attn.activation<silu>} : ...
    ```
  }];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

def SelectSchedulePass : Pass<"attn-select-schedule", "::mlir::func::FuncOp"> {
  let summary = "attach a schedule to every scheduled op without one";
  let description = [{
    The only pass that chooses tile sizes and register blocking. It walks
    ops implementing `ScheduledOpInterface` (never an op by name); each op
    kind's model chooses (`ScheduleModels.cpp`: for `attn.sdpa` and
    `attn.linear`, pure functions of the problem shape and the target
    description in `passes/ScheduleHeuristics.h`). Ops that already carry a schedule (set
    by hand) are left alone. The `schedule` option overrides fields of the
    heuristic's choice; an override that does not fit an op is an error at
    that op. With `tuning-file`, an op whose tuning key the file has for
    `target` starts from the measured schedule instead of the heuristic's
    (the `schedule` fields still apply on top). With `report`, each op gets
    a remark describing its schedule and where it came from, FLOPs, how
    many kv tiles run full / with a mask / not at all, and its working set.

    ```mlir
    %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 64, ...>} : ...
    ```
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register of the target">,
    Option<"vectorRegisters", "vector-registers", "int64_t", /*default=*/"32",
           "number of architectural vector registers of the target">,
    Option<"scheduleOverride", "schedule", "std::string", /*default=*/"",
           "fields that replace the heuristic's choice, e.g. "
           "'tile_q=64,tile_kv=128' (#attn.schedule field names)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "emit a remark per op with its schedule, FLOPs, visited and "
           "skipped kv tiles and working-set bytes">,
    Option<"tuningFile", "tuning-file", "std::string", /*default=*/"",
           "a tuning file (attnc --tune): ops it has an entry for on "
           "`target` take its schedule instead of the heuristic's">,
    Option<"target", "target", "std::string", /*default=*/"\"generic\"",
           "the target's name in the tuning file (attnc: the CPU name, the "
           "vector width and the register count)">,
    Option<"gpuArch", "gpu-arch", "std::string", /*default=*/"",
           "schedule attn.sdpa for the GPU kernel of this NVIDIA "
           "architecture (sm_80, sm_86, sm_89, sm_90, sm_90a); empty: the CPU">,
  ];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

//===----------------------------------------------------------------------===//
// Stage 2: flash lowering (attn -> scf + vector on buffers)
//===----------------------------------------------------------------------===//

def LowerAttentionToLoopsPass
    : Pass<"attn-lower-attention-to-loops", "::mlir::func::FuncOp"> {
  let summary = "lower attn.sdpa to a tiled online-softmax loop nest";
  let description = [{
    Rewrites each scheduled `attn.sdpa` into FlashAttention-2 style loops on
    buffers: a `scf.parallel` over (batch, query head, query tile) whose body
    (`FlashTiling`) reads the batch's run-time lengths and segment keys,
    computes each row's visible keys, and walks only the kv tiles the mask
    leaves live (`MaskAttrInterface`, `dialect/MaskTiling.h`): tiles a
    causal, window, segment or length bound hides are never visited. Tiles
    that the mask shows completely run without mask arithmetic; only
    boundary tiles select `-inf` per element. What one tile computes is the
    CPU tile computation (`passes/cpu/`): packed query, two register-blocked
    micro-kernels, online softmax in the log2 domain. Scores exist only as
    one `tile_kv × tile_q` scratch tile: nothing of size `Sq × Skv` is
    created.

    Inputs enter through `bufferization.to_buffer` and the result leaves
    through `bufferization.to_tensor`, so one-shot bufferization finishes the
    job. Requires a schedule on every op (run `--attn-select-schedule`).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

def LowerAttentionToGpuPass
    : Pass<"attn-lower-attention-to-gpu", "::mlir::ModuleOp"> {
  let summary = "lower attn.sdpa to a gpu.launch of a flash-attention kernel";
  let description = [{
    Rewrites each scheduled `attn.sdpa` (scheduled for a GPU:
    `--attn-select-schedule=gpu-arch=...`) into host code that copies its
    operands to device memory, launches one thread block per (batch, query
    head, query tile) and copies the results back, all on one stream
    (`gpu.wait async` tokens), so that the rest of the program, which runs
    on the host, sees ordinary buffers. That host code is a private function
    per op (`@<func>_sdpa_gpu<N>`, marked `attn.gpu_host`) of the op's
    buffers, called in the op's place.

    The block's body is the same `FlashTiling` as the CPU lowering (run-time
    lengths and segments, per-row visible keys from `MaskAttrInterface`,
    only live kv tiles, full tiles without mask arithmetic) around the GPU
    tile computation (`passes/gpu/`), online softmax in the log2 domain
    with `math.exp2`, the running max, sum and output in registers (private
    attributions), K/V tiles in dynamic shared memory:
    - where query, key and value are all f16 or all bf16 and the head dims
      multiples of 16, tensor cores: a warp per 16 query rows, `cp.async`
      tile copies (`nvgpu.device_async_copy`, V in flight during Q·Kᵀ),
      `nvgpu.ldmatrix` fragments and `nvgpu.mma.sync` m16n8k16 with f32
      sums, P reused from the score accumulators as the A operand of P·V;
    - otherwise f32 SIMT: one thread per query row, the scaled query rows
      and the score tile in shared memory too, operands widened to f32 as
      they are loaded.
    Score modifiers apply through `ScoreModifierAttrInterface` on one-lane
    vectors; the result is rounded once when stored.

    Other attention ops (`attn.sdpa_probs`) and the block ops stay for the
    CPU lowering.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def EmulateGpuPass : Pass<"attn-emulate-gpu", "::mlir::ModuleOp"> {
  let summary = "run the GPU lowering's kernels on CPU threads (testing)";
  let description = [{
    For tests of the GPU lowering on machines without a GPU (`attnc
    --target=cuda --gpu-emulate`): replaces the device allocations, copies
    and waits of `--attn-lower-attention-to-gpu`'s host code by host memory
    operations, and each `gpu.launch` by a cooperative `scf.parallel` over
    the block's threads (`attn.cooperative`: one fiber per GPU thread,
    `attnrt_cooperative_for`) in which every thread runs the kernel body for
    each block in turn; `gpu.barrier` becomes a barrier of those threads
    (`attnrt_cooperative_barrier`), the dynamic shared memory one host
    buffer, private attributions allocas. The warp collectives of the
    tensor-core kernel (`gpu.shuffle xor`, `nvgpu.ldmatrix`,
    `nvgpu.mma.sync` m16n8k16, `nvgpu.device_async_copy`) exchange operands
    through a host buffer with one barrier each, computing what the PTX ISA
    specifies per lane. The kernel IR is the one the GPU compiles; only math
    functions and these collectives differ (the CPU's).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def DeallocateBuffersPass
    : Pass<"attn-deallocate-buffers", "::mlir::ModuleOp"> {
  let summary = "ownership-based buffer deallocation, except GPU host code";
  let description = [{
    Runs `ownership-based-buffer-deallocation` on every `func.func` but the
    GPU host functions (`attn.gpu_host`, from
    `--attn-lower-attention-to-gpu`): the upstream pass rejects the `gpu`
    ops it cannot analyse, and those functions allocate only device memory,
    which they free themselves.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def GpuMathToNVVMPass : Pass<"attn-gpu-math-to-nvvm"> {
  let summary = "f32 math ops and bf16 mma.sync of GPU kernels as NVVM";
  let description = [{
    Rewrites f32 `math.exp2`, `exp`, `log2`, `log` and `sqrt` (scalars, or
    1-D vectors lane by lane) into `llvm.call_intrinsic` of
    `llvm.nvvm.ex2.approx.f32`, `lg2.approx.f` and `sqrt.rn.f`, so that
    `convert-gpu-to-nvvm` finds no math op to turn into a libdevice call:
    kernels compile without the CUDA toolkit and use the special-function
    unit. Also rewrites `nvgpu.mma.sync` m16n8k16 on bf16 (which
    `convert-nvgpu-to-nvvm` cannot lower) into `nvvm.mma.sync` with i32-packed
    operands. Run on `gpu.module`s, after `math-expand-ops{ops=tanh}` and
    before `convert-nvgpu-to-nvvm`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def LowerBlocksToLoopsPass
    : Pass<"attn-lower-blocks-to-loops", "::mlir::ModuleOp"> {
  let summary = "lower the transformer-block ops to vector loops and packed GEMMs";
  let description = [{
    Rewrites every block op (`attn.linear`, norms, `attn.rope`, activations,
    `attn.add`/`attn.mul`, head split/merge, `attn.chunk`,
    `attn.embedding`, `attn.rows`) into loops on buffers, each op one
    `scf.parallel` (two for `attn.linear`: packing the weight into panels,
    then the output tiles) vectorized along rows.

    `attn.linear` follows its `#attn.gemm_schedule` (see `passes/cpu/GemmCpu.cpp`):
    the weight is packed into `[N/nr][K][nr]` panels, output tiles are
    computed per K block with the shared micro-kernel builder, and the
    epilogue (bias, activation, gate, residual) is applied while the last K
    block's accumulators are in registers. RoPE's cos/sin values are
    computed at compile time, the angle as an f32 product like Hugging Face,
    into a constant table shared by ops with the same parameters.

    Inputs enter through `bufferization.to_buffer` and results leave through
    `bufferization.to_tensor`, as in `--attn-lower-attention-to-loops`.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register of the target">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Stage 3: to LLVM
//===----------------------------------------------------------------------===//

def ApproximateMathPass : Pass<"attn-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "replace math.exp2, math.exp and friends by polynomial approximations";
  let description = [{
    Lowers `math.exp2` on f32 with a short sequence of our own (NaN-keeping
    clamps to [-127, 127], rounding by a magic-number add, a degree-5
    polynomial in FMAs, 2^k from the sum's shifted bits; exact 0 at -127 and
    below, -inf included; relative error < 2e-7; 12 vector instructions),
    which the flash softmax uses, and runs
    MLIR's polynomial approximation patterns for the other math ops, so that
    no libm call is left in vector loops. MLIR 22 exposes those patterns only
    through C++, hence this pass.

    ```mlir
    %p = math.exp2 %s : vector<16xf32>   // becomes arith/math.fma ops
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def OutlineParallelLoopsPass
    : Pass<"attn-outline-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "run outermost scf.parallel loops through the runtime's thread pool";
  let description = [{
    Moves the body of each outermost 1-D `scf.parallel` into a private
    function `void(i64 begin, i64 end, ptr ctx)` that runs iterations
    `[begin, end)`, and replaces the loop by a call to
    `attnrt_parallel_for(n, fn, ctx)` with the captured buffers packed into a
    stack context. No OpenMP: the runtime decides how iterations are split
    over threads.

    ```mlir
    func.call @attnrt_parallel_for(%n, %fn, %ctx) : (i64, !llvm.ptr, !llvm.ptr) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def EmitEntryPointPass : Pass<"attn-emit-entry-point", "::mlir::ModuleOp"> {
  let summary = "emit the typed model ABI: <prefix>_model and <prefix>_run_buffers";
  let description = [{
    Runs on LLVM dialect (after `convert-func-to-llvm` with the bare-pointer
    memref convention). Emits `int32_t <prefix>_run_buffers(void **buffers)`, which
    calls the entry function with one pointer per tensor and returns
    `ATTNRT_OK`, and `const attn_model_info <prefix>_model`, the versioned
    tensor table of `runtime/AttnModel.h` built from `attn.signature`. The
    entry function and the table's strings and arrays become internal, so
    objects of different models link into one program. With `main-alias`,
    `attn_main_model` names the table for the harness `main`. With
    `check-device` (the cuda target), `run` returns `attnrt_cuda_status()`
    instead of `ATTNRT_OK`, so a missing driver or a failed launch is an
    error of the call.
  }];
  let options = [
    Option<"prefix", "prefix", "std::string", /*default=*/"",
           "symbol prefix of the model (default: the entry function's name)">,
    Option<"mainAlias", "main-alias", "bool", /*default=*/"false",
           "also define attn_main_model, the model the harness main runs">,
    Option<"checkDevice", "check-device", "bool", /*default=*/"false",
           "return attnrt_cuda_status() after the entry function: "
           "ATTNRT_ERROR_DEVICE if a GPU call failed">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // ATTN_PASSES_TD
