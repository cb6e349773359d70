#!/usr/bin/env bash
# tests/install/run.sh BUILD_DIR WORK_DIR [cmake args for the consumers...]
# Installs the built tree BUILD_DIR into WORK_DIR/stage with `cmake --install`, then
# configures, builds and runs two projects against that prefix alone:
#   consumer/           pedigree::log and pedigree::scanner (the docs/building.md example);
#   services_consumer/  pedigree::cli from the `services` component, whose `help` must
#                       match the installed `pedigree` binary's.
# and checks the operator files installed with the binary: the man page renders, the bash
# completion completes, the example settings (uncommented) are accepted by `serve --check`
# and `systemd-analyze verify` accepts the unit (each tool's check is skipped without it).
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

# The operator files (cmake/PedigreeInstall.cmake).
man_page=$stage/share/man/man1/pedigree.1
completion=$stage/share/bash-completion/completions/pedigree
config_example=$stage/share/doc/pedigree/pedigree.conf.example
unit=$stage/lib/systemd/system/pedigree.service
for f in "$man_page" "$completion" "$config_example" "$unit"; do
  [[ -s $f ]] || { echo "not installed: $f" >&2; exit 1; }
done
echo "ok   man page, bash completion, pedigree.conf.example and pedigree.service installed"

if command -v man >/dev/null; then
  rendered=$(MANWIDTH=80 man -l "$man_page" 2>"$work/man.err")
elif command -v nroff >/dev/null; then
  rendered=$(nroff -man "$man_page" 2>"$work/man.err")
else
  rendered=
  echo "skip man page rendering: neither man nor nroff"
fi
if [[ -n ${rendered:-} || -s $work/man.err ]]; then
  if [[ -s $work/man.err || $rendered != *"log audit"* ]]; then
    cat "$work/man.err" >&2
    echo "pedigree.1 does not render" >&2
    exit 1
  fi
  echo "ok   pedigree.1 renders"
fi

completed=$(bash -c 'source "$1"; COMP_WORDS=(pedigree ver); COMP_CWORD=1; _pedigree
  echo "${COMPREPLY[*]}"; COMP_WORDS=(pedigree log prove --in); COMP_CWORD=3; _pedigree
  echo "${COMPREPLY[*]}"' _ "$completion")
if [[ $completed != *verify* || $completed != *--index* ]]; then
  echo "bash completion: 'pedigree ver' and 'log prove --in' gave: $completed" >&2
  exit 1
fi
echo "ok   bash completion: pedigree ver -> verify"

# Every setting of the example, uncommented, is one serve accepts.
sed 's/^# //' "$config_example" >"$work/pedigree.conf"
"$stage/bin/pedigree" serve --dir "$work/no-ledger" --config "$work/pedigree.conf" --check
echo "ok   pedigree.conf.example uncommented passes serve --check"

if command -v systemd-analyze >/dev/null; then
  # The unit names the configured prefix's binary; verify it against the staged one.
  bindir=$(sed -n 's|^ExecStart=\(.*\)/pedigree serve .*|\1|p' "$unit")
  sed "s|$bindir/pedigree|$stage/bin/pedigree|g" "$unit" >"$work/pedigree.service"
  systemd-analyze verify --man=no "$work/pedigree.service"
  echo "ok   systemd-analyze verify pedigree.service"
else
  echo "skip systemd-analyze verify: no systemd-analyze"
fi
