//===- EmitEntryPoint.cpp - the typed model ABI as data -------------------===//
//
// Input: LLVM dialect; the module carries `attn.signature` and `attn.entry`
// (from --attn-export-signature), and the entry function takes one bare
// pointer per tensor (bare-pointer memref calling convention).
// Output: the data and functions of runtime/AttnModel.h, every symbol with
// the model's prefix (option `prefix`, default: the entry function's name):
//
//   int32_t <prefix>_run_buffers(void **buffers)        checks lengths and segment ids
//                                                (ATTNRT_ERROR_INVALID_ARG),
//                                                calls the entry function
//   const attn_model_info <prefix>_model         the versioned tensor table
//   attn_main_model                              alias (option main-alias)
//
// The entry function and the table's pieces become internal, so objects of
// several models link into one program. The attn.* attributes are consumed.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"

#include "llvm/ADT/StringSwitch.h"

#define DEBUG_TYPE "attn-emit-entry-point"

namespace mlir::attn {
#define GEN_PASS_DEF_EMITENTRYPOINTPASS
#include "passes/Passes.h.inc"

namespace {
struct EmitEntryPointPass final
    : impl::EmitEntryPointPassBase<EmitEntryPointPass> {
  using Base::Base;
  void runOnOperation() override;
};

/// Builds the table's globals at the end of the module.
class TableBuilder {
public:
  TableBuilder(ModuleOp module, Location loc, StringRef prefix)
      : b(OpBuilder::atBlockEnd(module.getBody())), loc(loc), prefix(prefix),
        ptr(LLVM::LLVMPointerType::get(module.getContext())),
        i32(b.getI32Type()), i64(b.getI64Type()) {}

  /// attn_tensor_info: {ptr name, i32 dtype, i32 role, i32 content,
  /// i32 rank, i64 bound, ptr shape}.
  LLVM::LLVMStructType tensorType() {
    return LLVM::LLVMStructType::getLiteral(
        b.getContext(), {ptr, i32, i32, i32, i32, i64, ptr});
  }
  /// attn_model_info: {i32 abi_version, i32 num_tensors, ptr name,
  /// i64 flops, ptr tensors, ptr run}.
  LLVM::LLVMStructType modelType() {
    return LLVM::LLVMStructType::getLiteral(b.getContext(),
                                            {i32, i32, ptr, i64, ptr, ptr});
  }

  /// An internal NUL-terminated string; returns its symbol.
  std::string string(StringRef suffix, StringRef text) {
    std::string symbol = (prefix + "_" + suffix).str();
    std::string data = text.str();
    data.push_back('\0');
    LLVM::GlobalOp::create(b, loc,
                           LLVM::LLVMArrayType::get(b.getI8Type(), data.size()),
                           /*isConstant=*/true, LLVM::Linkage::Internal, symbol,
                           b.getStringAttr(data));
    return symbol;
  }
  /// An internal i64 array; returns its symbol.
  std::string array(StringRef suffix, ArrayRef<int64_t> values) {
    std::string symbol = (prefix + "_" + suffix).str();
    auto type = RankedTensorType::get({int64_t(values.size())}, i64);
    LLVM::GlobalOp::create(b, loc,
                           LLVM::LLVMArrayType::get(i64, values.size()),
                           /*isConstant=*/true, LLVM::Linkage::Internal, symbol,
                           DenseElementsAttr::get(type, values));
    return symbol;
  }

  /// A constant global of struct (or array of struct) `type` whose
  /// initializer `fill` builds at the start of its region.
  void global(Type type, StringRef symbol, LLVM::Linkage linkage,
              function_ref<Value(OpBuilder &)> fill) {
    auto op = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                     linkage, symbol, Attribute());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(b.createBlock(&op.getInitializerRegion()));
    LLVM::ReturnOp::create(b, loc, fill(b));
  }

  Value address(OpBuilder &ib, StringRef symbol) {
    return LLVM::AddressOfOp::create(ib, loc, ptr, symbol);
  }
  Value integer(OpBuilder &ib, Type type, int64_t v) {
    return LLVM::ConstantOp::create(ib, loc, type,
                                    ib.getIntegerAttr(type, v));
  }
  Value insert(OpBuilder &ib, Value aggregate, Value v,
               ArrayRef<int64_t> position) {
    return LLVM::InsertValueOp::create(ib, loc, aggregate, v, position);
  }

  OpBuilder b;
  Location loc;
  StringRef prefix;
  Type ptr, i32, i64;
};
} // namespace

/// Enum values of runtime/AttnModel.h; -1 when unknown.
static int32_t dtypeValue(StringRef s) {
  return llvm::StringSwitch<int32_t>(s)
      .Case("f32", ATTN_DTYPE_F32)
      .Case("f16", ATTN_DTYPE_F16)
      .Case("bf16", ATTN_DTYPE_BF16)
      .Case("i32", ATTN_DTYPE_I32)
      .Case("i64", ATTN_DTYPE_I64)
      .Default(-1);
}
static int32_t roleValue(StringRef s) {
  return llvm::StringSwitch<int32_t>(s)
      .Case("input", ATTN_ROLE_INPUT)
      .Case("output", ATTN_ROLE_OUTPUT)
      .Case("weight", ATTN_ROLE_WEIGHT)
      .Case("aux_output", ATTN_ROLE_AUX_OUTPUT)
      .Default(-1);
}
static int32_t contentValue(StringRef s) {
  return llvm::StringSwitch<int32_t>(s)
      .Case("data", ATTN_CONTENT_DATA)
      .Case("lengths", ATTN_CONTENT_LENGTHS)
      .Case("segments", ATTN_CONTENT_SEGMENTS)
      .Case("tokens", ATTN_CONTENT_TOKENS)
      .Default(-1);
}

/// One tensor of the signature, checked.
struct TensorEntry {
  StringRef name;
  int32_t dtype, role, content;
  int64_t bound;
  ArrayRef<int64_t> shape;
};

static FailureOr<SmallVector<TensorEntry>> readTensors(ModuleOp module,
                                                       ArrayAttr tensors) {
  SmallVector<TensorEntry> entries;
  for (Attribute attr : tensors) {
    auto dict = dyn_cast<DictionaryAttr>(attr);
    if (!dict)
      dict = DictionaryAttr::get(module.getContext());
    auto name = dict.getAs<StringAttr>("name");
    auto dtype = dict.getAs<StringAttr>("dtype");
    auto role = dict.getAs<StringAttr>("role");
    auto content = dict.getAs<StringAttr>("content");
    auto bound = dict.getAs<IntegerAttr>("bound");
    auto shape = dict.getAs<DenseI64ArrayAttr>("shape");
    if (!name || !dtype || !role || !content || !bound || !shape ||
        dtypeValue(dtype) < 0 || roleValue(role) < 0 ||
        contentValue(content) < 0)
      return module.emitError() << "malformed attn.signature tensor " << attr;
    entries.push_back({name.getValue(), dtypeValue(dtype), roleValue(role),
                       contentValue(content), bound.getInt(),
                       shape.asArrayRef()});
  }
  return entries;
}

/// Emits, at the end of `block` (in `run`), a loop over the elements of each
/// lengths, segment-id and token-id input that returns
/// ATTNRT_ERROR_INVALID_ARG from `run` on a length outside [0, bound], a
/// segment id below the one before it in the same row, or a token id outside
/// [0, bound). Returns the block where the checks passed.
static Block *emitInputChecks(OpBuilder &b, Location loc, Block *block,
                              ArrayRef<Value> pointers,
                              ArrayRef<TensorEntry> tensors) {
  Region *region = block->getParent();
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto cst = [&](Type type, int64_t v) -> Value {
    return LLVM::ConstantOp::create(b, loc, type, b.getIntegerAttr(type, v));
  };
  auto cmp = [&](LLVM::ICmpPredicate pred, Value x, Value y) -> Value {
    return LLVM::ICmpOp::create(b, loc, pred, x, y);
  };
  Block *fail = nullptr;
  for (auto [index, e] : llvm::enumerate(tensors)) {
    if (e.content == ATTN_CONTENT_DATA)
      continue;
    Value ptr = pointers[index];
    if (!fail) {
      fail = b.createBlock(region, region->end());
      LLVM::ReturnOp::create(b, loc, cst(i32, ATTNRT_ERROR_INVALID_ARG));
    }
    int64_t numel = 1;
    for (int64_t d : e.shape)
      numel *= d;
    bool segments = e.content == ATTN_CONTENT_SEGMENTS;
    int64_t row = e.shape.empty() ? 1 : e.shape.back();
    Block *head = b.createBlock(region, region->end(), {i64}, {loc});
    Block *body = b.createBlock(region, region->end());
    Block *next = b.createBlock(region, region->end());
    b.setInsertionPointToEnd(block);
    LLVM::BrOp::create(b, loc, ValueRange{cst(i64, segments ? 1 : 0)}, head);

    b.setInsertionPointToEnd(head);
    Value i = head->getArgument(0);
    LLVM::CondBrOp::create(b, loc, cmp(LLVM::ICmpPredicate::slt, i,
                                       cst(i64, numel)),
                           body, next);

    b.setInsertionPointToEnd(body);
    // Lengths and segment ids are i32; token ids i32 or i64.
    Type element = e.dtype == ATTN_DTYPE_I64 ? i64 : i32;
    auto load = [&](Value index) -> Value {
      Value slot = LLVM::GEPOp::create(b, loc, ptr.getType(), element, ptr,
                                       ArrayRef<LLVM::GEPArg>{index});
      return LLVM::LoadOp::create(b, loc, element, slot);
    };
    Value v = load(i), bad;
    if (segments) {
      Value prev = load(LLVM::SubOp::create(b, loc, i, cst(i64, 1)));
      Value rowStart = cmp(LLVM::ICmpPredicate::eq,
                           LLVM::URemOp::create(b, loc, i, cst(i64, row)),
                           cst(i64, 0));
      bad = LLVM::AndOp::create(
          b, loc, cmp(LLVM::ICmpPredicate::slt, v, prev),
          LLVM::XOrOp::create(b, loc, rowStart,
                              LLVM::ConstantOp::create(
                                  b, loc, b.getI1Type(), b.getBoolAttr(true))));
    } else {
      bad = LLVM::OrOp::create(
          b, loc, cmp(LLVM::ICmpPredicate::slt, v, cst(element, 0)),
          cmp(e.content == ATTN_CONTENT_TOKENS ? LLVM::ICmpPredicate::sge
                                               : LLVM::ICmpPredicate::sgt,
              v, cst(element, e.bound)));
    }
    Value step = LLVM::AddOp::create(b, loc, i, cst(i64, 1));
    LLVM::CondBrOp::create(b, loc, bad, fail, ValueRange{}, head,
                           ValueRange{step});
    block = next;
  }
  b.setInsertionPointToEnd(block);
  return block;
}

void EmitEntryPointPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto signature = module->getAttrOfType<DictionaryAttr>(kSignatureAttrName);
  auto entryName = module->getAttrOfType<FlatSymbolRefAttr>(kEntryAttrName);
  if (!signature || !entryName) {
    module.emitError("missing attn.signature/attn.entry; run "
                     "--attn-export-signature first");
    return signalPassFailure();
  }
  auto entry = module.lookupSymbol<LLVM::LLVMFuncOp>(entryName.getAttr());
  if (!entry) {
    module.emitError() << "entry function " << entryName
                       << " is not an llvm.func; run the LLVM lowering first";
    return signalPassFailure();
  }
  auto modelName = signature.getAs<StringAttr>("name");
  auto flops = signature.getAs<IntegerAttr>("flops");
  auto tensorList = signature.getAs<ArrayAttr>("tensors");
  if (!modelName || !flops || !tensorList) {
    module.emitError("malformed attn.signature: expected name, flops and "
                     "tensors");
    return signalPassFailure();
  }
  FailureOr<SmallVector<TensorEntry>> tensors = readTensors(module, tensorList);
  if (failed(tensors))
    return signalPassFailure();

  MLIRContext *ctx = &getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  LLVM::LLVMFunctionType entryType = entry.getFunctionType();
  if (entryType.getNumParams() != tensors->size() ||
      !llvm::all_of(entryType.getParams(),
                    [&](Type t) { return t == ptrType; })) {
    entry.emitError() << "expected the entry function to take "
                      << tensors->size()
                      << " pointers (bare-pointer memref convention), got "
                      << entryType;
    return signalPassFailure();
  }
  std::string prefixText =
      prefix.empty() ? entry.getSymName().str() : prefix.getValue();
  TableBuilder t(module, entry.getLoc(), prefixText);
  Location loc = entry.getLoc();

  // int32_t <prefix>_run_buffers(void **buffers): checks the lengths and segment
  // ids, calls the entry function, returns ATTNRT_OK.
  std::string runName = prefixText + "_run_buffers";
  if (module.lookupSymbol(runName) || module.lookupSymbol(prefixText + "_model")) {
    module.emitError() << "symbol prefix '" << prefixText
                       << "' clashes with a symbol of the module";
    return signalPassFailure();
  }
  auto run = LLVM::LLVMFuncOp::create(
      t.b, loc, runName, LLVM::LLVMFunctionType::get(t.i32, {ptrType}));
  {
    OpBuilder::InsertionGuard guard(t.b);
    t.b.setInsertionPointToStart(run.addEntryBlock(t.b));
    Value buffers = run.getArgument(0);
    SmallVector<Value> args;
    for (unsigned i = 0; i < tensors->size(); ++i) {
      Value slot = LLVM::GEPOp::create(t.b, loc, ptrType, ptrType, buffers,
                                       ArrayRef<LLVM::GEPArg>{int32_t(i)});
      args.push_back(LLVM::LoadOp::create(t.b, loc, ptrType, slot));
    }
    emitInputChecks(t.b, loc, t.b.getInsertionBlock(), args, *tensors);
    LLVM::CallOp::create(t.b, loc, entry, args);
    Value status = t.integer(t.b, t.i32, ATTNRT_OK);
    if (checkDevice) {
      auto statusFn = module.lookupSymbol<LLVM::LLVMFuncOp>("attnrt_cuda_status");
      if (!statusFn) {
        OpBuilder::InsertionGuard declGuard(t.b);
        t.b.setInsertionPointToStart(module.getBody());
        statusFn = LLVM::LLVMFuncOp::create(
            t.b, loc, "attnrt_cuda_status",
            LLVM::LLVMFunctionType::get(t.i32, {}));
      }
      status = LLVM::CallOp::create(t.b, loc, statusFn, ValueRange{})
                   .getResult();
    }
    LLVM::ReturnOp::create(t.b, loc, status);
  }

  // The tensor table, then the model.
  SmallVector<std::string> names, shapes;
  for (auto [i, e] : llvm::enumerate(*tensors)) {
    names.push_back(t.string("tensor" + std::to_string(i) + "_name", e.name));
    shapes.push_back(e.shape.empty()
                         ? std::string()
                         : t.array("tensor" + std::to_string(i) + "_shape",
                                   e.shape));
  }
  auto tableType = LLVM::LLVMArrayType::get(t.tensorType(), tensors->size());
  std::string tableName = prefixText + "_tensors";
  t.global(tableType, tableName, LLVM::Linkage::Internal, [&](OpBuilder &ib) {
    Value table = LLVM::UndefOp::create(ib, loc, tableType);
    for (auto [i, e] : llvm::enumerate(*tensors)) {
      Value s = LLVM::UndefOp::create(ib, loc, t.tensorType());
      Value shape = shapes[i].empty()
                        ? LLVM::ZeroOp::create(ib, loc, ptrType).getResult()
                        : t.address(ib, shapes[i]);
      Value fields[] = {t.address(ib, names[i]), t.integer(ib, t.i32, e.dtype),
                        t.integer(ib, t.i32, e.role),
                        t.integer(ib, t.i32, e.content),
                        t.integer(ib, t.i32, int64_t(e.shape.size())),
                        t.integer(ib, t.i64, e.bound), shape};
      for (auto [f, v] : llvm::enumerate(fields))
        s = t.insert(ib, s, v, {int64_t(f)});
      table = t.insert(ib, table, s, {int64_t(i)});
    }
    return table;
  });
  std::string nameSymbol = t.string("name", modelName.getValue());
  std::string modelSymbol = prefixText + "_model";
  t.global(t.modelType(), modelSymbol, LLVM::Linkage::External,
           [&](OpBuilder &ib) {
             Value m = LLVM::UndefOp::create(ib, loc, t.modelType());
             Value fields[] = {
                 t.integer(ib, t.i32, ATTN_ABI_VERSION),
                 t.integer(ib, t.i32, int64_t(tensors->size())),
                 t.address(ib, nameSymbol), t.integer(ib, t.i64, flops.getInt()),
                 t.address(ib, tableName), t.address(ib, runName)};
             for (auto [f, v] : llvm::enumerate(fields))
               m = t.insert(ib, m, v, {int64_t(f)});
             return m;
           });
  if (mainAlias) {
    auto alias = LLVM::AliasOp::create(t.b, loc, t.modelType(),
                                       LLVM::Linkage::External,
                                       "attn_main_model");
    OpBuilder::InsertionGuard guard(t.b);
    t.b.setInsertionPointToStart(t.b.createBlock(&alias.getInitializerRegion()));
    LLVM::ReturnOp::create(t.b, loc, t.address(t.b, modelSymbol));
  }

  // attn.* attributes have no LLVM meaning: drop them before translation.
  // Only the table and <prefix>_run_buffers are exported: every other function the
  // model defines (the entry, outlined loop bodies) becomes internal.
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    if (!func.isExternal() && func != run)
      func.setLinkage(LLVM::Linkage::Internal);
    func->removeAttr(kGpuHostAttrName);
  }
  module->removeAttr(kSignatureAttrName);
  module->removeAttr(kEntryAttrName);
  entry->removeAttr(kEntryAttrName);
  entry->removeAttr(kNameAttrName);
  for (unsigned i = 0; i < tensors->size(); ++i) {
    entry.removeArgAttr(i, kNameAttrName);
    entry.removeArgAttr(i, kWeightAttrName);
  }
}

} // namespace mlir::attn
