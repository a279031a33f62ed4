#!/usr/bin/env bash
# Native sanitizers: builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into
# build/asan/ (git-ignored; the normal build in native/build/ is untouched), then runs the addon test
# suite (dist/native/test/*.test.js, compiled by tsc) against it: HEXMAP_NATIVE points the loader
# at the sanitized .node, and libasan is LD_PRELOADed into node (node itself is not instrumented).
#
#   scripts/sanitize.sh                 build + addon tests
#   scripts/sanitize.sh --engine        also the engine/edit/search/hardening suites over the sanitized addon
#   SANITIZE_TESTS="a.test.js b.test.js" scripts/sanitize.sh   run these instead
#
# Options: detect_leaks=0 (node leaks by design at exit); halt_on_error / abort_on_error so any
# report fails the run; UBSan with -fno-sanitize-recover so undefined behaviour aborts.
# handle_sigbus=0: a SIGBUS outside a guarded copy must kill node with SIGBUS (a test checks it),
# not be turned into an ASan abort. allow_user_segv_handler=1: the addon installs its own guard (guard_posix.cc)
# and chains unknown faults to the previous handler, which is ASan's.
#
# Ends with one line: "sanitize: PASS|FAIL — N passed, N failed, N skipped; asan reports: N, ubsan reports: N".
set -u -o pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/build/asan"
log="$root/build/test-results/sanitize.log"
mkdir -p "$out" "$(dirname "$log")"
: >"$log"

CXX=${CXX:-g++}
asan_lib=$($CXX -print-file-name=libasan.so)
if [ ! -e "$asan_lib" ]; then
  echo "sanitize: libasan not found for $CXX" >&2
  exit 2
fi

napi_inc=$(node -p "require('node-api-headers').include_dir")
addon_inc=$(node -p "require('node-addon-api').include_dir")
flags=(-std=gnu++17 -fPIC -pthread -shared -g -O1 -fno-omit-frame-pointer
  -fsanitize=address,undefined -fno-sanitize-recover=undefined
  -fexceptions -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter
  -D_FILE_OFFSET_BITS=64 -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_API_NO_EXTERNAL_BUFFERS_ALLOWED
  -DBUILDING_NODE_EXTENSION -I"$napi_inc" -I"$root/$addon_inc")

echo "sanitize: building build/asan/hexmap.node with -fsanitize=address,undefined ($CXX)"
t0=$(date +%s)
if ! $CXX "${flags[@]}" native/src/addon.cc native/src/scan.cc native/src/mapping_posix.cc native/src/guard_posix.cc \
  -o "$out/hexmap.node" -lrt 2>&1 | tee -a "$log"; then
  echo "sanitize: FAIL — the sanitized build failed"
  exit 1
fi

if [ ! -d dist/native/test ]; then
  echo "sanitize: dist/native/test is missing: run npx tsc -p tsconfig.json first" >&2
  exit 2
fi
if [ -n "${SANITIZE_TESTS:-}" ]; then
  # shellcheck disable=SC2206
  tests=($SANITIZE_TESTS)
else
  tests=(dist/native/test/*.test.js)
  if [ "${1:-}" = "--engine" ]; then
    tests+=(dist/test/engine/*.test.js dist/test/edit/*.test.js dist/test/search/*.test.js dist/test/hardening/*.test.js)
  fi
fi

export HEXMAP_NATIVE="$out/hexmap.node"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allow_user_segv_handler=1:handle_segv=1:handle_sigbus=0:detect_stack_use_after_return=0:print_summary=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1"
tap="$root/build/test-results/sanitize.tap"
echo "sanitize: running ${#tests[@]} test files under LD_PRELOAD=$asan_lib"
LD_PRELOAD="$asan_lib" node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${tests[@]}" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}

num() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$tap" | tail -1; }
passed=$(num pass); failed=$(num fail); cancelled=$(num cancelled); skipped=$(num skipped)
passed=${passed:-0}; failed=$(( ${failed:-0} + ${cancelled:-0} )); skipped=${skipped:-0}
asan=$(grep -c "ERROR: AddressSanitizer" "$log" || true)
ubsan=$(grep -c "runtime error:" "$log" || true)
secs=$(( $(date +%s) - t0 ))
verdict=PASS
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$asan" -ne 0 ] || [ "$ubsan" -ne 0 ] || [ "$passed" -eq 0 ]; then verdict=FAIL; fi
echo "sanitize: $verdict — $passed passed, $failed failed, $skipped skipped; asan reports: $asan, ubsan reports: $ubsan (${secs}s, log: build/test-results/sanitize.log)"
[ "$verdict" = PASS ]
