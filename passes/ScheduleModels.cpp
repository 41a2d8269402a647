//===- ScheduleModels.cpp - the ScheduledOpInterface of attn ops ----------===//
//
// How attn.sdpa and attn.linear choose, check and report their schedules.
// Attached to the ops as external models (registerScheduleModels), so the
// dialect does not depend on the heuristics and the selection pass names no
// op.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/FlashTiling.h"
#include "passes/Passes.h"
#include "passes/ScheduleHeuristics.h"

#include "llvm/ADT/StringExtras.h"

namespace mlir::attn {
namespace {

/// attn.sdpa and attn.sdpa_probs (whose value dim is its head dim).
template <typename OpT>
struct SdpaScheduleModel
    : ScheduledOpInterface::ExternalModel<SdpaScheduleModel<OpT>, OpT> {
  Attribute getSchedule(Operation *op) const {
    return cast<OpT>(op).getScheduleAttr();
  }

  LogicalResult selectSchedule(Operation *raw, const ScheduleTarget &target,
                               const ScheduleOverride &overrides) const {
    auto op = cast<OpT>(raw);
    if constexpr (std::is_same_v<OpT, SdpaOp>)
      if (target.gpu)
        return selectGpuSchedule(op, *target.gpu, overrides);
    ScheduleParams p = chooseCpuSchedule(getAttentionProblem(op), target);
    // Attention maps run their heads in turn over whole key ranges.
    if constexpr (std::is_same_v<OpT, SdpaProbsOp>)
      p.headsPerTile = p.kvSplits = 1;
    overrides.applyTo(p);
    auto emitError = [&] {
      return op.emitOpError("schedule override does not fit this op: ");
    };
    ScheduleAttr schedule = getScheduleAttr(emitError, op.getContext(), p);
    if (!schedule)
      return failure();
    op.setScheduleAttr(schedule);
    return op.verify();
  }

  /// attn.sdpa on a GPU: the kernel's tiles, head packing and kv splits,
  /// which --schedule may set.
  static LogicalResult selectGpuSchedule(SdpaOp op, const GpuArch &arch,
                                         const ScheduleOverride &overrides) {
    ScheduleOverride cpuFields = overrides;
    cpuFields.tileQ = cpuFields.tileKv = cpuFields.headsPerTile =
        cpuFields.kvSplits = std::nullopt;
    if (!cpuFields.empty())
      return op.emitOpError("the cuda target's schedule has only tile_q, "
                            "tile_kv, heads_per_tile and kv_splits; the other "
                            "--schedule fields are for the CPU");
    AttentionProblem problem = getAttentionProblem(op);
    std::string error;
    std::optional<ScheduleParams> p = chooseGpuSchedule(problem, arch, error);
    if (!p)
      return op.emitOpError("cannot run on ") << arch.name << ": " << error;
    overrides.applyTo(*p);
    error = checkGpuSchedule(*p, problem, arch);
    if (!error.empty())
      return op.emitOpError("schedule override does not fit this op on ")
             << arch.name << ": " << error;
    auto emitError = [&] { return op.emitOpError("invalid schedule: "); };
    ScheduleAttr schedule = getScheduleAttr(emitError, op.getContext(), *p);
    if (!schedule)
      return failure();
    op.setScheduleAttr(schedule);
    return op.verify();
  }

  /// The problem: op, shape, mask, modifiers, the lse; with `types`, the
  /// element types of query, key (and value).
  static void describeProblem(OpT op, llvm::raw_ostream &os, bool types) {
    AttentionShape s = op.getShape();
    os << op->getName() << " B=" << s.batch << " Hq=" << s.queryHeads
       << " Hkv=" << s.kvHeads << " Sq=" << s.querySeq << " Skv=" << s.kvSeq
       << " D=" << s.headDim << " Dv=" << s.valueDim
       << " mask=" << op.getMaskOrDefault().describe();
    SmallVector<std::string> modifiers;
    for (ScoreModifierAttrInterface modifier : op.getScoreModifiers())
      modifiers.push_back(modifier.describe());
    if (!modifiers.empty())
      os << " scores=" << llvm::join(modifiers, ", ");
    SmallVector<Value, 3> operands{op.getQuery(), op.getKey()};
    if constexpr (std::is_same_v<OpT, SdpaOp>) {
      if (op.getLse())
        os << " +lse";
      operands.push_back(op.getValue());
    }
    if (!types)
      return;
    os << " types=";
    llvm::interleave(
        operands, os,
        [&](Value v) { os << cast<ShapedType>(v.getType()).getElementType(); },
        ",");
  }

  std::string getTuningKey(Operation *raw) const {
    std::string key;
    llvm::raw_string_ostream os(key);
    describeProblem(cast<OpT>(raw), os, /*types=*/true);
    return key;
  }

  /// Schedule, FLOPs, tile classification, and the working set on the CPU
  /// or the kernel launch on a GPU.
  void describeSchedule(Operation *raw, const ScheduleTarget &target,
                        llvm::raw_ostream &os) const {
    auto op = cast<OpT>(raw);
    AttentionShape s = op.getShape();
    ScheduleAttr schedule = op.getScheduleAttr();
    MaskAttr mask = op.getMaskOrDefault();
    int64_t tq = schedule.getTileQ(), tk = schedule.getTileKv();
    TileCounts tiles = countTiles(mask, s.querySeq, s.kvSeq, tq, tk);
    describeProblem(op, os, /*types=*/false);
    os << ": " << schedule << "; "
       << op.getFlops() << " FLOP; kv tiles per head: " << tiles.full
       << " full, " << tiles.boundary << " boundary, " << tiles.skipped
       << " skipped";
    SmallVector<StringRef, 2> runtime;
    if (op.getKvSegments())
      runtime.push_back("segments");
    if (op.getKvLengths() || op.getQLengths())
      runtime.push_back("lengths");
    if (!runtime.empty())
      os << " (before run-time " << llvm::join(runtime, " and ")
         << " skip more; FLOPs count full lengths, one segment)";
    if constexpr (std::is_same_v<OpT, SdpaOp>)
      if (target.gpu) {
        AttentionProblem problem = getAttentionProblem(op);
        os << "; on " << target.gpu->name << ": "
           << (usesGpuTensorCores(problem) ? "tensor-core" : "f32 SIMT")
           << " kernel, " << FlashTiling(op, FlashBuffers{}).getNumIterations()
           << " blocks of " << gpuThreadsPerBlock(problem, tq) << " threads, "
           << gpuSharedLayout(problem, tq, tk).total
           << " B shared memory per block";
        if (schedule.getKvSplits() > 1)
          os << ", then a merge kernel of the " << schedule.getKvSplits()
             << " kv chunks";
        return;
      }
    // Per-thread scratch (packed Q, score tile, accumulator, m/l/α, the
    // rows' key ranges) and the K/V tile streamed per step, in bytes.
    int64_t scratch =
        4 * (s.headDim * tq + tk * tq + tq * s.valueDim + 3 * tq + 3 * tq);
    int64_t kvTile = 4 * tk * (s.headDim + s.valueDim);
    os << "; working set " << scratch << " B scratch per thread + " << kvTile
       << " B per K/V tile";
  }
};

struct LinearScheduleModel
    : ScheduledOpInterface::ExternalModel<LinearScheduleModel, LinearOp> {
  Attribute getSchedule(Operation *op) const {
    return cast<LinearOp>(op).getScheduleAttr();
  }

  /// The `--schedule` override names flash-attention fields; dense layers
  /// take the heuristic's choice.
  LogicalResult selectSchedule(Operation *raw, const ScheduleTarget &target,
                               const ScheduleOverride &) const {
    auto op = cast<LinearOp>(raw);
    LinearOp::Shape s = op.getShape();
    GemmParams p = chooseGemmSchedule({s.m, s.n, s.k}, target);
    auto emitError = [&] { return op.emitOpError("invalid schedule: "); };
    auto schedule =
        GemmScheduleAttr::getChecked(emitError, op.getContext(), p.vectorWidth,
                                     p.rows, p.vecs, p.tileM, p.tileN, p.tileK,
                                     p.mGroups);
    if (!schedule)
      return failure();
    op.setScheduleAttr(schedule);
    return success();
  }

  void describeSchedule(Operation *raw, const ScheduleTarget &,
                        llvm::raw_ostream &os) const {
    auto op = cast<LinearOp>(raw);
    LinearOp::Shape s = op.getShape();
    GemmScheduleAttr schedule = op.getScheduleAttr();
    os << "attn.linear M=" << s.m << " N=" << s.n << " K=" << s.k << ": "
       << schedule << "; " << op.getFlops() << " FLOP; packed weight "
       << 4 * s.k * ((s.n + schedule.getPanelWidth() - 1) /
                     schedule.getPanelWidth() * schedule.getPanelWidth())
       << " B";
  }
};

} // namespace

AttentionProblem getAttentionProblem(AttentionOpInterface op) {
  AttentionShape shape = op.getShape();
  AttentionProblem problem{shape.querySeq, shape.kvSeq, shape.headDim,
                           shape.valueDim};
  problem.batch = shape.batch;
  problem.queryHeads = shape.queryHeads;
  problem.kvHeads = shape.kvHeads;
  problem.canPackHeads = llvm::none_of(
      op.getScoreModifiers(),
      [](ScoreModifierAttrInterface m) { return m.readsHead(); });
  problem.normalizesRows = op.normalizesRows();
  // Query, key and (attn.sdpa) value of one 16-bit float type.
  SmallVector<Value, 3> inputs{op->getOperand(0), op->getOperand(1)};
  if (auto sdpa = dyn_cast<SdpaOp>(op.getOperation()))
    inputs.push_back(sdpa.getValue());
  Type element = getElementTypeOrSelf(inputs.front().getType());
  problem.halfInputs =
      (element.isF16() || element.isBF16()) &&
      llvm::all_of(inputs, [&](Value v) {
        return getElementTypeOrSelf(v.getType()) == element;
      });
  return problem;
}

ScheduleAttr getScheduleAttr(function_ref<InFlightDiagnostic()> emitError,
                             MLIRContext *context, const ScheduleParams &p) {
  return ScheduleAttr::getChecked(emitError, context, p.tileQ, p.tileKv,
                                  p.vectorWidth, p.qkKeys, p.qkQvecs, p.pvRows,
                                  p.pvVecs, p.headsPerTile, p.kvSplits,
                                  p.prefetch, p.qkDot);
}

ScheduleParams getScheduleParams(ScheduleAttr a) {
  ScheduleParams p{a.getTileQ(),  a.getTileKv(),  a.getVectorWidth(),
                   a.getQkKeys(), a.getQkQvecs(), a.getPvRows(),
                   a.getPvVecs()};
  p.headsPerTile = a.getHeadsPerTile();
  p.kvSplits = a.getKvSplits();
  p.prefetch = a.getPrefetch();
  p.qkDot = a.getQkDot();
  return p;
}

void registerScheduleModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    SdpaOp::attachInterface<SdpaScheduleModel<SdpaOp>>(*ctx);
    SdpaProbsOp::attachInterface<SdpaScheduleModel<SdpaProbsOp>>(*ctx);
    LinearOp::attachInterface<LinearScheduleModel>(*ctx);
  });
}

} // namespace mlir::attn
