//===- RefOptions.h - attn-ref's command line ------------------*- C++ -*-===//
//
// Test code only: the options of attn-ref (attn-ref.cpp), parsed from argv
// with a usage message, and its fatal error (message on stderr, exit 2).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TESTS_E2E_REFERENCE_REFOPTIONS_H
#define ATTN_TESTS_E2E_REFERENCE_REFOPTIONS_H

#include <cstdint>
#include <string>
#include <vector>

namespace attnref {

struct Options {
  std::string q, k, v, out, writeRef;
  std::string kvLengths, qLengths, kvSegments, qSegments;
  bool causal = false;
  bool hasWindow = false;
  int64_t left = 0, right = 0;
  std::vector<int64_t> global;
  bool hasScale = false;
  double scale = 0;
  double atol = 1e-4;
  std::string bias, lse, probs;
  std::vector<int64_t> probsHeads; // empty: the average
  double probsAtol = -1;
  double lseAtol = -1;
  std::vector<double> alibi;
  bool alibiStandard = false;
  double softcap = 0; // 0: none
  bool cosine = false;
};

/// Parses argv; prints the usage and exits 0 for --help, exits 2 with a
/// message for a bad or missing option.
Options parseOptions(int argc, char **argv);

/// Prints `attn-ref: error: message` and exits with status 2.
[[noreturn]] void fatal(const std::string &message);

} // namespace attnref

#endif // ATTN_TESTS_E2E_REFERENCE_REFOPTIONS_H
