#!/usr/bin/env bash
# duet.sh: the front door. Installs what is missing (Debian 12), builds incrementally, tests or runs duet.
#
#   ./duet.sh run [duet serve options]   set up, build, start duet on your models (or a generated demo model)
#   ./duet.sh test                       set up, build, run every test (ctest), then the sanitizer suites
#                                        again under ASan+UBSan (build-asan/; DUET_SKIP_SANITIZE=1 skips it),
#                                        then the arm64 stage: kernel, model and tokenizer suites cross-compiled
#                                        for AArch64 and run under qemu (build-arm64/; DUET_SKIP_ARM64=1 skips)
#   ./duet.sh build                      set up and build build/duet
#   ./duet.sh setup                      only install the packages
# Environment: DUET_BUILD_DIR (default build), DUET_JOBS (default: nproc), DUET_MODELS (NAME=FILE.gguf,...; models
# named expert and daily turn the router's duet-auto on, or pass --expert NAME --daily NAME after run).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD_DIR=${DUET_BUILD_DIR:-build}
JOBS=${DUET_JOBS:-$(nproc 2>/dev/null || echo 2)}

APT_PACKAGES=(g++ clang-format cmake ninja-build pkg-config make git ca-certificates
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libpcre2-dev libcli11-dev libcpp-httplib-dev
  libsqlite3-dev libpq-dev postgresql libcurl4-openssl-dev libssl-dev libyaml-dev python3 python3-yaml zlib1g-dev chromium)
# python3: the eval sandbox; python3-yaml: the deploy/ checks; postgresql: the store tests start a throwaway server;
# chromium: the page tests

# The arm64 stage's tools: Debian's cross compiler, qemu's user-mode emulator, GoogleTest's sources (built in the
# cross tree) and PCRE2 for arm64 (a multiarch package: `dpkg --add-architecture arm64` first).
ARM64_PACKAGES=(g++-aarch64-linux-gnu qemu-user googletest)
ARM64_TARGET_PACKAGES=(libpcre2-dev:arm64)

log() { printf '\033[1m[duet]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to install packages: run as root or install sudo"; exit 1; fi
}

setup() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js (for the openai client in server tests): Debian's packages unless a node/npm is already there.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ -f tests/server/package.json ] && [ ! -d tests/server/node_modules ]; then
    log "installing npm packages for the server tests"
    (cd tests/server && npm install --no-audit --no-fund --silent)
  fi
  # The chat page (web/: esbuild, marked, DOMPurify, highlight.js) and its browser tests (playwright-core, which
  # drives Debian's chromium: no browser is downloaded). Pinned by package-lock.json.
  local dir
  for dir in web tests/web; do
    if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
      log "installing npm packages in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --silent)
    fi
  done
}

# Every tracked C++ file as .clang-format says (clang-format 14, Debian's); the Unicode tables are generated data.
format_check() {
  local files
  mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h' \
    'fuzz/*.cpp' | grep -v '^src/tokenizer/unicode_tables_[a-z]*\.cpp$')
  if ! command -v clang-format >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then log "format check skipped (no clang-format or no git)"; return; fi
  log "checking the format of ${#files[@]} C++ files (clang-format --dry-run --Werror)"
  clang-format --dry-run --Werror "${files[@]}"
}

build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

build_sanitize() {
  if [ ! -f "$BUILD_DIR-asan/build.ninja" ]; then
    # -O1 -g1: ASan's recommended optimisation, function names in reports; ~40% less compile time than -O2 -g.
    cmake -S . -B "$BUILD_DIR-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DDUET_SANITIZE=ON -DDUET_BUILD_BENCH=OFF >/dev/null
  fi
  log "building the sanitizer (ASan+UBSan) test suites in $BUILD_DIR-asan"
  # The suites labelled `sanitize` in tests/CMakeLists.txt: the code that reads untrusted input (files, requests,
  # messages, model output) and the kernels and scheduler that index buffers.
  local suites
  mapfile -t suites < <(sed -n 's/^duet_test(\([a-z_]*\) [^ ]* "[^"]*sanitize[^"]*".*/duet_test_\1/p' tests/CMakeLists.txt)
  cmake --build "$BUILD_DIR-asan" -j "$JOBS" --target "${suites[@]}"
}

setup_arm64() {
  local missing=()
  for p in "${ARM64_PACKAGES[@]}" "${ARM64_TARGET_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing for the arm64 stage: ${missing[*]}"
    dpkg --print-foreign-architectures | grep -qx arm64 || as_root dpkg --add-architecture arm64
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Cross-compile the kernel, model and tokenizer suites for AArch64 (Release, cmake/aarch64-linux-gnu.cmake) and
# run them under qemu-aarch64: `-cpu max` has the dot-product extension (backends neon_dotprod, neon and ref all
# run), `-cpu cortex-a53` (ARMv8.0) has not, so the plain NEON fallback is what the kernels pick by themselves: the
# kernel twins and the end-to-end model checks (stories260K, llama.cpp's greedy ids) run there again.
# DUET_EXPECT_BACKENDS makes the kernel suite fail if a CPU model does not give the backends it is run for
# (tests/kernels/test_backends.cpp). The runs go in two lanes (CI has 2 cores), each run's output to
# $dir/qemu-*.log, printed when it fails.
test_arm64() {
  setup_arm64
  local dir="$BUILD_DIR-arm64"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
      -DDUET_CORE_ONLY=ON -DDUET_BUILD_BENCH=OFF -DDUET_GTEST_SOURCE=/usr/src/googletest >/dev/null
  fi
  log "arm64: cross-compiling the kernel, model and tokenizer suites in $dir"
  cmake --build "$dir" -j "$JOBS" --target duet_test_kernels duet_test_model duet_test_tokenizer
  # DUET_TEST_QUICK: fewer shapes in the kernel twins (test_matmul.cpp). DUET_TEST_SINGLE_THREAD: no test starts a
  # thread (qemu-aarch64 7.2 hangs in the guest's pthread_create on the CI's kernel; tests/support/threads.h).
  export DUET_BINARY_DIR="$ROOT/$dir" DUET_TEST_QUICK=1 DUET_TEST_SINGLE_THREAD=1
  local start=$SECONDS
  # The model suite is the longest (~60 s of CPU): its two gtest shards go one to each lane.
  (GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=0 arm64_run model-max-1of2 max "" duet_test_model &&
    arm64_run tokenizer-max max "" duet_test_tokenizer) &
  local lane1=$!
  (GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=1 arm64_run model-max-2of2 max "" duet_test_model &&
    arm64_run kernels-max max neon_dotprod,neon,ref duet_test_kernels &&
    arm64_run kernels-a53 cortex-a53 neon,ref duet_test_kernels --gtest_filter='Backends.*:SimdOps.*:Ops.*:Matmul.*:Encoder*' &&
    arm64_run model-a53 cortex-a53 "" duet_test_model \
      --gtest_filter='Backends/Stories260KOnBackend.*:AllModels/ReferenceLogits.GreedyIds/*') &
  local lane2=$! failed=0
  wait "$lane1" || failed=1
  wait "$lane2" || failed=1
  [ "$failed" = 0 ] || { log "arm64: FAILED"; return 1; }
  log "arm64: every suite passed under qemu ($((SECONDS - start)) s for the runs)"
}

# arm64_run NAME CPU EXPECTED_BACKENDS BINARY [gtest args]: one suite under qemu-aarch64 -cpu CPU.
arm64_run() {
  local name=$1 cpu=$2 expect=$3 bin=$4 start=$SECONDS out="$BUILD_DIR-arm64/qemu-$1.log"
  shift 4
  log "arm64 [$name]: $bin under qemu -cpu $cpu${expect:+ (backends $expect)}"
  # A run that hangs (an emulator bug) fails the stage after ARM64_RUN_TIMEOUT seconds instead of stalling CI.
  if DUET_EXPECT_BACKENDS=$expect timeout "${ARM64_RUN_TIMEOUT:-480}" qemu-aarch64 -L /usr/aarch64-linux-gnu \
    -cpu "$cpu" "$BUILD_DIR-arm64/tests/$bin" --gtest_brief=1 "$@" >"$out" 2>&1; then
    log "arm64 [$name]: passed in $((SECONDS - start)) s ($(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$out"))"
  else
    cat "$out" >&2
    log "arm64 [$name]: FAILED (log: $out)"
    return 1
  fi
}

demo_model() {
  # A tiny random-weight Qwen2-shaped model with a byte-level vocabulary, made by duet itself.
  # It produces gibberish: it exists so that duet starts and streams tokens with no download.
  local path=models/demo-tiny-qwen2.gguf
  if [ ! -f "$path" ]; then
    mkdir -p models
    log "no model configured: writing the demo model $path (random weights, output is gibberish)"
    "$BUILD_DIR/duet" make-model --preset demo --type q8_0 --seed 1 -o "$path" >&2
  fi
  echo "demo=$path"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup ;;
  build) setup; build ;;
  test-arm64) test_arm64 ;;  # the arm64 stage alone
  test)
    setup; format_check; build
    (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" "$@")
    # The untrusted-input suites (GGUF corpus, tokenizers, templates, kernels, scheduler) once more under
    # ASan + UBSan. DUET_SKIP_SANITIZE=1 skips this second build.
    if [ "${DUET_SKIP_SANITIZE:-0}" != 1 ]; then
      build_sanitize
      (cd "$BUILD_DIR-asan" && ctest --output-on-failure -j "$JOBS" -L sanitize)
    fi
    # The kernel, model and tokenizer suites cross-compiled for AArch64 and run under qemu (DUET_SKIP_ARM64=1
    # skips it).
    if [ "${DUET_SKIP_ARM64:-0}" != 1 ]; then test_arm64; fi
    ;;
  run)
    setup; build
    models=${DUET_MODELS:-}
    if [ -z "$models" ] && [ -f duet.models ]; then models=$(grep -v '^#' duet.models | paste -sd, -); fi
    if [ -z "$models" ]; then models=$(demo_model); fi
    args=()
    IFS=',' read -ra specs <<<"$models"
    for s in "${specs[@]}"; do args+=(-m "$s"); done
    log "starting duet serve ${args[*]} $*"
    exec "$BUILD_DIR/duet" serve "${args[@]}" "$@"
    ;;
  *)
    echo "usage: ./duet.sh run|test|test-arm64|build|setup" >&2
    exit 2
    ;;
esac
