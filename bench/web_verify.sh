#!/usr/bin/env bash
# Web verify round trip p99 (issue 13, Performance; target <= 50 ms on loopback): the
# pharmacy page in headless Chromium against `pedigree serve`, measured by web_verify.js
# beside the page's bare API call. Uses the puppeteer-core pinned for tests/browser,
# installed from npm into NODE_WORK (default: a directory next to the binary's build tree).
# Skips (exit 77) when Chromium is absent, like the browser test.
# Usage: bench/web_verify.sh PEDIGREE_BINARY [ITERATIONS=200]
set -euo pipefail
pedigree=$(realpath "$1")
iterations=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
node_work=${NODE_WORK:-$(dirname "$(dirname "$pedigree")")/bench/web-verify}
# shellcheck source=tests/common/browser.sh
source "$here/../tests/common/browser.sh"
browser_setup "$here/../tests/browser" "$node_work" "web verify bench"
work=$(mktemp -d "${TMPDIR:-/tmp}/pedigree-bench-web-XXXXXX")
# shellcheck source=bench/verify_fixture.sh
source "$here/verify_fixture.sh"
trap 'fixture_stop; rm -rf "$work"' EXIT
fixture_serve "$pedigree" "$work"
BASE_URL=$base CHROMIUM=$chromium TOKEN=$token CODE=$code ITERATIONS=$iterations \
  NODE_PATH="$node_dir/node_modules" node "$here/web_verify.js"
echo "(load $(cut -d' ' -f1 /proc/loadavg))"
