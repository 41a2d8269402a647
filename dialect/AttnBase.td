//===- AttnBase.td - attn dialect definition ---------------*- tablegen -*-===//
//
// The `attn` dialect: attention as a first-class op on value-semantic tensors.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ATTNBASE_TD
#define ATTN_ATTNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "attention ops and the schedules that lower them";
  let description = [{
    The `attn` dialect models scaled-dot-product attention (and, later, the
    blocks of a transformer around it) on ranked tensors with value
    semantics. Ops carry the problem (shapes, mask, scale); an
    `#attn.schedule` attribute chosen by `--attn-select-schedule` carries how
    to compute it. See `dialect/README.md` for the rationale.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // ATTN_ATTNBASE_TD
