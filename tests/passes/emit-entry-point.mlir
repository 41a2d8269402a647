// RUN: attn-opt %s --split-input-file --attn-emit-entry-point | FileCheck %s
// RUN: attn-opt %s --split-input-file --attn-emit-entry-point="prefix=net main-alias" | FileCheck %s --check-prefix=ALIAS

// The signature becomes the typed table of runtime/AttnModel.h: per tensor a
// name, dtype, role, content, rank, bound and shape; <prefix>_run_buffers loads one
// pointer per tensor and calls the entry function, which becomes internal.
// CHECK-NOT:   attn.signature
//     CHECK:   llvm.func internal @m(
//     CHECK:   llvm.func @m_run_buffers(%[[ARGV:.+]]: !llvm.ptr) -> i32
//     CHECK:     %[[S0:.+]] = llvm.getelementptr %[[ARGV]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
//     CHECK:     %[[P0:.+]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
//     CHECK:     %[[S2:.+]] = llvm.getelementptr %[[ARGV]][2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
//     CHECK:     %[[P2:.+]] = llvm.load %[[S2]] : !llvm.ptr -> !llvm.ptr
//     CHECK:     llvm.call @m(%[[P0]], %{{.+}}, %[[P2]])
//     CHECK:     %[[OK:.+]] = llvm.mlir.constant(0 : i32) : i32
//     CHECK:     llvm.return %[[OK]] : i32
//     CHECK:   llvm.mlir.global internal constant @m_tensor0_name("x\00")
//     CHECK:   llvm.mlir.global internal constant @m_tensor0_shape(dense<[2, 4]> : tensor<2xi64>)
//     CHECK:   llvm.mlir.global internal constant @m_tensor1_name("len\00")
//     CHECK:   llvm.mlir.global internal constant @m_tensors() {{.+}} : !llvm.array<3 x struct<(ptr, i32, i32, i32, i32, i64, ptr)>>
// The lengths tensor: dtype i32 (1), role input (0), content lengths (1),
// rank 1, bound 4.
//     CHECK:     llvm.mlir.constant(1 : i32) : i32
//     CHECK:     llvm.mlir.constant(4 : i64) : i64
//     CHECK:   llvm.mlir.global external constant @m_model() {{.+}} : !llvm.struct<(i32, i32, ptr, i64, ptr, ptr)>
//     CHECK:     llvm.mlir.constant(3 : i32) : i32
//     CHECK:     llvm.mlir.constant(77 : i64) : i64
//     CHECK:     llvm.mlir.addressof @m_run_buffers
// CHECK-NOT:   attn_main_model
//     ALIAS:   llvm.func @net_run_buffers(
//     ALIAS:   llvm.mlir.global external constant @net_model()
//     ALIAS:   llvm.mlir.alias external @attn_main_model : !llvm.struct<(i32, i32, ptr, i64, ptr, ptr)>
//     ALIAS:     llvm.mlir.addressof @net_model
module attributes {attn.entry = @m, attn.signature = {name = "m", flops = 77 : i64, tensors = [
    {name = "x", dtype = "f32", role = "input", content = "data", bound = 0 : i64, shape = array<i64: 2, 4>},
    {name = "len", dtype = "i32", role = "input", content = "lengths", bound = 4 : i64, shape = array<i64: 2>},
    {name = "y", dtype = "f32", role = "output", content = "data", bound = 0 : i64, shape = array<i64: 2, 4>}]}} {
  llvm.func @m(%x: !llvm.ptr, %len: !llvm.ptr, %y: !llvm.ptr) {
    llvm.return
  }
}

// -----

// Token ids (i64 here; dtype 4) are checked against [0, bound): an id at or
// above the vocabulary size, or a negative one, makes run return
// ATTNRT_ERROR_INVALID_ARG (4) before the entry is called.
//     CHECK:   llvm.func @t_run_buffers(
//     CHECK:     llvm.load {{.*}} : !llvm.ptr -> i64
//     CHECK:     llvm.icmp "slt" {{.*}} : i64
//     CHECK:     llvm.icmp "sge" {{.*}} : i64
//     CHECK:     llvm.call @t(
//     CHECK:   llvm.mlir.global internal constant @t_tensors()
//     CHECK:     llvm.mlir.constant(4 : i32) : i32
//     CHECK:     llvm.mlir.constant(3 : i32) : i32
//     CHECK:     llvm.mlir.constant(100 : i64) : i64
module attributes {attn.entry = @t, attn.signature = {name = "t", flops = 0 : i64, tensors = [
    {name = "ids", dtype = "i64", role = "input", content = "tokens", bound = 100 : i64, shape = array<i64: 1, 8>},
    {name = "y", dtype = "f32", role = "output", content = "data", bound = 0 : i64, shape = array<i64: 1, 8, 4>}]}} {
  llvm.func @t(%ids: !llvm.ptr, %y: !llvm.ptr) {
    llvm.return
  }
}
