// RUN: attn-opt %s --split-input-file --attn-emit-entry-point --verify-diagnostics

// expected-error @+1 {{missing attn.signature/attn.entry; run --attn-export-signature first}}
module {
}

// -----

// expected-error @+1 {{entry function @m is not an llvm.func; run the LLVM lowering first}}
module attributes {attn.entry = @m, attn.signature = {name = "m", flops = 0 : i64, tensors = []}} {
  func.func @m(%x: memref<4xf32>) { return }
}

// -----

module attributes {attn.entry = @m, attn.signature = {name = "m", flops = 0 : i64, tensors = [
    {name = "x", dtype = "f32", role = "input", content = "data", bound = 0 : i64, shape = array<i64: 4>},
    {name = "y", dtype = "f32", role = "output", content = "data", bound = 0 : i64, shape = array<i64: 4>}]}} {
  // expected-error @+1 {{expected the entry function to take 2 pointers (bare-pointer memref convention), got '!llvm.func<void (ptr)>'}}
  llvm.func @m(%x: !llvm.ptr) { llvm.return }
}

// -----

// expected-error @+1 {{malformed attn.signature tensor {content = "data", dtype = "f64", name = "x", role = "input"}}}
module attributes {attn.entry = @m, attn.signature = {name = "m", flops = 0 : i64, tensors = [
    {name = "x", dtype = "f64", role = "input", content = "data"}]}} {
  llvm.func @m(%x: !llvm.ptr) { llvm.return }
}

// -----

// expected-error @+1 {{symbol prefix 'm' clashes with a symbol of the module}}
module attributes {attn.entry = @m, attn.signature = {name = "m", flops = 0 : i64, tensors = []}} {
  llvm.func @m() { llvm.return }
  llvm.func @m_run_buffers() { llvm.return }
}
