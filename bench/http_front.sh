#!/usr/bin/env bash
# The HTTP front against its ceiling, in one run on the same cores with the same wrk
# settings (-t2 -c32 --latency): an nginx static 200 on loopback (started here, with its
# own conf in a temp dir, not as a service), then the chassis' GET /healthz and GET
# /v1/verify (bench_http_verify_chassis --serve: the full chassis — parser, router, query
# decoding, metrics, verify marked inline as the API marks it — with a trivial verify
# handler, so the figure is what the front costs, not the ledger). Rounds alternate
# nginx / pedigree so that machine noise lands on both sides of each ratio; the ratio
# printed is the median of the rounds.
# Targets (issue 18): /healthz >= 0.8 x nginx, /v1/verify >= 0.7 x nginx, p99 <= 10 ms.
#
# Usage: bench/http_front.sh [BUILD_DIR=build] [SECONDS_PER_RUN=5] [ROUNDS=3]
# Installs wrk and nginx-light with apt-get when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
seconds=${2:-5}
rounds=${3:-3}
chassis=$build/bench/bench_http_verify_chassis
[ -x "$chassis" ] || { echo "build bench_http_verify_chassis first ($chassis)" >&2; exit 2; }

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# nginx: as many workers as cores, keep-alive without a request limit, no logs.
nginx_port=$((20000 + RANDOM % 20000))
body='{"verdict":"active","alerts":[]}'
mkdir -p "$tmp/body" "$tmp/proxy" "$tmp/fastcgi"
cat >"$tmp/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" &
pids+=($!)

"$chassis" --serve $((rounds * seconds * 3 + 60)) >"$tmp/chassis.out" &
pids+=($!)
for _ in $(seq 100); do
  grep -q '^listening on' "$tmp/chassis.out" 2>/dev/null && break
  sleep 0.1
done
verify_url=$(sed -n 's/^listening on //p' "$tmp/chassis.out")
base=${verify_url%%/v1/*}
[ -n "$base" ] || { echo "the chassis did not start" >&2; exit 1; }
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$nginx_port/" >/dev/null 2>&1 && break
  sleep 0.1
done

# "<requests/s> <p99 ms>" of one wrk run.
run() {
  local out rps p99
  out=$(wrk -t2 -c32 -d"${seconds}s" --latency "$1")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
    echo "errors in the run against $1:" >&2
    grep 'Non-2xx\|Socket errors' <<<"$out" >&2
  fi
  echo "$rps $p99"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "# HTTP front vs nginx — $(date -u +%F) — $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t2 -c32, ${seconds} s x ${rounds} rounds"
declare -A ratios p99s rates
for r in $(seq "$rounds"); do
  for path in healthz verify; do
    read -r n_rps _ < <(run "http://127.0.0.1:$nginx_port/")
    if [ "$path" = healthz ]; then url="$base/healthz"; else url="$verify_url"; fi
    read -r p_rps p_p99 < <(run "$url")
    ratio=$(awk -v a="$p_rps" -v b="$n_rps" 'BEGIN {printf "%.3f", a / b}')
    printf 'round %d  %-8s nginx %9.0f/s  pedigree %9.0f/s  ratio %s  p99 %s ms\n' \
      "$r" "$path" "$n_rps" "$p_rps" "$ratio" "$p_p99"
    ratios[$path]+="$ratio "
    p99s[$path]+="$p_p99 "
    rates[$path]+="$p_rps "
  done
done
for path in healthz verify; do
  target=0.8
  [ "$path" = verify ] && target=0.7
  ratio=$(tr ' ' '\n' <<<"${ratios[$path]}" | grep . | median)
  p99=$(tr ' ' '\n' <<<"${p99s[$path]}" | grep . | median)
  rate=$(tr ' ' '\n' <<<"${rates[$path]}" | grep . | median)
  printf 'GET /%-8s %9.0f/s  median ratio to nginx %s (target >= %s)  median p99 %s ms (target <= 10)\n' \
    "$path" "$rate" "$ratio" "$target" "$p99"
done
