//===- Library.h - `attnc --emit=lib`: archive and C header -----*- C++ -*-===//
//
// A compiled model as a static library: the model's object plus the runtime
// in one archive, and a generated C header with the model's typed,
// prefixed API (create / run / destroy over runtime/AttnRuntime.h's model
// instances). The header is written from the model's tensor table
// (`attn.signature`), so it always matches the object.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_LIBRARY_H
#define ATTN_TOOLS_ATTNC_LIBRARY_H

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::attn {

/// The text of the header `headerName` for the model whose signature is
/// `signature` and whose symbols start with `prefix`, compiled from `source`
/// into the library `libraryName` (both names appear in its comments);
/// `embedded`: the library holds the weights (`<prefix>_embedded`).
std::string generateLibraryHeader(DictionaryAttr signature,
                                  llvm::StringRef prefix,
                                  llvm::StringRef source,
                                  llvm::StringRef headerName,
                                  llvm::StringRef libraryName, bool embedded);

/// Writes the archive `path` holding `objectPath` (named `memberName`) and
/// every member of the runtime archive `runtimePath`; returns an error
/// message, empty on success.
std::string writeLibraryArchive(llvm::StringRef path,
                                llvm::StringRef objectPath,
                                llvm::StringRef memberName,
                                llvm::StringRef runtimePath);

/// `--embed-weights`: reads every weight of the model (names and shapes
/// from `signature`) from the safetensors `paths` and adds them to `module`
/// as constants, with the exported table `tableName` (one pointer per tensor
/// of the model's table, null for inputs and outputs): `attn_main_embedded`
/// in an executable, whose harness runs on it when no --weights is given;
/// `<prefix>_embedded` in a library, which its header's create uses when no
/// weight file is given. Returns an error message, empty on success.
std::string embedWeights(llvm::Module &module, DictionaryAttr signature,
                         llvm::ArrayRef<std::string> paths,
                         llvm::StringRef tableName);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_LIBRARY_H
