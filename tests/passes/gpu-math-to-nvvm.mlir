// RUN: attn-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(attn-gpu-math-to-nvvm))' | FileCheck %s

// f32 math becomes NVVM intrinsics: exp through ex2 of x · log2(e), log as
// ln 2 · lg2, vectors lane by lane; other types and ops stay.
// CHECK-LABEL: gpu.func @math
//       CHECK:   %[[E2:.+]] = llvm.call_intrinsic "llvm.nvvm.ex2.approx.f32"(%arg0) : (f32) -> f32
//       CHECK:   %[[X:.+]] = arith.mulf %arg0, %{{.+}} : f32
//       CHECK:   llvm.call_intrinsic "llvm.nvvm.ex2.approx.f32"(%[[X]])
//       CHECK:   llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"(%arg0)
//       CHECK:   %[[L:.+]] = llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"(%arg0)
//       CHECK:   arith.mulf %[[L]], %{{.+}} : f32
//       CHECK:   llvm.call_intrinsic "llvm.nvvm.sqrt.rn.f"(%arg0)
//       CHECK:   %[[A:.+]] = vector.extract %arg1[0] : f32 from vector<2xf32>
//       CHECK:   %[[EA:.+]] = llvm.call_intrinsic "llvm.nvvm.ex2.approx.f32"(%[[A]])
//       CHECK:   %[[B:.+]] = vector.extract %arg1[1] : f32 from vector<2xf32>
//       CHECK:   %[[EB:.+]] = llvm.call_intrinsic "llvm.nvvm.ex2.approx.f32"(%[[B]])
//       CHECK:   vector.from_elements %[[EA]], %[[EB]] : vector<2xf32>
//       CHECK:   math.exp2 %{{.+}} : f64
//       CHECK:   math.fma
gpu.module @kernels {
  gpu.func @math(%x: f32, %v: vector<2xf32>, %d: f64) -> (f32, f32, f32, f32, f32, vector<2xf32>, f64, f32) {
    %0 = math.exp2 %x : f32
    %1 = math.exp %x : f32
    %2 = math.log2 %x : f32
    %3 = math.log %x : f32
    %4 = math.sqrt %x : f32
    %5 = math.exp2 %v : vector<2xf32>
    %6 = math.exp2 %d : f64
    %7 = math.fma %x, %x, %x : f32
    gpu.return %0, %1, %2, %3, %4, %5, %6, %7 : f32, f32, f32, f32, f32, vector<2xf32>, f64, f32
  }
}

// -----

// bf16 mma.sync (which convert-nvgpu-to-nvvm cannot lower) becomes
// nvvm.mma.sync on i32-packed pairs with the 4 accumulators as scalars; f16
// stays for convert-nvgpu-to-nvvm.
// CHECK-LABEL: gpu.func @mma
//       CHECK:   vector.extract %arg2[0, 0] : f32 from vector<2x2xf32>
//       CHECK:   %[[A0:.+]] = vector.extract %arg0[0] : vector<2xbf16> from vector<4x2xbf16>
//       CHECK:   llvm.bitcast %[[A0]] : vector<2xbf16> to i32
//       CHECK:   %[[D:.+]] = nvvm.mma.sync A[{{.+}}] B[{{.+}}] C[{{.+}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
//       CHECK:   llvm.extractvalue %[[D]][3]
//       CHECK:   vector.from_elements {{.+}} : vector<2x2xf32>
//       CHECK:   nvgpu.mma.sync(%arg3, %arg4, %arg2) {{.+}} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>)
gpu.module @kernels {
  gpu.func @mma(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %c: vector<2x2xf32>,
                %ha: vector<4x2xf16>, %hb: vector<2x2xf16>) -> (vector<2x2xf32>, vector<2x2xf32>) {
    %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
    %e = nvgpu.mma.sync (%ha, %hb, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
    gpu.return %d, %e : vector<2x2xf32>, vector<2x2xf32>
  }
}
