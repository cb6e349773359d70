#!/usr/bin/env bash
# Runs the shell examples of README.md and docs/*.md verbatim against a built `pedigree`.
#
# Convention (docs/building.md, "Examples in the docs"): a fenced block opened with
# exactly ```sh (or ```bash) at the start of a line is an example and is run; every other
# block (```text, ```json, indented synopses with placeholders) is not. An example that
# cannot run in CI starts with the line `# skip: <why>`; a skip without a reason fails.
# Blocks run in order (README.md first, then docs/*.md by name), each with
# `bash -euo pipefail`, all in one directory that starts empty, with `pedigree` first on
# PATH and PEDIGREE_DIR unset, so they share ./pedigree-data (README's quick start makes
# it: organisation mfg with its key held, product 09506000134352, batch L1).
#
# usage: run_examples.sh PEDIGREE_BINARY SOURCE_DIR
#        run_examples.sh --self-test        (the extraction and skip rules on a fixture)
set -euo pipefail

extract() {  # extract OUT_DIR FILE...: writes OUT_DIR/NNNN.sh and OUT_DIR/NNNN.where
  awk -v out="$1" '
    FNR == 1 { fence = 0; capture = 0 }
    /^```/ {
      if (!fence) {
        fence = 1
        info = substr($0, 4); gsub(/^[ \t]+|[ \t]+$/, "", info)
        if (info == "sh" || info == "bash") {
          capture = 1; n++
          file = sprintf("%s/%04d.sh", out, n)
          printf "" > file
          print FILENAME ":" FNR > sprintf("%s/%04d.where", out, n)
        }
        next
      }
      if ($0 ~ /^```[ \t]*$/) { fence = 0; if (capture) close(file); capture = 0; next }
    }
    capture { print >> file }
  ' "${@:2}"
}

# run_blocks BLOCK_DIR WORK_DIR: runs every block; prints a summary; returns 1 on failure.
run_blocks() {
  local blocks=$1 work=$2 ran=0 skipped=0 failed=0 where first reason
  for block in "$blocks"/*.sh; do
    [[ -e $block ]] || continue
    where=$(cat "${block%.sh}.where")
    first=$(head -n 1 "$block")
    if [[ $first =~ ^#[[:space:]]*skip: ]]; then
      reason=${first#*skip:}
      reason=${reason#"${reason%%[![:space:]]*}"}
      if [[ -z $reason ]]; then
        echo "FAIL $where: '# skip:' without a reason"
        failed=$((failed + 1))
      else
        echo "skip $where: $reason"
        skipped=$((skipped + 1))
      fi
      continue
    fi
    # In a process group of its own, so that whatever it left running (a server started
    # with &) is stopped once it ends, however it ends.
    local rc=0
    (cd "$work" && setsid -w bash -c 'echo $$ >"$1.pgid"; exec bash -euo pipefail "$1"' _ \
      "$block") >"$block.log" 2>&1 || rc=$?
    kill -TERM -- "-$(cat "$block.pgid")" 2>/dev/null || true
    if [[ $rc -eq 0 ]]; then
      echo "ok   $where"
      ran=$((ran + 1))
    else
      echo "FAIL $where (exit $rc):"
      sed 's/^/    | /' "$block"
      echo "    output:"
      tail -n 20 "$block.log" | sed 's/^/    > /'
      failed=$((failed + 1))
    fi
  done
  echo "docs examples: $ran run, $skipped skipped, $failed failed"
  [[ $failed -eq 0 && $ran -gt 0 ]]
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blocks" "$tmp/work" "$tmp/bin"

if [[ ${1:-} == --self-test ]]; then
  # Fixture: a runnable block, a reasoned skip, a json block and a synopsis are told apart;
  # a skip without a reason and a failing command both fail the run.
  cat >"$tmp/a.md" <<'MD'
```sh
echo one > one.txt
```
```json
{"not": "run"}
```
    pedigree synopsis --not-run
```sh
# skip: needs the network
curl https://example.org
```
```bash
test "$(cat one.txt)" = one
```
MD
  extract "$tmp/blocks" "$tmp/a.md"
  [[ $(ls "$tmp/blocks"/*.sh | wc -l) -eq 3 ]] || { echo "self-test: expected 3 blocks"; exit 1; }
  run_blocks "$tmp/blocks" "$tmp/work" || { echo "self-test: good fixture failed"; exit 1; }
  rm -rf "$tmp/blocks"/* "$tmp/work"/*
  printf '```sh\n# skip:\necho x\n```\n' >"$tmp/b.md"
  extract "$tmp/blocks" "$tmp/b.md"
  if run_blocks "$tmp/blocks" "$tmp/work"; then echo "self-test: reasonless skip passed"; exit 1; fi
  rm -rf "$tmp/blocks"/* "$tmp/work"/*
  printf '```sh\necho ok\nfalse\necho unreachable\n```\n' >"$tmp/c.md"
  extract "$tmp/blocks" "$tmp/c.md"
  if run_blocks "$tmp/blocks" "$tmp/work"; then echo "self-test: failing block passed"; exit 1; fi
  echo "self-test passed"
  exit 0
fi

binary=$(realpath "$1")
source_dir=$(realpath "$2")
ln -s "$binary" "$tmp/bin/pedigree"
export PATH="$tmp/bin:$PATH"
unset PEDIGREE_DIR
docs=("$source_dir/README.md")
while IFS= read -r f; do docs+=("$f"); done < <(ls "$source_dir"/docs/*.md | LC_ALL=C sort)
extract "$tmp/blocks" "${docs[@]}"
# Paths in the report relative to the source tree.
sed -i "s|^$source_dir/||" "$tmp/blocks"/*.where 2>/dev/null || true
run_blocks "$tmp/blocks" "$tmp/work"
