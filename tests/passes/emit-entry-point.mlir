// RUN: attn-opt %s --split-input-file --attn-emit-entry-point | FileCheck %s

// The signature becomes a NUL-terminated global and attn_model_run loads one
// pointer per tensor from its argument and calls the entry function.
// CHECK-NOT:   attn.signature
//     CHECK:   llvm.mlir.global external constant @attn_model_signature("attnc-model 1\0Aname m\0Aflops 0\0Ainput x f32 4\0Aoutput y f32 4\0A\00")
//     CHECK:   llvm.func @attn_model_run(%[[ARGV:.+]]: !llvm.ptr)
//     CHECK:     %[[S0:.+]] = llvm.getelementptr %[[ARGV]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
//     CHECK:     %[[P0:.+]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
//     CHECK:     %[[S1:.+]] = llvm.getelementptr %[[ARGV]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
//     CHECK:     %[[P1:.+]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.ptr
//     CHECK:     llvm.call @m(%[[P0]], %[[P1]])
module attributes {attn.entry = @m, attn.signature = "attnc-model 1\0Aname m\0Aflops 0\0Ainput x f32 4\0Aoutput y f32 4\0A"} {
  llvm.func @m(%x: !llvm.ptr, %y: !llvm.ptr) {
    llvm.return
  }
}
