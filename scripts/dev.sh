#!/usr/bin/env bash
# Set-up, build, run and test cpmgw on Debian 12. Installs only what is missing.
#   scripts/dev.sh run     install, build (Release), run on config/cpmgw.ini
#   scripts/dev.sh test    install, build (Release), run the whole test suite with ctest
#   scripts/dev.sh asan    the test suite in an AddressSanitizer + UndefinedBehaviorSanitizer build
#   scripts/dev.sh tsan    the unit tests in a ThreadSanitizer build
#   scripts/dev.sh fuzz [SECONDS]   build the libFuzzer targets (clang) and run each over its corpus
#   scripts/dev.sh bench   build and run the benchmarks in bench/
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)

# Build tools, libraries, and the real peers the tests use.
packages=(
  g++ clang cmake ninja-build pkg-config
  libpoco-dev libsofia-sip-ua-dev libsmpp34-dev libsqlite3-dev libssl-dev libsystemd-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  curl sqlite3 nginx openssl sip-tester
)

# The SMPP peers of the integration tests and bench (tests/integration/smpp): the npm smpp package needs node and
# npm (any node that brings npm will do: nodesource's nodejs provides npm itself), and Kannel binds as an ESME.
command -v npm >/dev/null || packages+=(nodejs npm)
packages+=(kannel)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "dev.sh: $* needs root (run as root or install sudo)" >&2; exit 1
  fi
}

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "dev.sh: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

build() {  # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@"
  cmake --build "$dir" -j "$jobs"
}

# Installs the npm packages the SMPP peers use (tests/integration/smpp/package-lock.json).
npm_peers() {
  (cd tests/integration/smpp && npm ci --no-audit --no-fund --loglevel=error)
}

ctest_in() {
  npm_peers
  ctest --test-dir "$1" --output-on-failure -j "$jobs" --timeout 600
}

cmd=${1:-}
case "$cmd" in
  run)
    install_missing
    build build -DCMAKE_BUILD_TYPE=Release
    echo "dev.sh: starting cpmgw on config/cpmgw.ini (data in ./cpmgw-data; Ctrl-C stops it)"
    exec build/cpmgw --config config/cpmgw.ini
    ;;
  test)
    install_missing
    build build -DCMAKE_BUILD_TYPE=Release
    ctest_in build
    ;;
  asan)
    install_missing
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DCPMGW_SANITIZE=ON -DCPMGW_BUILD_BENCH=OFF
    # Full unwinding on malloc: libcrypto has no frame pointers, and a suppression must see who called it.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1 \
      LSAN_OPTIONS=suppressions=$here/tests/sanitizer/lsan.supp ctest_in build-asan
    ;;
  tsan)
    # ThreadSanitizer over the unit tests: the store's writer, sync and checkpoint threads, the dispatcher,
    # the cores. The integration tests run the gateway on Sofia-SIP, Poco and OpenSSL, which are not built
    # with it, and the crash test's child makes too little progress this slow between its kills: both are
    # left to the ASan run.
    install_missing
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCPMGW_TSAN=ON -DCPMGW_BUILD_BENCH=OFF
    cmake --build build-tsan -j "$jobs" --target cpmgw_unit_tests
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
      ctest --test-dir build-tsan -L unit --output-on-failure -j "$jobs" --timeout 600
    ;;
  fuzz)
    install_missing
    seconds=${2:-30}
    CC=clang CXX=clang++ build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCPMGW_FUZZ=ON -DCPMGW_BUILD_TESTS=OFF \
      -DCPMGW_BUILD_BENCH=OFF
    for target in build-fuzz/tests/fuzz/fuzz_*; do
      name=$(basename "$target")
      corpus=tests/fuzz/corpus/${name#fuzz_}
      work=$(mktemp -d)
      echo "dev.sh: $name for ${seconds}s over $corpus"
      mkdir -p build-fuzz/artifacts
      "$target" -max_total_time="$seconds" -max_len=65536 -artifact_prefix=build-fuzz/artifacts/ "$work" "$corpus"
      rm -rf "$work"
    done
    ;;
  bench)
    install_missing
    build build -DCMAKE_BUILD_TYPE=Release
    build/bench/store_bench
    npm_peers
    build/bench/smpp_bench
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
