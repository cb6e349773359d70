#!/bin/sh
# Builds and runs the libFuzzer targets with g++ 12 when no clang able to compile C++23
# std::expected is installed (clang 14 cannot: libstdc++ 12 hides <expected> from it, and
# even when forced its copy constructors are deleted for lack of P0848).
# g++ instruments with -fsanitize-coverage=trace-pc,trace-cmp; coverage_shim.cpp feeds the
# trace-pc hook into LLVM libFuzzer's 8-bit counters (objcopy renames the hook, because
# libFuzzer 14 refuses trace-pc itself).
# Usage: fuzz/gcc/run.sh <target: fuzz_json|fuzz_envelope|fuzz_note> [seconds] [workdir]
set -eu
target=$1
seconds=${2:-60}
work=${3:-/tmp/pedigree-fuzz-gcc}
root=$(cd "$(dirname "$0")/../.." && pwd)
libfuzzer=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a | head -1)
flags="-std=c++23 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
  -fno-sanitize-recover=all -fsanitize-coverage=trace-pc,trace-cmp -I$root/ledger/include"
mkdir -p "$work/obj" "$work/corpus_$target"
objs=""
for src in "$root"/ledger/src/*.cpp "$root/fuzz/$target.cpp"; do
  obj="$work/obj/$(basename "$src" .cpp).o"
  g++ $flags -c "$src" -o "$obj"
  objcopy --redefine-sym __sanitizer_cov_trace_pc=shim_trace_pc "$obj"
  objs="$objs $obj"
done
g++ -O2 -c "$root/fuzz/gcc/coverage_shim.cpp" -o "$work/obj/coverage_shim.o"
g++ -fsanitize=address,undefined $objs "$work/obj/coverage_shim.o" "$libfuzzer" -lcrypto -lsqlite3 \
  -lpthread -o "$work/$target"
cd "$work"
exec "./$target" -max_total_time="$seconds" -max_len=4096 "corpus_$target"
