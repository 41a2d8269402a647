#!/usr/bin/env bash
# Sets up attnc on Debian 12: installs the packages it needs (apt-get, only
# what is missing), then configures and builds everything into ./build.
# Safe to run again: a configured, up-to-date build costs a few seconds.
#
#   tools/setup.sh                      # install + configure + build
#   tools/setup.sh --with-transformers  # also torch + transformers (test
#                                       # references only, ~3 GB, in
#                                       # $BUILD_DIR/pyref; failure is a warning)
#   BUILD_DIR=out tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
with_transformers=0
for arg in "$@"; do
  case "$arg" in
    --with-transformers) with_transformers=1 ;;
    *) echo "setup: unknown option '$arg' (expected --with-transformers)" >&2
       exit 2 ;;
  esac
done

# libclang-rt-22-dev: the sanitizer and libFuzzer runtimes of
# tools/check-sanitized.sh.
packages=(clang-22 lld-22 llvm-22-dev libmlir-22-dev mlir-22-tools
          catch2 libfmt-dev ccache ninja-build cmake python3 python3-numpy
          python3-matplotlib libclang-rt-22-dev)
((with_transformers)) && packages+=(python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
cmake --build "$build_dir"

# The strongest reference of the Hugging Face tests is transformers itself
# (tests/e2e/hf_transformers_check.py). It is test code only, never a
# dependency of attnc or of what it generates; without it those tests
# report themselves unsupported, so a failed install is only a warning.
install_transformers() {
  local venv="$build_dir/pyref"
  if [ -x "$venv/bin/python3" ] &&
      "$venv/bin/python3" -c "import torch, transformers, safetensors" \
        2>/dev/null; then
    return 0
  fi
  local free_kb
  free_kb=$(df -Pk "$build_dir" | awk 'NR == 2 { print $4 }')
  if [ "${free_kb:-0}" -lt $((12 * 1024 * 1024)) ]; then
    echo "setup: warning: less than 12 GB free for $venv: the transformers" \
         "reference is not installed (its tests report unsupported)" >&2
    return 0
  fi
  echo "setup: installing torch, transformers and safetensors into $venv"
  if ! { python3 -m venv "$venv" &&
         "$venv/bin/pip" install --quiet --disable-pip-version-check \
           numpy torch transformers safetensors; }; then
    echo "setup: warning: could not install the transformers reference" \
         "(its tests report unsupported)" >&2
    rm -rf "$venv"
  fi
}
if ((with_transformers)); then
  install_transformers
fi
