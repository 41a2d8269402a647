//===- TuningFile.h - measured schedules, by op and target ------*- C++ -*-===//
//
// The file `attnc --tune` writes and `--tuning` reads: JSON,
//
//   {"format": "attnc-tuning-1", "entries": [
//     {"target": "sapphirerapids vw=16 regs=32",
//      "op": "attn.sdpa B=1 Hq=32 Hkv=8 Sq=1 Skv=4096 D=128 Dv=128
//             mask=none types=f32,f32,f32",
//      "schedule": "tile_q=16,tile_kv=64,...", "ms": 1.05,
//      "heuristic_ms": 1.21}, ...]}
//
// keyed by (target, op): the op's tuning key (ScheduledOpInterface) holds
// its shape, mask, score modifiers and element types. "schedule" is in the
// --schedule syntax with every field set; "ms" and "heuristic_ms" are the
// measured medians, for people (lookups ignore them).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_TUNINGFILE_H
#define ATTN_PASSES_TUNINGFILE_H

#include <optional>
#include <string>
#include <vector>

namespace mlir::attn {

struct TuningEntry {
  std::string target, op, schedule;
  double ms = 0, heuristicMs = 0;
};

class TuningFile {
public:
  /// Reads `path`; on error returns nullopt and sets `error` (the path and
  /// what is wrong, with the JSON parser's line and column where it has
  /// them).
  static std::optional<TuningFile> load(const std::string &path,
                                        std::string &error);
  /// The schedule of `op` on `target`, if the file has one.
  const TuningEntry *lookup(const std::string &target,
                            const std::string &op) const;
  /// Adds `entry`, replacing the one of the same target and op.
  void set(const TuningEntry &entry);
  /// Writes the file; returns an error message or "".
  std::string save(const std::string &path) const;

  std::vector<TuningEntry> entries;
};

} // namespace mlir::attn

#endif // ATTN_PASSES_TUNINGFILE_H
