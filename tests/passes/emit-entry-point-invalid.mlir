// RUN: attn-opt %s --split-input-file --attn-emit-entry-point --verify-diagnostics

// expected-error @+1 {{missing attn.signature/attn.entry; run --attn-export-signature first}}
module {
}

// -----

// expected-error @+1 {{entry function @m is not an llvm.func; run the LLVM lowering first}}
module attributes {attn.entry = @m, attn.signature = "attnc-model 1\0Ainput x f32 4\0A"} {
  func.func @m(%x: memref<4xf32>) { return }
}

// -----

module attributes {attn.entry = @m, attn.signature = "attnc-model 1\0Ainput x f32 4\0Aoutput y f32 4\0A"} {
  // expected-error @+1 {{expected the entry function to take 2 pointers (bare-pointer memref convention), got '!llvm.func<void (ptr)>'}}
  llvm.func @m(%x: !llvm.ptr) { llvm.return }
}
