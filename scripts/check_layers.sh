#!/usr/bin/env bash
# scripts/check_layers.sh [ROOT]: fails if a library folder includes a header from a
# layer above it. The layers, lowest first:
#   ledger/base <- ledger/log <- ledger/provenance <- scanner <- reports
#     <- services/usecases <- services/http, services/demo <- services/cli
# Each folder may include pedigree/<lib>/ headers only of its own library and those
# below it, plus the bans listed below. CMake's link graph enforces much of this too,
# but only as long as nobody adds an upward dependency; this reads the #include lines.
# Prints one line per violation (file:line: include: why) and exits 1 if any.
# scripts/check_layers.sh --self-test checks the checker on a made-up tree.
# CTest runs both as `layers` and `layers_self_test`.
set -euo pipefail

# <folder> <the libraries whose pedigree/<lib>/ headers it may include>
layers=(
  "ledger/base        base"
  "ledger/log         base log"
  "ledger/provenance  base log provenance"
  "scanner            base log provenance scanner"
  "reports            base log provenance scanner reports"
  "services/usecases  base log provenance scanner reports usecases"
  "services/http      base log provenance scanner reports usecases http"
  "services/demo      base log provenance scanner reports usecases demo"
)
# <folder> <headers it may not include although a library below it provides them>
# Reports read the log through pedigree/log/storage.h: which database holds it is
# ledger/log's business.
bans=(
  "reports  sqlite3.h pedigree/log/sqlite_storage.h pedigree/log/sql.h"
)

# check <root>: prints the violations under <root>; fails if there are any.
check() {
  local root=$1 status=0 rule folder allowed banned
  for rule in "${layers[@]}"; do
    read -r folder allowed <<<"$rule"
    banned=""
    for ban in "${bans[@]}"; do
      read -r f rest <<<"$ban"
      [ "$f" = "$folder" ] && banned=$rest
    done
    if [ ! -d "$root/$folder" ]; then
      echo "$folder: no such folder (update scripts/check_layers.sh with the layout)"
      status=1
      continue
    fi
    mapfile -t files < <(cd "$root" && find "$folder" -type f \
      \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' -o -name '*.inc' \) | sort)
    [ ${#files[@]} -eq 0 ] && continue
    (cd "$root" && awk -v folder="$folder" -v allowed="$allowed" -v banned="$banned" '
      BEGIN {
        n = split(allowed, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1
        n = split(banned, b, " "); for (i = 1; i <= n; i++) ban[b[i]] = 1
        bad = 0
      }
      /^[ \t]*#[ \t]*include[ \t]*[<"][^>"]+[>"]/ {
        t = $0
        sub(/^[ \t]*#[ \t]*include[ \t]*[<"]/, "", t)
        sub(/[>"].*$/, "", t)
        where = FILENAME ":" FNR ": #include " t ": "
        if (t ~ /^pedigree\//) {
          lib = t; sub(/^pedigree\//, "", lib); sub(/\/.*$/, "", lib)
          if (!(lib in ok)) { print where folder " may include only pedigree/{" allowed "}"; bad = 1 }
        }
        if (t in ban) { print where folder " may not include it (see bans)"; bad = 1 }
        if (t ~ /(^|\/)\.\.\//) { print where "a relative path out of the folder"; bad = 1 }
      }
      END { exit bad }' "${files[@]}") || status=1
  done
  return $status
}

self_test() {
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  for rule in "${layers[@]}"; do
    read -r folder _ <<<"$rule"
    mkdir -p "$tmp/$folder/src"
  done
  printf '#include "pedigree/base/error.h"\n#include <openssl/sha.h>\n' >"$tmp/ledger/base/src/ok.cpp"
  printf '// #include "pedigree/scanner/gs1.h"\n#include "pedigree/log/merkle.h"\n' >"$tmp/ledger/log/src/ok.cpp"
  printf '#include <vector>\n#include "pedigree/scanner/gs1.h"\n' >"$tmp/ledger/log/src/up.cpp"
  printf '#  include <sqlite3.h>\n#include "../../services/usecases/x.h"\n' >"$tmp/reports/src/db.cpp"
  printf '#include <pedigree/cli/cli.h>\n' >"$tmp/services/demo/src/up.h"
  local expected actual
  expected=$(printf '%s\n' \
    'ledger/log/src/up.cpp:2: #include pedigree/scanner/gs1.h: ledger/log may include only pedigree/{base log}' \
    'reports/src/db.cpp:1: #include sqlite3.h: reports may not include it (see bans)' \
    'reports/src/db.cpp:2: #include ../../services/usecases/x.h: a relative path out of the folder' \
    'services/demo/src/up.h:1: #include pedigree/cli/cli.h: services/demo may include only pedigree/{base log provenance scanner reports usecases demo}')
  if actual=$(check "$tmp"); then
    echo "self-test: the checker passed a tree with violations"
    return 1
  fi
  if [ "$actual" != "$expected" ]; then
    echo "self-test: expected"; echo "$expected"; echo "got"; echo "$actual"
    return 1
  fi
  echo "self-test: the checker finds the 4 planted violations and nothing else"
}

if [ "${1:-}" = "--self-test" ]; then
  self_test
  exit
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check "$root"; then
  echo "layers: every #include reaches only downward"
else
  echo "layers: the includes above reach upward (rules in scripts/check_layers.sh)"
  exit 1
fi
