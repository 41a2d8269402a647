// RUN: attn-opt %s --attn-cpu-pipeline="gpu-arch=sm_80" | FileCheck %s --implicit-check-not=' gpu.launch ' --implicit-check-not=__nv_ --implicit-check-not=attn.
// RUN: attn-opt %s --attn-cpu-loops-pipeline="gpu-arch=sm_90a" | FileCheck %s --check-prefix=LOOPS

// The cuda pipeline: the attention runs as a kernel of the one gpu.module
// (outlined at the loops stage; 16 query tiles are too few blocks, so the
// keys split into 4 chunks and a second kernel merges them), its host side is a private function the
// entry calls, and the dense layer stays a CPU loop nest (thread pool).
// LOOPS-LABEL: func.func private @attn_m_sdpa_gpu0
//       LOOPS:   gpu.launch_func async [%{{.+}}] @attn_kernels::@attn_m_sdpa_gpu0_kernel blocks in (%c64, %c1, %c1) threads in (%c64, %c1, %c1) {{ *}}dynamic_shared_memory_size %c41600_i32
//       LOOPS:   gpu.launch_func async [%{{.+}}] @attn_kernels::@attn_m_sdpa_gpu0_merge blocks in (%c512, %c1, %c1) threads in (%c128, %c1, %c1)
// LOOPS-LABEL: gpu.module @attn_kernels
//       LOOPS:   gpu.func @attn_m_sdpa_gpu0_kernel({{.+}}) private({{.+}}) kernel
//       LOOPS:     gpu.barrier
//       LOOPS:     math.exp2
// LOOPS-LABEL: func.func @attn_m
//       LOOPS:   scf.parallel
//       LOOPS:   call @attn_m_sdpa_gpu0
//       LOOPS:   memref.dealloc

// Down to LLVM: the kernel is embedded as PTX for sm_80 (PTX ISA 8.0), with
// the special-function unit's ex2 and no libdevice call; the host launches
// it through the mgpu* runtime and the model's run returns the CUDA status.
//       CHECK: llvm.func @attnrt_cuda_status() -> i32
//       CHECK: llvm.func internal @attn_m_sdpa_gpu0(
//       CHECK:   llvm.call @mgpuStreamCreate
//       CHECK:   llvm.call @mgpuMemAlloc
//       CHECK:   llvm.call @mgpuMemcpy
//       CHECK:   gpu.launch_func <%{{.+}} : !llvm.ptr> @attn_kernels::@attn_m_sdpa_gpu0_kernel
//       CHECK:   gpu.launch_func <%{{.+}} : !llvm.ptr> @attn_kernels::@attn_m_sdpa_gpu0_merge
//       CHECK:   llvm.call @mgpuMemFree
//       CHECK:   llvm.call @mgpuStreamSynchronize
//       CHECK: gpu.binary @attn_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
//  CHECK-SAME:   .version 8.0\0A.target sm_80
//  CHECK-SAME:   .visible .entry attn_m_sdpa_gpu0_kernel(
//  CHECK-SAME:   bar.sync
//  CHECK-SAME:   ex2.approx.f32
//  CHECK-SAME:   .visible .entry attn_m_sdpa_gpu0_merge(
//       CHECK: llvm.func @attn_m_run_buffers(%{{.+}}: !llvm.ptr) -> i32
//       CHECK:   llvm.call @attn_m(
//       CHECK:   %[[S:.+]] = llvm.call @attnrt_cuda_status() : () -> i32
//       CHECK:   llvm.return %[[S]] : i32
module {
  func.func @attn_m(%x: tensor<64x64xf32> {attn.name = "x"},
                    %w: tensor<64x64xf32> {attn.name = "w"},
                    %q: tensor<1x2x512x64xf32> {attn.name = "q"},
                    %k: tensor<1x2x512x64xf32> {attn.name = "k"},
                    %v: tensor<1x2x512x64xf32> {attn.name = "v"})
      -> (tensor<64x64xf32> {attn.name = "y"}, tensor<1x2x512x64xf32> {attn.name = "o"})
      attributes {attn.entry} {
    %y = attn.linear %x, %w : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
    %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x2x512x64xf32>
    return %y, %o : tensor<64x64xf32>, tensor<1x2x512x64xf32>
  }
}
