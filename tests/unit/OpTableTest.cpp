//===- OpTableTest.cpp - Tests for the front-end op table -----------------===//
//
// Checks the op table's own consistency, the generic call checks IRGen runs
// against it (exact text and line:col of every error), and what the
// attention builder makes of its keywords.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/OpTable.h"
#include "tools/attnc/IRGen.h"
#include "tools/attnc/ModelAST.h"

#include "dialect/AttnDialect.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Parses `text` as `test.model` and builds its IR, collecting diagnostics
/// as "line:col: message" (notes prefixed with "note: ").
struct Built {
  llvm::SourceMgr sourceMgr;
  MLIRContext context;
  std::vector<std::string> errors, notes;
  OwningOpRef<ModuleOp> module;

  explicit Built(llvm::StringRef text) {
    context.loadDialect<AttnDialect, func::FuncDialect>();
    context.printOpOnDiagnostic(false);
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "test.model"),
        llvm::SMLoc());
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      errors.push_back(format(diag.getLocation(), diag.str()));
      for (Diagnostic &note : diag.getNotes())
        notes.push_back(format(note.getLocation(), note.str()));
      return success();
    });
    std::optional<model::Model> model = model::parseModel(sourceMgr, "m");
    REQUIRE(model);
    module = buildModelIR(context, sourceMgr, *model);
  }

  static std::string format(Location loc, const std::string &message) {
    auto fileLoc = dyn_cast<FileLineColLoc>(loc);
    if (!fileLoc)
      return "?: " + message;
    return std::to_string(fileLoc.getLine()) + ":" +
           std::to_string(fileLoc.getColumn()) + ": " + message;
  }

  /// The build's only error.
  std::string error() const {
    REQUIRE_FALSE(module);
    REQUIRE(errors.size() == 1);
    return errors.front();
  }

  /// The model's only attn.sdpa; the build must have succeeded.
  SdpaOp sdpa() {
    INFO((errors.empty() ? "" : errors.front()));
    REQUIRE(module);
    SdpaOp found;
    module->walk([&](SdpaOp op) { found = op; });
    REQUIRE(found);
    return found;
  }
};

/// Inputs q, k, v of [2, 4, 16, 8], an f32 `x` of [2, 16], i32 `seg` and
/// `qseg` of [2, 16] and `lens` of [2], then `o = attention(q, k, v<args>)`.
std::string modelWith(llvm::StringRef args) {
  return ("input q: [2, 4, 16, 8]\n"
          "input k: [2, 4, 16, 8]\n"
          "input v: [2, 4, 16, 8]\n"
          "input x: [2, 16]\n"
          "input seg: i32[2, 16]\n"
          "input qseg: i32[2, 16]\n"
          "input lens: i32[2]\n"
          "o = attention(q, k, v" +
          args + ")\noutput o\n")
      .str();
}

/// The error of `modelWith(args)`; every such error is on line 8, whose call
/// starts `o = attention(q, k, v` (the args begin at column 22).
std::string errorOf(llvm::StringRef args) {
  return Built(modelWith(args)).error();
}

} // namespace

TEST_CASE("the op table is well formed", "[optable]") {
  llvm::StringSet<> ops;
  for (const OpDecl &op : getOpTable()) {
    INFO(op.name);
    CHECK(ops.insert(op.name).second);
    CHECK(lookupOp(op.name) == &op);
    CHECK(op.build);
    CHECK(llvm::StringRef(op.doc).size() > 0);
    CHECK(llvm::StringRef(op.resultElementType).size() > 0);
    llvm::StringSet<> names;
    for (const OperandDecl &operand : op.operands) {
      CHECK(names.insert(operand.name).second);
      CHECK(llvm::StringRef(operand.elementType).size() > 0);
      // A '|' would split a markdown table cell.
      CHECK_FALSE(llvm::StringRef(operand.doc).contains('|'));
    }
    for (const KeywordDecl &keyword : op.keywords) {
      INFO(keyword.name);
      CHECK(names.insert(keyword.name).second);
      CHECK((keyword.kind == ValueKind::Tensor) ==
            (keyword.elementType != nullptr));
      CHECK((keyword.kind == ValueKind::Choice) == !keyword.choices.empty());
      CHECK(llvm::StringRef(keyword.defaultDoc).size() > 0);
      CHECK(llvm::StringRef(keyword.doc).size() > 0);
      CHECK_FALSE(llvm::StringRef(keyword.doc).contains('|'));
      CHECK_FALSE(llvm::StringRef(keyword.defaultDoc).contains('|'));
    }
  }
  CHECK(lookupOp("attention"));
  CHECK_FALSE(lookupOp("softmax"));
}

TEST_CASE("the markdown lists every operand and keyword", "[optable]") {
  std::string text;
  llvm::raw_string_ostream os(text);
  printOpTable(os);
  CHECK(llvm::StringRef(text).starts_with(
      "`attention(query, key, value, keyword = value, ...)`: "));
  for (const OpDecl &op : getOpTable()) {
    for (const OperandDecl &operand : op.operands)
      CHECK(llvm::StringRef(text).contains(
          ("| `" + llvm::StringRef(operand.name) + "` |").str()));
    for (const KeywordDecl &keyword : op.keywords)
      CHECK(llvm::StringRef(text).contains(
          ("| `" + llvm::StringRef(keyword.name) + "` |").str()));
  }
  CHECK(llvm::StringRef(text).contains(
      "| `mask` | `none` or `causal` | `none` |"));
  CHECK(llvm::StringRef(text).contains("| `segments` | `i32` tensor |"));
}

TEST_CASE("close names are suggested, far ones are not", "[optable]") {
  llvm::StringRef keywords[] = {"mask",   "scale",    "window",
                                "global", "segments", "q_segments"};
  CHECK(findClosestName("windw", keywords) == "window");
  CHECK(findClosestName("Mask", keywords) == "mask");
  CHECK(findClosestName("segment", keywords) == "segments");
  CHECK(findClosestName("q_segment", keywords) == "q_segments");
  CHECK_FALSE(findClosestName("bias", keywords));
  CHECK_FALSE(findClosestName("x", keywords));
  llvm::StringRef ops[] = {"attention"};
  CHECK(findClosestName("atention", ops) == "attention");
  CHECK(findClosestName("attn", ops) == std::nullopt);
  CHECK_FALSE(findClosestName("softmax", ops));
}

TEST_CASE("unknown ops and keywords", "[optable][errors]") {
  CHECK(Built("input q: [1]\no = atention(q)\noutput o").error() ==
        "2:5: unknown op 'atention'; did you mean 'attention'?");
  CHECK(Built("input q: [1]\no = softmax(q)\noutput o").error() ==
        "2:5: unknown op 'softmax'; available ops: attention, attention_probs, linear, "
            "rms_norm, layer_norm, rope, gelu, silu, relu, add, mul, "
            "split_heads, merge_heads, chunk, embedding, rows");
  CHECK(errorOf(", windw = 3") ==
        "8:24: unknown keyword 'windw' for attention; did you mean 'window'?");
  CHECK(errorOf(", dropout = x") ==
        "8:24: unknown keyword 'dropout' for attention; expected one of mask, "
        "scale, window, global, segments, q_segments, kv_lengths, q_lengths, "
        "similarity, temperature, bias, alibi, softcap");
}

TEST_CASE("operand counts and tensor operands", "[optable][errors]") {
  CHECK(Built("input q: [1]\no = attention(q, q)\noutput o").error() ==
        "2:5: attention takes 3 tensors (query, key, value), got 2");
  CHECK(Built("input q: [1]\no = attention()\noutput o").error() ==
        "2:5: attention takes 3 tensors (query, key, value), got 0");
  CHECK(errorOf(", q, k") ==
        "8:24: attention takes 3 tensors (query, key, value), got 5");
  CHECK(Built("input q: [1]\no = attention(q, 2.5, q)\noutput o").error() ==
        "2:18: expected a tensor name for 'key', got 2.5");
  CHECK(Built("input q: [1]\no = attention(q, [1], q)\noutput o").error() ==
        "2:18: expected a tensor name for 'key', got a list");
  CHECK(Built("input q: [1]\no = attention(q, kk, q)\noutput o").error() ==
        "2:18: use of undefined value 'kk'");
  CHECK(Built("input q: [1]\ninput k: [1]\no = attention(q, kk, q)\noutput o")
            .error() == "3:18: use of undefined value 'kk'; did you mean 'k'?");
  CHECK(
      Built("input q: i32[1]\no = attention(q, q, q)\noutput o").error() ==
      "2:15: expected an f32, f16 or bf16 tensor for 'query', got 'q' of "
      "element type i32");
}

TEST_CASE("keyword value kinds", "[optable][errors]") {
  CHECK(errorOf(", mask = upper") ==
        "8:31: expected 'none' or 'causal' for 'mask', got 'upper'");
  CHECK(errorOf(", mask = causl") ==
        "8:31: expected 'none' or 'causal' for 'mask', got 'causl'; did you "
        "mean 'causal'?");
  CHECK(errorOf(", mask = 1") ==
        "8:31: expected 'none' or 'causal' for 'mask', got 1");
  CHECK(errorOf(", scale = causal") ==
        "8:32: expected a number for 'scale', got 'causal'");
  CHECK(errorOf(", scale = [1]") ==
        "8:32: expected a number for 'scale', got a list");
  CHECK(errorOf(", window = causal") ==
        "8:33: expected an integer or a list of integers for 'window', got "
        "'causal'");
  CHECK(errorOf(", window = 2.5") ==
        "8:33: expected an integer or a list of integers for 'window', got "
        "2.5");
  CHECK(errorOf(", window = [4, 1.5]") ==
        "8:37: expected an integer in the list for 'window', got 1.5");
  CHECK(errorOf(", window = [4, [0]]") ==
        "8:37: expected an integer in the list for 'window', got a list");
  CHECK(errorOf(", global = 1e30") ==
        "8:33: expected an integer or a list of integers for 'global', got "
        "1e+30");
  CHECK(errorOf(", global = 99999999999999999999") ==
        "8:33: integer 1e+20 for 'global' is out of range");
  CHECK(errorOf(", segments = 3") ==
        "8:35: expected a tensor name for 'segments', got 3");
  CHECK(errorOf(", segments = x") ==
        "8:35: expected an i32 tensor for 'segments', got 'x' of element "
        "type f32");
  CHECK(errorOf(", kv_lengths = q") ==
        "8:37: expected an i32 tensor for 'kv_lengths', got 'q' of element "
        "type f32");
  CHECK(errorOf(", q_lengths = lns") ==
        "8:36: use of undefined value 'lns'; did you mean 'lens'?");
}

TEST_CASE("attention: scale, window and global values", "[optable][errors]") {
  CHECK(errorOf(", scale = 0") ==
        "8:32: expected scale to be a finite, non-zero number");
  CHECK(errorOf(", scale = 1e39") ==
        "8:32: expected scale to be a finite, non-zero number");
  CHECK(errorOf(", window = -1") ==
        "8:33: expected the window size to be non-negative, got -1");
  CHECK(errorOf(", window = [1, 2, 3]") ==
        "8:33: expected 'window' to be W or [left, right], got a list of 3 "
        "values");
  CHECK(errorOf(", window = []") ==
        "8:33: expected 'window' to be W or [left, right], got a list of 0 "
        "values");
  CHECK(errorOf(", window = [-3, 0]") ==
        "8:34: expected the window's left size to be non-negative, got -3");
  CHECK(errorOf(", window = [3, -1]") ==
        "8:37: expected the window's right size to be non-negative, got -1");
  CHECK(errorOf(", mask = causal, window = [8, 2]") ==
        "8:52: expected the window's right size to be 0 with mask = causal "
        "(no key after the query is visible), got 2");
  CHECK(errorOf(", window = [8, 2], mask = causal") ==
        "8:37: expected the window's right size to be 0 with mask = causal "
        "(no key after the query is visible), got 2");
  CHECK(errorOf(", global = 0") ==
        "8:33: expected 'global' to be at least 1 (the number of leading "
        "global positions), got 0");
  CHECK(errorOf(", global = 17") ==
        "8:33: expected 'global' (17) to be at most the number of keys (16)");
  CHECK(errorOf(", global = []") ==
        "8:33: expected at least one position in 'global'");
  CHECK(errorOf(", global = [3, -1]") ==
        "8:37: expected global positions to be non-negative, got -1");
  Built duplicate(modelWith(", global = [5, 1, 5, 1]"));
  CHECK(duplicate.error() == "8:43: global position 1 is listed twice");
  CHECK(duplicate.notes == std::vector<std::string>{"8:37: first listed here"});
  CHECK(errorOf(", q_segments = qseg") ==
        "8:37: 'q_segments' needs 'segments' (the segment ids of the keys)");
}

TEST_CASE("attention: what the keywords build", "[optable]") {
  SECTION("no keyword: no mask attribute, no extra operands") {
    Built built(modelWith(""));
    SdpaOp op = built.sdpa();
    CHECK_FALSE(op.getMaskAttr());
    CHECK_FALSE(op.getScaleAttr());
    CHECK_FALSE(op.getKvSegments());
    CHECK_FALSE(op.getQLengths());
  }
  SECTION("window = W is [W, 0] with causal") {
    Built built(modelWith(", mask = causal, window = 4"));
    MaskAttr mask = built.sdpa().getMaskAttr();
    REQUIRE(mask);
    CHECK(mask.getKind() == MaskKind::causal);
    CHECK(mask.getWindowLeft() == 4);
    CHECK(mask.getWindowRight() == 0);
    CHECK(mask.getGlobal().empty());
  }
  SECTION("window = W is [W, W] without causal, whatever the keyword order") {
    Built built(modelWith(", window = 4, mask = none"));
    MaskAttr mask = built.sdpa().getMaskAttr();
    CHECK(mask.getKind() == MaskKind::none);
    CHECK(mask.getWindowLeft() == 4);
    CHECK(mask.getWindowRight() == 4);
  }
  SECTION("window = [L, R]; global = N") {
    Built built(modelWith(", window = [3, 0], mask = causal, global = 3"));
    MaskAttr mask = built.sdpa().getMaskAttr();
    CHECK(mask.getWindowLeft() == 3);
    CHECK(mask.getWindowRight() == 0);
    CHECK(mask.getGlobal() == llvm::ArrayRef<int64_t>{0, 1, 2});
  }
  SECTION("global = [...] is sorted; no window is -1, -1") {
    Built built(modelWith(", global = [9, 0, 4]"));
    MaskAttr mask = built.sdpa().getMaskAttr();
    REQUIRE(mask);
    CHECK(mask.getKind() == MaskKind::none);
    CHECK(mask.getWindowLeft() == -1);
    CHECK(mask.getWindowRight() == -1);
    CHECK(mask.getGlobal() == llvm::ArrayRef<int64_t>{0, 4, 9});
  }
  SECTION("tensor keywords become the op's operands") {
    Built built(
        modelWith(", q_lengths = lens, segments = seg, q_segments = qseg, "
                  "kv_lengths = lens, scale = 0.5"));
    SdpaOp op = built.sdpa();
    auto func = op->getParentOfType<func::FuncOp>();
    CHECK(op.getKvSegments() == func.getArgument(4));
    CHECK(op.getQSegments() == func.getArgument(5));
    CHECK(op.getKvLengths() == func.getArgument(6));
    CHECK(op.getQLengths() == func.getArgument(6));
    CHECK_FALSE(op.getMaskAttr());
    CHECK(op.getScaleAttr().getValueAsDouble() == 0.5);
    CHECK(cast<RankedTensorType>(func.getArgument(6).getType())
              .getElementType()
              .isInteger(32));
  }
}
