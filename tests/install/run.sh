#!/usr/bin/env bash
# tests/install/run.sh BUILD_DIR WORK_DIR [cmake args for the consumers...]
# Installs the built tree BUILD_DIR into WORK_DIR/stage with `cmake --install`, then
# configures, builds and runs two projects against that prefix alone:
#   consumer/           pedigree::log and pedigree::scanner (the docs/building.md example);
#   services_consumer/  pedigree::cli from the `services` component, whose `help` must
#                       match the installed `pedigree` binary's.
# It proves that find_package(pedigree) gives working targets: headers, C++23, and the
# static libraries' private link dependencies, and that docs/building.md shows
# consumer/CMakeLists.txt as it is. Downloads nothing. CTest runs it as
# `install`. CMAKE names the cmake to use (CTest passes the one that built BUILD_DIR).
set -euo pipefail
cmake=${CMAKE:-cmake}
build=$1
work=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
stage=$work/stage

# docs/building.md shows consumer/CMakeLists.txt as the find_package example: keep it true.
doc=$(<"$here/../../docs/building.md")
example=$(<"$here/consumer/CMakeLists.txt")
if [[ $doc != *"$example"* ]]; then
  echo "docs/building.md no longer shows tests/install/consumer/CMakeLists.txt verbatim" >&2
  exit 1
fi

rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$stage" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; exit 1; }

# configure_and_build <project>: builds tests/install/<project> in WORK_DIR/<project>.
configure_and_build() {
  local project=$1 dir=$work/$1
  shift
  # The stage is searched first; the check below makes sure it is what was found.
  "$cmake" -S "$here/$project" -B "$dir" "$@" \
    -DCMAKE_PREFIX_PATH="$stage" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  local found
  found=$(sed -n 's/^pedigree_DIR:PATH=//p' "$dir/CMakeCache.txt")
  case $found in
    "$stage"/*) ;;
    *) echo "$project: pedigree found outside the stage: '$found'" >&2; return 1 ;;
  esac
  "$cmake" --build "$dir"
}

configure_and_build consumer "$@"
"$work/consumer/consumer"

configure_and_build services_consumer "$@"
diff <("$stage/bin/pedigree" help 2>&1) <("$work/services_consumer/services_consumer" help 2>&1)
echo "ok   services_consumer help = installed pedigree help"
