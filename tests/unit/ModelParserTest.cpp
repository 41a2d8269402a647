//===- ModelParserTest.cpp - Tests for the .model parser ------------------===//
//
// Parses model descriptions from memory and checks the AST, the locations it
// records, and the exact text and line:col of every parser error.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/ModelAST.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mlir::attn::model;

namespace {

/// Parses `text` as `test.model`, keeping the buffer alive so that the AST's
/// locations can be inspected, and collecting diagnostics instead of printing.
struct Parsed {
  llvm::SourceMgr sourceMgr;
  std::vector<llvm::SMDiagnostic> diags;
  std::optional<Model> model;

  explicit Parsed(llvm::StringRef text, llvm::StringRef defaultName = "stem") {
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "test.model"),
        llvm::SMLoc());
    sourceMgr.setDiagHandler(
        [](const llvm::SMDiagnostic &diag, void *self) {
          static_cast<Parsed *>(self)->diags.push_back(diag);
        },
        this);
    model = parseModel(sourceMgr, defaultName);
  }

  /// "line:col" of a location in the buffer.
  std::string at(llvm::SMLoc loc) const {
    auto [line, col] = sourceMgr.getLineAndColumn(loc);
    return std::to_string(line) + ":" + std::to_string(col);
  }

  /// The parse's only error as "line:col: message" (notes are ignored).
  std::string error() const {
    REQUIRE_FALSE(model);
    std::vector<std::string> errors;
    for (const llvm::SMDiagnostic &diag : diags)
      if (diag.getKind() == llvm::SourceMgr::DK_Error)
        errors.push_back(std::to_string(diag.getLineNo()) + ":" +
                         std::to_string(diag.getColumnNo() + 1) + ": " +
                         diag.getMessage().str());
    REQUIRE(errors.size() == 1);
    return errors.front();
  }
};

std::string errorOf(llvm::StringRef text) { return Parsed(text).error(); }

/// Parses `text`, which must be valid, and returns the model.
Model parseOk(llvm::StringRef text, llvm::StringRef defaultName = "stem") {
  Parsed parsed(text, defaultName);
  INFO((parsed.diags.empty() ? "" : parsed.diags.front().getMessage().str()));
  REQUIRE(parsed.model);
  REQUIRE(parsed.diags.empty());
  return std::move(*parsed.model);
}

const char *const kExample = R"(# Comments run from '#' to end of line.
model causal_decoder

input q: [1, 8, 1024, 64]
input k: f32[1, 8, 1024, 64]
input v: [1, 8, 1024, 64]

o = attention(q, k, v, mask = causal, scale = 0.125)
o2 = attention(o, k, v)
output o, o2
)";

} // namespace

TEST_CASE("a full model parses into the expected AST", "[parser]") {
  Parsed parsed(kExample);
  REQUIRE(parsed.diags.empty());
  REQUIRE(parsed.model);
  const Model &model = *parsed.model;

  CHECK(model.name == "causal_decoder");
  CHECK(parsed.at(model.nameLoc) == "2:7");

  REQUIRE(model.inputs.size() == 3);
  const char *names[] = {"q", "k", "v"};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(model.inputs[i].name == names[i]);
    CHECK(model.inputs[i].elementType == "f32");
    CHECK(model.inputs[i].shape == std::vector<int64_t>{1, 8, 1024, 64});
    CHECK(parsed.at(model.inputs[i].loc) == std::to_string(4 + i) + ":7");
  }

  REQUIRE(model.assigns.size() == 2);
  const Assign &first = model.assigns[0];
  CHECK(first.result == "o");
  CHECK(parsed.at(first.loc) == "8:1");
  CHECK(first.callee == "attention");
  CHECK(parsed.at(first.calleeLoc) == "8:5");
  REQUIRE(first.args.size() == 5);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(first.args[i].keyword.empty());
    CHECK(first.args[i].value.kind == Expr::Kind::Name);
    CHECK(first.args[i].value.name == names[i]);
  }
  CHECK(parsed.at(first.args[1].loc) == "8:18");
  const Arg &mask = first.args[3];
  CHECK(mask.keyword == "mask");
  CHECK(parsed.at(mask.loc) == "8:24");
  CHECK(mask.value.kind == Expr::Kind::Name);
  CHECK(mask.value.name == "causal");
  CHECK(parsed.at(mask.value.loc) == "8:31");
  const Arg &scale = first.args[4];
  CHECK(scale.keyword == "scale");
  CHECK(scale.value.kind == Expr::Kind::Number);
  CHECK(scale.value.number == 0.125);
  CHECK_FALSE(scale.value.isInteger);
  CHECK(parsed.at(scale.value.loc) == "8:47");

  const Assign &second = model.assigns[1];
  CHECK(second.result == "o2");
  REQUIRE(second.args.size() == 3);
  CHECK(second.args[0].value.name == "o");

  REQUIRE(model.outputs.size() == 2);
  CHECK(model.outputs[0].name == "o");
  CHECK(parsed.at(model.outputs[0].loc) == "10:8");
  CHECK(model.outputs[1].name == "o2");
  CHECK(parsed.at(model.outputs[1].loc) == "10:11");
}

TEST_CASE("weights, strings and layers parse into the AST", "[parser]") {
  Parsed p(R"(input x: [2, 4]
weight w: [4] = "model.norm.\"w\"\\"
weight v: f32[3, 4]
layer block(h, m)
  weight a: [4, 4] = "attn.q"
  y = linear(h, a)
  return y
end
z = block(x, x, repeat = 3, prefix = "layers.{i}.")
output z
)");
  REQUIRE(p.model);
  const Model &m = *p.model;
  REQUIRE(m.weights.size() == 2);
  CHECK(m.weights[0].name == "w");
  CHECK(m.weights[0].fileName == "model.norm.\"w\"\\");
  CHECK(m.weights[0].shape == std::vector<int64_t>{4});
  CHECK(m.weights[1].fileName.empty());
  CHECK(p.at(m.weights[1].loc) == "3:8");
  REQUIRE(m.layers.size() == 1);
  const Layer &layer = m.layers[0];
  CHECK(layer.name == "block");
  REQUIRE(layer.params.size() == 2);
  CHECK(layer.params[1].name == "m");
  REQUIRE(layer.weights.size() == 1);
  CHECK(layer.weights[0].fileName == "attn.q");
  REQUIRE(layer.assigns.size() == 1);
  CHECK(layer.result.name == "y");
  CHECK(m.findLayer("block") == &layer);
  CHECK(m.findLayer("other") == nullptr);
  REQUIRE(m.assigns.size() == 1);
  const Assign &call = m.assigns[0];
  CHECK(call.callee == "block");
  REQUIRE(call.args.size() == 4);
  CHECK(call.args[2].keyword == "repeat");
  CHECK(call.args[3].value.kind == Expr::Kind::String);
  CHECK(call.args[3].value.name == "layers.{i}.");
  // A layer's names are its own: `y` is free again at the top level.
  CHECK(Parsed("layer f(h)\n  y = silu(h)\n  return y\nend\ninput y: [1]\n"
               "o = silu(y)\noutput o\n")
            .model.has_value());
}

TEST_CASE("a diagnostic prints as file:line:col: error with a caret",
          "[parser]") {
  Parsed parsed("input q: [1, 0]\n");
  REQUIRE(parsed.diags.size() == 1);
  std::string printed;
  llvm::raw_string_ostream os(printed);
  parsed.diags.front().print(nullptr, os, /*ShowColors=*/false);
  CHECK(printed == "test.model:1:14: error: dimension must be a positive "
                   "integer, got 0\ninput q: [1, 0]\n             ^\n");
}

TEST_CASE("a call may span lines, with comments and a trailing comma",
          "[parser]") {
  Parsed parsed("input q: [2, 4]\n"
                "o = attention(   # the query feeds all three\n"
                "    q,\n"
                "\n"
                "    q, q,        # key, value\n"
                "    mask = none,\n"
                ")\n"
                "output o");
  REQUIRE(parsed.model);
  const Assign &assign = parsed.model->assigns.at(0);
  REQUIRE(assign.args.size() == 4);
  CHECK(parsed.at(assign.args[0].loc) == "3:5");
  CHECK(parsed.at(assign.args[2].loc) == "5:8");
  CHECK(assign.args[3].keyword == "mask");
  CHECK(parsed.at(parsed.model->outputs[0].loc) == "8:8");
}

TEST_CASE("comments and blank lines may appear anywhere", "[parser]") {
  Model model = parseOk("# header\n"
                        "\n"
                        "   # indented comment\n"
                        "input q:[3]# no space before the comment\n"
                        "input k : f32 [ 3 ] # spaces everywhere\n"
                        "o=f(q,k)#\n"
                        "output o,q   # trailing\n"
                        "# last line without a newline");
  CHECK(model.inputs.size() == 2);
  CHECK(model.inputs[1].shape == std::vector<int64_t>{3});
  CHECK(model.assigns.at(0).callee == "f");
  CHECK(model.outputs.size() == 2);
}

TEST_CASE("CRLF line endings are newlines", "[parser]") {
  Parsed parsed("model m\r\ninput q: [1]\r\no = attention(q,\r\n q, q)\r\n"
                "output o\r\n");
  REQUIRE(parsed.model);
  CHECK(parsed.model->name == "m");
  CHECK(parsed.at(parsed.model->outputs[0].loc) == "5:8");
  CHECK(errorOf("input q: [1]\r\ninput q: [1]\r\n") ==
        "2:7: 'q' is already defined at line 1");
}

TEST_CASE("the model name defaults to the given name", "[parser]") {
  Parsed parsed("input q: [1]\noutput q\n", "my-file");
  REQUIRE(parsed.model);
  CHECK(parsed.model->name == "my-file");
  CHECK(parsed.at(parsed.model->nameLoc) == "1:1");
  // `model` may come after other statements.
  CHECK(parseOk("input q: [1]\noutput q\nmodel late\n").name == "late");
}

TEST_CASE("shapes and element types", "[parser]") {
  Model model = parseOk("input a: f32[1, 2, 3, 4, 5, 6, 7, 8]\n"
                        "input b: [35184372088832]\n" // 2^45 f32: 128 TiB
                        "input c: [007]\n"
                        "output a");
  CHECK(model.inputs[0].elementType == "f32");
  CHECK(model.inputs[0].shape.size() == 8);
  CHECK(model.inputs[1].shape == std::vector<int64_t>{int64_t(1) << 45});
  CHECK(model.inputs[2].shape == std::vector<int64_t>{7});
  CHECK(model.inputs[2].elementType == "f32");
  Model ints = parseOk("input lens: i32[2]\ninput seg: i32 [2, 9]\noutput lens");
  CHECK(ints.inputs[0].elementType == "i32");
  CHECK(ints.inputs[0].shape == std::vector<int64_t>{2});
  CHECK(ints.inputs[1].elementType == "i32");
  CHECK(ints.inputs[1].shape == std::vector<int64_t>{2, 9});
  // A shape may be split across lines.
  CHECK(parseOk("input a: [1,\n 2]\noutput a").inputs[0].shape.size() == 2);
}

TEST_CASE("numbers: integers, floats and negatives", "[parser]") {
  Model model = parseOk("o = f(64, 0.125, 1e-3, .5, 1., 2E+2, -3, -0.5)\n"
                        "output o");
  const std::vector<Arg> &args = model.assigns.at(0).args;
  REQUIRE(args.size() == 8);
  const double values[] = {64, 0.125, 1e-3, .5, 1., 2e2, -3, -0.5};
  const bool integers[] = {true,  false, false, false,
                           false, false, true,  false};
  for (size_t i = 0; i < args.size(); ++i) {
    INFO("argument " << i);
    CHECK(args[i].value.kind == Expr::Kind::Number);
    CHECK(args[i].value.number == values[i]);
    CHECK(args[i].value.isInteger == integers[i]);
  }
  // The location of a negative number is its '-'.
  Parsed parsed("o = f(x = -2)\noutput o");
  REQUIRE(parsed.model);
  CHECK(parsed.at(parsed.model->assigns[0].args[0].value.loc) == "1:11");
}

TEST_CASE("lists, dotted names and keywords used as names", "[parser]") {
  Model model = parseOk("o = f([1, 8, [2.5, -1]], [], a.b_2, input, "
                        "model = output)\noutput o");
  const std::vector<Arg> &args = model.assigns.at(0).args;
  REQUIRE(args.size() == 5);
  const Expr &list = args[0].value;
  REQUIRE(list.kind == Expr::Kind::List);
  REQUIRE(list.elements.size() == 3);
  CHECK(list.elements[1].number == 8);
  REQUIRE(list.elements[2].kind == Expr::Kind::List);
  CHECK(list.elements[2].elements[1].number == -1);
  CHECK(args[1].value.kind == Expr::Kind::List);
  CHECK(args[1].value.elements.empty());
  CHECK(args[2].value.name == "a.b_2");
  CHECK(args[3].value.name == "input");
  CHECK(args[4].keyword == "model");
  CHECK(args[4].value.name == "output");
  // No arguments at all is syntactically fine; IRGen judges the op.
  CHECK(parseOk("o = f()\noutput o").assigns[0].args.empty());
}

TEST_CASE("shape errors", "[parser][errors]") {
  SECTION("bad separator") {
    CHECK(errorOf("input q: [1, 8 x]") ==
          "1:16: expected ']' or ',' in shape, got 'x'");
  }
  SECTION("zero") {
    CHECK(errorOf("input q: [1, 0]") ==
          "1:14: dimension must be a positive integer, got 0");
  }
  SECTION("negative") {
    CHECK(errorOf("input q: [-2]") ==
          "1:11: dimension must be a positive integer, got -2");
  }
  SECTION("fraction") {
    CHECK(errorOf("input q: [1.5]") ==
          "1:11: dimension must be a positive integer, got 1.5");
  }
  SECTION("overflow") {
    CHECK(errorOf("input q: [99999999999999999999]") ==
          "1:11: dimension 99999999999999999999 does not fit in 64 bits");
  }
  SECTION("too large to allocate") {
    CHECK(errorOf("input q: [9223372036854775807]") ==
          "1:11: f32[9223372036854775807] would take 3.69e+19 bytes, more "
          "than any machine can allocate (a tensor holds at most 2^47 bytes, "
          "128 TiB)");
    CHECK(errorOf("input q: f16[2, 35184372088832, 2]") ==
          "1:33: f16[2, 35184372088832, 2] would take 2.81e+14 bytes, more "
          "than any machine can allocate (a tensor holds at most 2^47 bytes, "
          "128 TiB)");
  }
  SECTION("empty") {
    CHECK(errorOf("input q: []") ==
          "1:11: expected a dimension (positive integer) in shape, got ']'");
  }
  SECTION("trailing comma") {
    CHECK(errorOf("input q: [1,]") ==
          "1:13: expected a dimension (positive integer) in shape, got ']'");
  }
  SECTION("missing shape") {
    CHECK(errorOf("input q: f32\n") ==
          "1:13: expected a shape such as [1, 8, 128, 64] or "
          "f32[1, 8, 128, 64], got end of line");
  }
  SECTION("missing colon") {
    CHECK(errorOf("input q [1]") ==
          "1:9: expected ':' after input name 'q', got '['");
  }
  SECTION("missing name") {
    CHECK(errorOf("input : [1]") ==
          "1:7: expected an input name after 'input', got ':'");
  }
  SECTION("rank above 8") {
    CHECK(errorOf("input q: [1, 1, 1, 1, 1, 1, 1, 1, 1]") ==
          "1:10: tensor rank 9 exceeds the maximum of 8");
    CHECK(errorOf("input q: f32[1, 1, 1, 1, 1, 1, 1, 1, 1]") ==
          "1:10: tensor rank 9 exceeds the maximum of 8");
  }
  SECTION("half-precision weights") {
    CHECK(errorOf("weight w: f16[1]") ==
          "1:11: weights are f32 (f16 and bf16 weight files are converted as "
          "they are read), not 'f16'");
    CHECK(errorOf("weight w: bf16[1]") ==
          "1:11: weights are f32 (f16 and bf16 weight files are converted as "
          "they are read), not 'bf16'");
  }
  SECTION("unknown element type") {
    CHECK(errorOf("input q: f64[1]") == "1:10: unknown element type 'f64'; "
                                        "expected f32, f16, bf16, i32 or i64");
    CHECK(errorOf("input q: I32[1]") == "1:10: unknown element type 'I32'; "
                                        "expected f32, f16, bf16, i32 or i64");
  }
}

TEST_CASE("name errors", "[parser][errors]") {
  SECTION("input defined twice") {
    CHECK(errorOf("input q: [1]\ninput k: [1]\ninput q: [2]") ==
          "3:7: 'q' is already defined at line 1");
  }
  SECTION("result redefines an input") {
    CHECK(errorOf("input q: [1]\n\nq = attention(q, q, q)") ==
          "3:1: 'q' is already defined at line 1");
  }
  SECTION("output not defined") {
    CHECK(errorOf("input q: [1]\noutput q, x") ==
          "2:11: output 'x' is not defined");
  }
  SECTION("output defined only later") {
    CHECK(errorOf("output o\no = f()") == "1:8: output 'o' is not defined");
  }
  SECTION("output listed twice") {
    CHECK(errorOf("input o: [1]\noutput o, o") ==
          "2:11: output 'o' is listed twice");
    CHECK(errorOf("input o: [1]\noutput o\noutput o") ==
          "3:8: output 'o' is listed twice");
  }
  SECTION("no output") {
    CHECK(errorOf("") == "1:1: model has no output; add 'output NAME'");
    CHECK(errorOf("# only a comment\n\n") ==
          "1:1: model has no output; add 'output NAME'");
    CHECK(errorOf("input q: [1]\n") ==
          "1:1: model has no output; add 'output NAME'");
  }
  SECTION("model named twice") {
    CHECK(errorOf("model a\nmodel b") == "2:1: a model may only be named once");
  }
  SECTION("model without a name") {
    CHECK(errorOf("model\n") ==
          "1:6: expected a model name after 'model', got end of line");
  }
  SECTION("output without a name") {
    CHECK(errorOf("input q: [1]\noutput") ==
          "2:7: expected an output name, got end of file");
  }
}

TEST_CASE("call errors", "[parser][errors]") {
  SECTION("positional after keyword") {
    CHECK(errorOf("o = attention(q, mask = causal, k)") ==
          "1:33: positional argument after keyword argument");
  }
  SECTION("duplicate keyword") {
    CHECK(errorOf("o = attention(q, mask = causal, mask = none)") ==
          "1:33: duplicate keyword argument 'mask'");
  }
  SECTION("not an assignment") {
    CHECK(errorOf("foo bar") == "1:5: expected '=' after 'foo', got 'bar'");
  }
  SECTION("missing op name") {
    CHECK(errorOf("o = (q)") == "1:5: expected an op name after '=', got '('");
  }
  SECTION("missing '('") {
    CHECK(errorOf("o = attention q") ==
          "1:15: expected '(' after op name 'attention', got 'q'");
  }
  SECTION("bad argument") {
    CHECK(errorOf("o = f(q, , k)") ==
          "1:10: expected a value (name, number or list), got ','");
    CHECK(errorOf("o = f(mask = )") ==
          "1:14: expected a value (name, number or list), got ')'");
    CHECK(errorOf("o = f(- x)") == "1:9: expected a number after '-', got 'x'");
  }
  SECTION("bad separator") {
    CHECK(errorOf("o = f(q k)") ==
          "1:9: expected ',' or ')' in the arguments of 'f', got 'k'");
  }
  SECTION("missing ')' before the next statement, with a note") {
    Parsed parsed("o = attention(q, k, v\noutput o");
    CHECK(parsed.error() == "2:1: expected ',' or ')' in the arguments of "
                            "'attention', got 'output'");
    REQUIRE(parsed.diags.size() == 2);
    CHECK(parsed.diags[1].getKind() == llvm::SourceMgr::DK_Note);
    CHECK(parsed.diags[1].getMessage() == "to match this '('");
    CHECK(parsed.diags[1].getColumnNo() + 1 == 14);
  }
  SECTION("bad list") {
    CHECK(errorOf("o = f([1 2])") ==
          "1:10: expected ',' or ']' in list, got '2'");
    CHECK(errorOf("o = f([1,])") ==
          "1:10: expected a value (name, number or list), got ']'");
  }
  SECTION("lists nested too deep") {
    CHECK(errorOf("o = f(" + std::string(17, '[') + std::string(17, ']') +
                  ")") == "1:23: lists may be nested at most 16 deep");
  }
  SECTION("trailing tokens") {
    CHECK(errorOf("input q: [1]\noutput q q") ==
          "2:10: expected end of line after statement, got 'q'");
    CHECK(errorOf("o = f() )") ==
          "1:9: expected end of line after statement, got ')'");
  }
}

TEST_CASE("lexical errors", "[parser][errors]") {
  SECTION("unexpected character") {
    CHECK(errorOf("input q: [1, $]") == "1:14: unexpected character '$'");
    CHECK(errorOf("o = f(.)") == "1:7: unexpected character '.'");
  }
  SECTION("non-ASCII and NUL bytes") {
    CHECK(errorOf("input q\xC3\xA9: [1]") ==
          "1:8: unexpected character '\\xc3'");
    CHECK(errorOf(llvm::StringRef("o = f(\0)", 8)) ==
          "1:7: unexpected character '\\x00'");
  }
  SECTION("statement start") {
    CHECK(errorOf("=") == "1:1: expected a statement (model, input, weight, "
                          "layer, output or NAME = op(...)), got '='");
    CHECK(errorOf("\n\n  42 = f()") ==
          "3:3: expected a statement (model, input, weight, layer, output or "
          "NAME = op(...)), got '42'");
    CHECK(errorOf("$") == "1:1: unexpected character '$'");
  }
  SECTION("invalid numbers") {
    CHECK(errorOf("o = f(12ab)") == "1:7: invalid number '12ab'");
    CHECK(errorOf("o = f(1e)") == "1:7: invalid number '1e'");
    CHECK(errorOf("o = f(1.2.3)") == "1:7: invalid number '1.2.3'");
    CHECK(errorOf("o = f(0x10)") == "1:7: invalid number '0x10'");
    CHECK(errorOf("o = f(1e999)") == "1:7: number 1e999 is out of range");
  }
  SECTION("unterminated brackets at end of file") {
    CHECK(errorOf("o = attention(q,\n  k,") ==
          "1:14: unterminated '(': expected ')' before end of file");
    CHECK(errorOf("input q: [1,\n# comment\n") ==
          "1:10: unterminated '[': expected ']' before end of file");
    CHECK(errorOf("o = f([[1]") ==
          "1:7: unterminated '[': expected ']' before end of file");
  }
  SECTION("long tokens are shortened in messages") {
    std::string longName(100000, 'n');
    CHECK(errorOf("x " + longName) ==
          "1:3: expected '=' after 'x', got '" + std::string(32, 'n') + "...'");
  }
}

TEST_CASE("no input crashes or stays silent on failure", "[parser][fuzz]") {
  // Truncate the example at every byte, and overwrite every byte with each of
  // a few troublesome ones: every parse must either succeed without any
  // diagnostic or fail with exactly one error.
  std::string example = kExample;
  std::vector<std::string> inputs;
  for (size_t i = 0; i <= example.size(); ++i)
    inputs.push_back(example.substr(0, i));
  for (size_t i = 0; i < example.size(); ++i) {
    static const char kBytes[] = "()[],=:-#\n\r x9.\0\xff";
    for (char c : llvm::StringRef(kBytes, sizeof(kBytes) - 1)) {
      std::string mutated = example;
      mutated[i] = c;
      inputs.push_back(mutated);
    }
  }
  inputs.push_back(std::string(100000, '('));
  inputs.push_back("o = f(" + std::string(100000, '['));
  inputs.push_back("o = f(" + std::string(100000, '-'));
  inputs.push_back(std::string(100000, '\n'));
  inputs.push_back("\r\r\r");
  for (const std::string &input : inputs) {
    Parsed parsed(input);
    size_t errors = 0;
    for (const llvm::SMDiagnostic &diag : parsed.diags)
      errors += diag.getKind() == llvm::SourceMgr::DK_Error;
    INFO(input.substr(0, 200));
    CHECK(errors == (parsed.model ? 0 : 1));
  }
}
