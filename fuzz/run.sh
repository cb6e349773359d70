#!/usr/bin/env bash
# Builds every libFuzzer target under fuzz/ with clang 19 (ASan + UBSan, libraries
# coverage-instrumented) and runs each for a bounded time. See docs/fuzzing.md.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET=30] [TARGET...]   (targets: fuzz_json, fuzz_gs1, ...)
# Environment: JOBS (build parallelism, default nproc), BUILD_DIR (default build-fuzz),
#   FUZZ_FLAGS (extra libFuzzer flags, e.g. "-jobs=2" or "-dict=...").
# Exit status: 0 when no target crashed, hung, ran out of memory or failed to build.
set -euo pipefail

seconds=${1:-30}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
jobs=${JOBS:-$(nproc)}

# Debian 12's clang 14 cannot compile libstdc++ 12's std::expected; clang 19 can.
packages=(clang-19 libclang-rt-19-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in "$root"/fuzz/*.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
CC=clang-19 CXX=clang++-19 cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEDIGREE_FUZZ=ON -DPEDIGREE_BENCH=OFF \
  -DPEDIGREE_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

# Seeds: real inputs from sample_data and a few strings from the tests. libFuzzer keeps
# what it finds in the same directory, so later runs start where earlier ones stopped.
seed() {  # seed <target> <name> <content>
  printf '%s' "$3" >"$build/corpus/$1/seed-$2"
}
seed_corpus() {
  local t=$1 dir=$build/corpus/$1
  mkdir -p "$dir"
  case $t in
    fuzz_image)
      cp "$root"/sample_data/barcodes/*.png "$root"/sample_data/barcodes/*.jpg "$dir/" ;;
    fuzz_image_body)
      # A tiny pack label as PNG and as JPEG, each after its Content-Type selector byte.
      cp "$root"/fuzz/seeds/fuzz_image_body/* "$dir/" ;;
    fuzz_trial_data)
      cp "$root"/sample_data/trials/fixtures/* "$dir/" ;;
    fuzz_gs1)
      local i=0 f
      for f in "$root"/sample_data/barcodes/*.txt; do
        i=$((i + 1))
        seed "$t" "sample$i-token" "$(cat "$f")"
        seed "$t" "sample$i-gs" "$(sed 's/<GS>/\x1d/g' "$f")"
      done
      seed "$t" bracketed "(01)09506000134352(17)261231(10)LOT2026A(21)SN0000001"
      seed "$t" uri "https://id.gs1.org/01/09506000134352/10/ABC%2F1?17=261231"
      seed "$t" sscc "]C100095060001343529" ;;
    fuzz_json | fuzz_envelope)
      cp "$root"/sample_data/trials/fixtures/*.json "$dir/"
      seed "$t" object '{"b":[1,2.5e3,-0,true,null],"a":"\u00e9\ud83d\ude00\n","c":{}}'
      seed "$t" event '{"type":"pack.commission","gtin":"09506000134352","serial":"SN1","lot":"L1","expiry":"2026-12-31","at":"2026-01-02T03:04:05Z"}'
      seed "$t" numbers '[1e400,0.1,123456789012345678901234567890,-1.5E-7]' ;;
    fuzz_note)
      seed "$t" checkpoint $'example.org/log\n42\nqINS1GRFhWHwdkUeqLEoP4kSi2HsuTDvaXtedDV3Cxc=\n'
      seed "$t" note $'example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\xe2\x80\x94 example.org/log AAAAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==\n'
      seed "$t" verifier "example.org/log+01020304+AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g" ;;
    fuzz_http)
      seed "$t" path "v1/packs/09506000134352%2FSN1/history"
      seed "$t" query "a=b+c&d=%41%42"
      seed "$t" json '{"a":[1,{"b":"\u0041"}],"c":-1.5e3}' ;;
    fuzz_fields)
      seed "$t" gtin "09506000134352"
      seed "$t" sscc "095060001343520001"
      seed "$t" time "2026-01-02T03:04:05Z"
      seed "$t" date "2026-02-28"
      seed "$t" expiry "261200"
      seed "$t" status "checked_out"
      seed "$t" pem $'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n' ;;
    fuzz_bundle)
      # A real 12-entry pack bundle (`pedigree demo`, then `pedigree bundle pack`) and one of
      # its tlog-proofs.
      cp "$root"/fuzz/seeds/fuzz_bundle/* "$dir/"
      seed "$t" empty-proof $'c2sp.org/tlog-proof@v1\nindex 0\n\nexample.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' ;;
    fuzz_disclosure)
      # One AE record disclosed from a sealed fixture (tests/provenance/trial_seal_test.cpp's
      # DiscloseOneAeRecord, written with DisclosureToJson).
      cp "$root"/fuzz/seeds/fuzz_disclosure/* "$dir/" ;;
    fuzz_witness)
      # add-checkpoint bodies: no proof, three proof lines, a cosigned note at size 2^64-1.
      cp "$root"/fuzz/seeds/fuzz_witness/* "$dir/"
      seed "$t" no-blank-line $'old 1\nexample.org/log\n' ;;
    fuzz_http_parser)
      # Request heads: plain, chunked with a trailer and a pipelined request, and four of
      # the smuggling heads the parser refuses.
      cp "$root"/fuzz/seeds/fuzz_http_parser/* "$dir/" ;;
    fuzz_epcis_xml)
      # The XML test documents: the 2.0 twin of the hash vector and a DSCSA-style 1.2 shipment.
      cp "$root"/tests/scanner/epcis_xml/*.xml "$dir/"
      seed "$t" dtd $'<!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>' ;;
    fuzz_merkle)
      seed "$t" tree $'\x01\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x04' ;;
  esac
}

max_len() {
  case $1 in
    fuzz_image) echo 32768 ;;       # the largest sample (7.jpg) is 21 kB
    fuzz_image_body) echo 32768 ;;  # selector byte + image; the seeds are 1.3 kB (PNG) and 12 kB (JPEG)
    fuzz_trial_data) echo 8192 ;;   # a few dozen CSV/JSON records
    fuzz_epcis_xml) echo 8192 ;;    # the 1.2 shipment seed is 3.3 kB
    fuzz_bundle) echo 32768 ;;      # the seed bundle (12 entries with proofs) is 26.7 kB
    fuzz_merkle) echo 2700 ;;       # 25 header bytes + up to 80 proof hashes
    fuzz_fields) echo 512 ;;        # a PEM key is ~110 bytes
    fuzz_witness) echo 17408 ;;
    fuzz_http_parser) echo 20480 ;;  # just past the 16 KiB head limit (request.header_too_large)     # just past the 16 KiB body limit (witness.body_too_large)
    *) echo 4096 ;;
  esac
}

# UBSan is built in recover mode; halting makes every report a crash libFuzzer records.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# Symbolized stack traces in the logs: clang-19 does not pull in llvm-19's symbolizer, but
# any installed one reads the DWARF well enough.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  for s in llvm-symbolizer-19 llvm-symbolizer llvm-symbolizer-14; do
    if command -v "$s" >/dev/null; then
      ASAN_SYMBOLIZER_PATH=$(command -v "$s")
      export ASAN_SYMBOLIZER_PATH
      break
    fi
  done
fi
status=0
summary=()
for t in "${targets[@]}"; do
  seed_corpus "$t"
  mkdir -p "$build/artifacts/$t" "$build/logs"
  log=$build/logs/$t.log
  echo "== $t: ${seconds}s, max_len $(max_len "$t")"
  set +e
  # shellcheck disable=SC2086
  "$build/fuzz/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" \
    ${FUZZ_FLAGS:-} "$build/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    status=1
    result="FAILED (exit $rc): $(grep -m1 -oE 'ERROR: libFuzzer: [a-z-]+|ERROR: AddressSanitizer: [a-z-]+|runtime error: .*' "$log" || echo 'see log')"
    result+="; $(grep -m1 -o 'Test unit written to .*' "$log" || true); log $log"
    tail -40 "$log"
  fi
  summary+=("$(printf '%-18s runs %-9s cov %-6s ft %-6s corpus %-5s %s' "$t" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$result")")
done
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
