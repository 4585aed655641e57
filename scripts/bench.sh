#!/usr/bin/env bash
# Benchmarks mailsetup (release build) against nginx serving the
# byte-identical config-v1.1.xml as a static file, with the same keep-alive
# and TLS settings (one ECDSA P-256 certificate for both), and prints two
# Markdown tables:
#
# 1. at saturation (wrk, each connection sends its next request as soon as
#    the answer arrives): requests/s, p50/p99/p99.9 latency, server RSS, and
#    for (a)-(c) the ratios mailsetup/nginx, against nginx writing an access
#    log line per request (like mailsetup, whose request log stays on) and
#    against nginx with `access_log off` (the "logs for free" goal: keeping
#    every log line must cost less than nginx's margin without one);
# 2. at fixed offered rates (oha, open loop with latency correction, the
#    first WARMUP seconds excluded so the initial TLS handshakes do not
#    count): p50/p99/p99.9 latency of both servers at the same load.
#
#   scripts/bench.sh                 # 10 s per run, 64 connections
#   DURATION=30 CONNECTIONS=128 RATES="10000 40000" scripts/bench.sh
#   GZIP_CASE=1 scripts/bench.sh     # adds row (a-gz), see below
#   ROUNDS=5 scripts/bench.sh        # adds alternating rounds, see below
#   SAME_CORE=5 scripts/bench.sh     # adds same-core rounds, see below
#
# One run of each server says little on a machine whose throughput moves
# by a fifth from one run to the next: with ROUNDS=N, cases (a) and (b)
# are also run N times alternately, nginx without log before and after
# each mailsetup run, and each ratio is taken against the mean of the two
# nginx runs around it; the table prints every ratio and the median.
# Even so a round's ratio moves by a tenth, because the machine's speed
# moves between the runs it compares. With SAME_CORE=N, cases (a) and (b)
# are also run N times with both servers loaded at once on their one
# shared core (each by its own wrk with half the connections), and each
# one's CPU time (utime + stime from /proc, all threads, nginx's workers
# included) is divided by the requests it answered: both see the same
# machine at the same moment, so the ratio of their CPU time per request
# (nginx / mailsetup; above 1 means mailsetup needs less) holds still
# from round to round. On a single-core server that time is what bounds
# requests/s.
#
# Needs: nginx, wrk, openssl, taskset (apt-get install -y nginx wrk), and
# for table 2 oha (cargo install oha --locked --version 1.16.0; the table is
# skipped with a note when oha is missing).
# Loopback only. Not run by CI: a benchmark job or a person runs it.
#
# Pinning: on a machine with N >= 2 cores the servers get core 1 and the
# load generator every other core, so client and server never share a core;
# both servers have one core (nginx one worker, mailsetup
# TOKIO_WORKER_THREADS=1). The load generator runs one thread per client
# core, at most 2 (THREADS overrides): on a 2-core machine that is one
# thread, because two wrk threads sharing one core take turns, and a
# thread's whole scheduler slice shows up as latency of the other thread's
# connections (BENCHMARKS.md measures the difference). With one core
# nothing is pinned.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2}
RATES=${RATES:-10000 20000 30000}
SIGNED_RATES=${SIGNED_RATES:-2000 5000}
HTTP_PORT=${HTTP_PORT:-18080}
HTTPS_PORT=${HTTPS_PORT:-18443}
NGINX_HTTP_PORT=${NGINX_HTTP_PORT:-18081}
NGINX_HTTPS_PORT=${NGINX_HTTPS_PORT:-18444}
NGINX_NOLOG_HTTP_PORT=${NGINX_NOLOG_HTTP_PORT:-18082}
NGINX_NOLOG_HTTPS_PORT=${NGINX_NOLOG_HTTPS_PORT:-18445}
ADDRESS=alice@contoso.example
QUERY="/mail/config-v1.1.xml?emailaddress=alice%40contoso.example"

for tool in nginx wrk openssl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "missing $tool: apt-get install -y nginx wrk openssl" >&2
    exit 1
  }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

CORES=$(nproc)
if [ "$CORES" -ge 2 ]; then
  CLIENT_CORES=0
  [ "$CORES" -gt 2 ] && CLIENT_CORES="0,2-$((CORES - 1))"
  CLIENT_CORE_COUNT=$((CORES - 1))
  SERVER_PIN=(taskset -c 1)
  CLIENT_PIN=(taskset -c "$CLIENT_CORES")
  export TOKIO_WORKER_THREADS=1
else
  CLIENT_CORE_COUNT=1
  SERVER_PIN=()
  CLIENT_PIN=()
fi
NGINX_WORKERS=1
THREADS=${THREADS:-$((CLIENT_CORE_COUNT < 2 ? CLIENT_CORE_COUNT : 2))}
if [ "$CORES" -ge 2 ]; then
  PINNING="servers on core 1 (mailsetup 1 tokio worker, nginx 1 worker), load generator (threads: $THREADS) on cores $CLIENT_CORES"
else
  PINNING="none (one core: client and server share it)"
fi

if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --quiet
fi
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/mailsetup

WORK=$(mktemp -d /tmp/mailsetup-bench.XXXXXX)
# nginx's workers run as an unprivileged user (www-data) and must read the
# document.
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# One ECDSA P-256 certificate for both servers.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

cat >"$WORK/mailsetup.toml" <<EOF
[server]
http = ["127.0.0.1:$HTTP_PORT"]
https = ["127.0.0.1:$HTTPS_PORT"]

[tls]
certificate = "$WORK/cert.pem"
private_key = "$WORK/key.pem"

[[domain]]
name = "contoso.example"
profile = "microsoft365"
display_name = "Contoso"
EOF

# The byte-identical document nginx serves.
"$BIN" render thunderbird "$ADDRESS" --config "$WORK/mailsetup.toml" >"$WORK/config-v1.1.xml"

mkdir -p "$WORK/nginx"
cat >"$WORK/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  # Like mailsetup: one log line per request, HTTP/1.1 keep-alive with no
  # per-connection request cap, 60 s idle timeout, full TLS handshakes
  # (no session cache or tickets), TLS 1.2 and 1.3.
  access_log $WORK/nginx/access.log;
  keepalive_timeout 60s;
  keepalive_requests 1000000000;
  ssl_certificate $WORK/cert.pem;
  ssl_certificate_key $WORK/key.pem;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache off;
  ssl_session_tickets off;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx;
  scgi_temp_path $WORK/nginx;
  etag off;
  server {
    listen 127.0.0.1:$NGINX_HTTP_PORT;
    listen 127.0.0.1:$NGINX_HTTPS_PORT ssl;
    location = /mail/config-v1.1.xml {
      default_type "application/xml; charset=utf-8";
      add_header Cache-Control "public, max-age=3600";
      add_header X-Content-Type-Options nosniff;
      alias $WORK/config-v1.1.xml;
    }
  }
  # The same, without an access log: the baseline of "logs for free".
  server {
    listen 127.0.0.1:$NGINX_NOLOG_HTTP_PORT;
    listen 127.0.0.1:$NGINX_NOLOG_HTTPS_PORT ssl;
    access_log off;
    location = /mail/config-v1.1.xml {
      default_type "application/xml; charset=utf-8";
      add_header Cache-Control "public, max-age=3600";
      add_header X-Content-Type-Options nosniff;
      alias $WORK/config-v1.1.xml;
    }
  }
}
EOF

"${SERVER_PIN[@]}" "$BIN" serve --config "$WORK/mailsetup.toml" \
  >"$WORK/mailsetup.out" 2>"$WORK/mailsetup.log" &
MAILSETUP_PID=$!
PIDS+=("$MAILSETUP_PID")
"${SERVER_PIN[@]}" "$NGINX" -c "$WORK/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx/stderr.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")

for _ in $(seq 50); do
  grep -q "mailsetup ready" "$WORK/mailsetup.out" 2>/dev/null &&
    curl -sf "http://127.0.0.1:$NGINX_HTTP_PORT$QUERY" >/dev/null 2>&1 && break
  sleep 0.2
done

# The two documents must be the same bytes, over HTTP and HTTPS.
for url in "http://127.0.0.1:$HTTP_PORT$QUERY" "http://127.0.0.1:$NGINX_HTTP_PORT$QUERY" \
  "https://127.0.0.1:$HTTPS_PORT$QUERY" "https://127.0.0.1:$NGINX_HTTPS_PORT$QUERY" \
  "http://127.0.0.1:$NGINX_NOLOG_HTTP_PORT$QUERY" "https://127.0.0.1:$NGINX_NOLOG_HTTPS_PORT$QUERY"; do
  curl -sfk "$url" | cmp -s - "$WORK/config-v1.1.xml" || {
    echo "$url does not serve the rendered document" >&2
    exit 1
  }
done

# wrk reports through this script: requests/s, latency percentiles
# (p99.9 is not in wrk's own --latency output), errors. BENCH_METHOD and
# BENCH_BODY_FILE turn the requests into POSTs.
cat >"$WORK/report.lua" <<'EOF'
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file then
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "text/xml"
end
function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, errors, summary.requests))
end
EOF

# RSS of a process tree (nginx: master + workers), KiB, sampled mid-run.
rss_kib() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# run NAME PID URL [wrk args...] → one table row's numbers in $ROW.
run() {
  local pid=$1 url=$2
  shift 2
  "${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" \
    -s "$WORK/report.lua" "$@" "$url" >"$WORK/wrk.out" 2>&1 &
  local wrk_pid=$!
  sleep $((DURATION / 2))
  local rss
  rss=$(rss_kib "$pid")
  wait "$wrk_pid" || true
  local result
  result=$(grep '^RESULT' "$WORK/wrk.out" || true)
  if [ -z "$result" ]; then
    cat "$WORK/wrk.out" >&2
    ROW="failed | | | | | |"
    RPS=0
    return
  fi
  # shellcheck disable=SC2086
  set -- $result
  RPS=$2
  ROW=$(printf "%s | %s | %s | %s | %.1f | %s / %s" "$2" "$3" "$4" "$5" "$(echo "$rss / 1024" | bc -l)" "$6" "$7")
  # Truncate the request logs so disk use stays bounded.
  : >"$WORK/mailsetup.log"
  : >"$WORK/nginx/access.log"
}

ratio() { echo "scale=2; $1 / $2" | bc -l; }

# decimal EXPRESSION → its value (bc), two decimals.
decimal() { echo "$1" | bc -l | xargs printf '%.2f'; }

# keep_alive_urls a|b → $ours (mailsetup) and $unlogged (nginx without log)
# for case (a), plain HTTP, or (b), HTTPS.
keep_alive_urls() {
  case $1 in
    a) ours="http://127.0.0.1:$HTTP_PORT$QUERY" unlogged="http://127.0.0.1:$NGINX_NOLOG_HTTP_PORT$QUERY" ;;
    b) ours="https://127.0.0.1:$HTTPS_PORT$QUERY" unlogged="https://127.0.0.1:$NGINX_NOLOG_HTTPS_PORT$QUERY" ;;
  esac
}

# median NUMBER... → their median, two decimals ("n/a" for none).
median() {
  printf '%s\n' "$@" | sort -g |
    awk 'NF { v[++n] = $1 } END { if (!n) print "n/a"; else printf "%.2f", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

POX_BODY=$WORK/pox.xml
cat >"$POX_BODY" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>$ADDRESS</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
EOF

echo "# mailsetup vs nginx — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${DURATION}s per run, $CONNECTIONS connections, wrk -t$THREADS"
echo "# pinning: $PINNING"
echo "# document: $(wc -c <"$WORK/config-v1.1.xml") bytes, identical for both servers"
echo
echo "| case | server | requests/s | p50 ms | p99 ms | p99.9 ms | RSS MiB | errors / requests | mailsetup/nginx | mailsetup/nginx without log |"
echo "|---|---|---|---|---|---|---|---|---|---|"

declare -A NAMES=(
  [a]="(a) autoconfig GET, HTTP keep-alive"
  [b]="(b) autoconfig GET, HTTPS keep-alive"
  [c]="(c) new TLS connection per request (handshakes/s)"
)
for case in a b c; do
  args=()
  case $case in
    a)
      ours="http://127.0.0.1:$HTTP_PORT$QUERY" theirs="http://127.0.0.1:$NGINX_HTTP_PORT$QUERY"
      unlogged="http://127.0.0.1:$NGINX_NOLOG_HTTP_PORT$QUERY"
      ;;
    b | c)
      ours="https://127.0.0.1:$HTTPS_PORT$QUERY" theirs="https://127.0.0.1:$NGINX_HTTPS_PORT$QUERY"
      unlogged="https://127.0.0.1:$NGINX_NOLOG_HTTPS_PORT$QUERY"
      ;;
  esac
  [ "$case" = c ] && args=(-H "Connection: close")
  run "$MAILSETUP_PID" "$ours" "${args[@]}"
  ours_row=$ROW ours_rps=$RPS
  run "$NGINX_PID" "$theirs" "${args[@]}"
  theirs_row=$ROW theirs_rps=$RPS
  run "$NGINX_PID" "$unlogged" "${args[@]}"
  unlogged_row=$ROW unlogged_rps=$RPS
  r=$( [ "$theirs_rps" != 0 ] && ratio "$ours_rps" "$theirs_rps" || echo n/a)
  r_unlogged=$( [ "$unlogged_rps" != 0 ] && ratio "$ours_rps" "$unlogged_rps" || echo n/a)
  echo "| ${NAMES[$case]} | mailsetup | $ours_row | $r | $r_unlogged |"
  echo "| | nginx | $theirs_row | | |"
  echo "| | nginx, access_log off | $unlogged_row | | |"
done

BENCH_BODY_FILE=$POX_BODY run "$MAILSETUP_PID" "https://127.0.0.1:$HTTPS_PORT/autodiscover/autodiscover.xml"
echo "| (d) POX autodiscover POST, HTTPS keep-alive | mailsetup | $ROW | | |"

APPLE_URL="https://127.0.0.1:$HTTPS_PORT/apple/$ADDRESS.mobileconfig"
run "$MAILSETUP_PID" "$APPLE_URL"
echo "| (e) signed mobileconfig, HTTPS keep-alive | mailsetup | $ROW | | |"

# (a-gz), optional: (a) as real Thunderbird asks it, gzipped, so the
# per-request compression shows. mailsetup only (nginx serves the file
# uncompressed here), so no ratio.
if [ -n "${GZIP_CASE:-}" ]; then
  GZ_URL="http://127.0.0.1:$HTTP_PORT$QUERY"
  if curl -sf -o /dev/null -D - -H 'Accept-Encoding: gzip' "$GZ_URL" | grep -qi '^content-encoding: *gzip'; then
    run "$MAILSETUP_PID" "$GZ_URL" -H 'Accept-Encoding: gzip'
    echo "| (a-gz) autoconfig GET gzip, HTTP keep-alive | mailsetup | $ROW | | |"
  else
    echo "| (a-gz) autoconfig GET gzip, HTTP keep-alive | mailsetup | not gzipped: row skipped | | |"
  fi
fi
echo
echo "(c): wrk sends Connection: close, so every request is a new TCP connection and a full"
echo "TLS handshake (wrk/OpenSSL does not resume sessions; nginx has session cache and tickets"
echo "off; mailsetup's rustls does no resumption for a client that offers none): handshakes/s = requests/s."
echo "RSS: VmRSS sampled halfway through each run (nginx: master + worker)."

if [ "${ROUNDS:-0}" -gt 0 ]; then
  echo
  echo "Alternating rounds ($ROUNDS, ${DURATION}s runs): mailsetup / nginx without log, each"
  echo "against the mean of the nginx runs just before and after it."
  echo
  echo "| case | ratios | median |"
  echo "|---|---|---|"
  for case in a b; do
    keep_alive_urls "$case"
    run "$NGINX_PID" "$unlogged"
    before=$RPS
    ratios=()
    for _ in $(seq "$ROUNDS"); do
      run "$MAILSETUP_PID" "$ours"
      ours_rps=$RPS
      run "$NGINX_PID" "$unlogged"
      # A failed run (0 requests/s) leaves its round out.
      if [ "$before" -gt 0 ] && [ "$RPS" -gt 0 ] && [ "$ours_rps" -gt 0 ]; then
        ratios+=("$(decimal "2 * $ours_rps / ($before + $RPS)")")
      fi
      before=$RPS
    done
    median=$(median "${ratios[@]}")
    echo "| ${NAMES[$case]} | ${ratios[*]} | $median |"
  done
fi

# cpu_ticks PID: CPU time of a process and its children (nginx: master and
# workers), all threads, in clock ticks.
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    # Fields after "pid (comm) ": utime and stime are the 12th and 13th.
    total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo "$total"
}

if [ "${SAME_CORE:-0}" -gt 0 ]; then
  TICKS_PER_SECOND=$(getconf CLK_TCK)
  HALF=$((CONNECTIONS / 2))
  echo
  echo "Same-core rounds ($SAME_CORE, ${DURATION}s runs): nginx without log and mailsetup loaded at"
  echo "once on their shared core, $HALF connections each; CPU µs per request of each, and"
  echo "nginx / mailsetup (above 1: mailsetup needs less CPU per request)."
  echo
  echo "| case | nginx µs/request | mailsetup µs/request | nginx / mailsetup | median |"
  echo "|---|---|---|---|---|"
  for case in a b; do
    keep_alive_urls "$case"
    theirs_us=() ours_us=() ratios=()
    for _ in $(seq "$SAME_CORE"); do
      nginx_before=$(cpu_ticks "$NGINX_PID")
      ours_before=$(cpu_ticks "$MAILSETUP_PID")
      "${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$HALF" -d"${DURATION}s" -s "$WORK/report.lua" \
        "$unlogged" >"$WORK/wrk-nginx.out" 2>&1 &
      nginx_wrk=$!
      "${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$HALF" -d"${DURATION}s" -s "$WORK/report.lua" \
        "$ours" >"$WORK/wrk-ours.out" 2>&1 || true
      wait "$nginx_wrk" || true
      nginx_ticks=$(($(cpu_ticks "$NGINX_PID") - nginx_before))
      ours_ticks=$(($(cpu_ticks "$MAILSETUP_PID") - ours_before))
      nginx_requests=$(awk '/^RESULT/ {print $7}' "$WORK/wrk-nginx.out")
      ours_requests=$(awk '/^RESULT/ {print $7}' "$WORK/wrk-ours.out")
      : >"$WORK/mailsetup.log"
      # A failed run (no requests) leaves its round out.
      if [ "${nginx_requests:-0}" -gt 0 ] && [ "${ours_requests:-0}" -gt 0 ] && [ "$ours_ticks" -gt 0 ]; then
        theirs_us+=("$(decimal "$nginx_ticks * 1000000 / $TICKS_PER_SECOND / $nginx_requests")")
        ours_us+=("$(decimal "$ours_ticks * 1000000 / $TICKS_PER_SECOND / $ours_requests")")
        ratios+=("$(decimal "($nginx_ticks / $nginx_requests) / ($ours_ticks / $ours_requests)")")
      fi
    done
    median=$(median "${ratios[@]}")
    echo "| ${NAMES[$case]} | ${theirs_us[*]} | ${ours_us[*]} | ${ratios[*]} | $median |"
  done
fi

# fixed_rate URL RATE [oha args...] → one table row's numbers in $ROW.
# oha is open loop: it sends at RATE whatever the answers do, and with
# --latency-correction a request's latency starts when oha released it,
# so a stalled server cannot hide its queue (coordinated omission). Each
# request's start time is in the CSV, so the first WARMUP seconds (64 TLS
# handshakes and the queue they build up) are left out of the percentiles.
# oha asks for gzip unless told otherwise, and wrk does not: without
# `Accept-Encoding: identity` mailsetup would gzip every document here
# (about 30 µs of CPU a request) while nginx, and every wrk run, send the
# same bytes plain.
fixed_rate() {
  local url=$1 rate=$2
  shift 2
  "${CLIENT_PIN[@]}" oha -z "$((WARMUP + DURATION))s" -c "$CONNECTIONS" -q "$rate" \
    -H "Accept-Encoding: identity" \
    --latency-correction --no-tui --insecure --output-format csv \
    --worker-threads "$THREADS" "$@" "$url" >"$WORK/oha.csv" 2>"$WORK/oha.err" || {
    cat "$WORK/oha.err" >&2
    ROW="failed | | | | |"
    return
  }
  # Columns: request-start,DNS,DNS+dialup,Response-delay,request-duration,bytes,status
  # → "latency_ms not_2xx" per measured request, sorted by latency.
  awk -F, -v warmup="$WARMUP" 'NR > 1 && $1 >= warmup { print $5 * 1000, ($7 ~ /^2/ ? 0 : 1) }' \
    "$WORK/oha.csv" | sort -g >"$WORK/latency"
  ROW=$(awk -v seconds="$DURATION" '
    function at(p) { i = int(p * NR); return v[i < NR ? i : NR - 1] }
    { v[NR - 1] = $1; bad += $2 }
    END {
      if (NR == 0) { printf "no answers | | | | | 0 / 0"; exit }
      printf "%d | %.3f | %.3f | %.3f | %.3f | %d / %d", NR / seconds, at(0.5), at(0.99), at(0.999), v[NR - 1], bad, NR
    }
  ' "$WORK/latency")
  : >"$WORK/mailsetup.log"
  : >"$WORK/nginx/access.log"
}

echo
if ! command -v oha >/dev/null; then
  echo "Latency at fixed rates: skipped, oha is missing (cargo install oha --locked --version 1.16.0)."
  exit 0
fi
echo "Latency at fixed offered rates: oha, open loop with latency correction, $CONNECTIONS connections,"
echo "client threads: $THREADS, ${WARMUP}s warm-up excluded, ${DURATION}s measured. oha's CSV lists"
echo "answered requests only: a measured rate below the offered rate means requests failed."
echo
echo "| case | offered req/s | server | measured req/s | p50 ms | p99 ms | p99.9 ms | max ms | non-2xx / requests |"
echo "|---|---|---|---|---|---|---|---|---|"
for rate in $RATES; do
  fixed_rate "http://127.0.0.1:$HTTP_PORT$QUERY" "$rate"
  echo "| (a) autoconfig GET, HTTP | $rate | mailsetup | $ROW |"
  fixed_rate "http://127.0.0.1:$NGINX_HTTP_PORT$QUERY" "$rate"
  echo "| | | nginx | $ROW |"
done
for rate in $RATES; do
  fixed_rate "https://127.0.0.1:$HTTPS_PORT$QUERY" "$rate"
  echo "| (b) autoconfig GET, HTTPS | $rate | mailsetup | $ROW |"
  fixed_rate "https://127.0.0.1:$NGINX_HTTPS_PORT$QUERY" "$rate"
  echo "| | | nginx | $ROW |"
done
for rate in $RATES; do
  fixed_rate "https://127.0.0.1:$HTTPS_PORT/autodiscover/autodiscover.xml" "$rate" \
    -m POST -T text/xml -D "$POX_BODY"
  echo "| (d) POX autodiscover POST, HTTPS | $rate | mailsetup | $ROW |"
done
for rate in $SIGNED_RATES; do
  fixed_rate "$APPLE_URL" "$rate"
  echo "| (e) signed mobileconfig, HTTPS | $rate | mailsetup | $ROW |"
done
