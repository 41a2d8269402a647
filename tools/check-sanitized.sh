#!/usr/bin/env bash
# The hardened-input stage of the tests: builds attnc, its runtime and the
# libFuzzer targets with AddressSanitizer + UndefinedBehaviorSanitizer into
# their own build folder, runs the whole test suite there (lit, Catch2 and
# the end-to-end tests, whose generated programs link the sanitized
# runtime), then runs each fuzzer for a bounded time on seed corpora made
# from the examples and tests. Fails on any test failure, sanitizer report,
# crash, leak or fuzzer timeout.
#
#   tools/check-sanitized.sh                 # after tools/setup.sh
#   FUZZ_SECONDS=600 tools/check-sanitized.sh
#   SANITIZE_BUILD_DIR=out tools/check-sanitized.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SANITIZE_BUILD_DIR:-build-sanitize}
seconds=${FUZZ_SECONDS:-60}

if [ ! -f "$build_dir/build.ninja" ]; then
  # -O1: what the sanitizers recommend, and a faster build on 2 cores.
  cmake -G Ninja -S . -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DATTNC_SANITIZE=ON
fi
cmake --build "$build_dir"

# Any report fails: UBSan stops at the first (no recovery, see
# CMakeLists.txt), ASan also reports leaks at exit. Manual poisoning is
# ignored: LLVM's inline allocator code poisons slabs that the
# uninstrumented libMLIR.so then hands out (tests/lit.cfg.py sets the same).
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:allow_user_poisoning=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure

seeds="$build_dir/fuzz/seeds"
python3 tests/fuzz/make-seeds.py "$seeds"
for target in model hf-config npy safetensors; do
  corpus="$build_dir/fuzz/corpus/$target"
  artifacts="$build_dir/fuzz/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  log="$build_dir/fuzz/$target.log"
  echo "fuzz: attn-fuzz-$target for ${seconds} s (log: $log)"
  status=0
  "$build_dir/bin/attn-fuzz-$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$corpus" "$seeds/$target" > "$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$log" || true
  # A crash, leak or timeout exits non-zero and leaves an artifact.
  if [ "$status" -ne 0 ] || compgen -G "$artifacts*" > /dev/null; then
    tail -40 "$log" >&2
    echo "fuzz: attn-fuzz-$target failed (status $status): $(ls "$artifacts")" >&2
    exit 1
  fi
done
echo "check-sanitized: all passed"
