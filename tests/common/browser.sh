# shellcheck shell=bash
# Sourced by the tests that drive headless Chromium (tests/browser, tests/print):
#   browser_setup PACKAGE_DIR WORK_DIR WHAT
# Exits 77 (skipped) when Chromium is absent, 1 without node/npm; otherwise installs the
# npm packages pinned in PACKAGE_DIR/package.json (puppeteer-core) into WORK_DIR/node, again
# only when package.json changed, and sets $chromium and $node_dir.
browser_setup() {
  local here=$1 work=$2 what=$3
  chromium=${PEDIGREE_CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$chromium" ]; then
    echo "SKIP: no Chromium at $chromium (scripts/deps.sh installs the Debian package chromium)"
    exit 77
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "FAIL: node and npm are needed for the $what (scripts/deps.sh installs them)" >&2
    exit 1
  fi
  mkdir -p "$work"
  node_dir="$work/node"
  if ! cmp -s "$here/package.json" "$node_dir/package.json" ||
    [ ! -f "$node_dir/node_modules/puppeteer-core/package.json" ]; then
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp "$here/package.json" "$node_dir/"
    (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
}
