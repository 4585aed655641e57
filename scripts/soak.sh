#!/usr/bin/env bash
# Soak test: mixed traffic across every endpoint at 256 connections
# (192 HTTPS + 64 HTTP keep-alive) against the release build, with a
# configuration reload every 30 s, for 10 minutes. Prints errors and the
# server's RSS over time, and fails on any error or if the server died.
#
#   scripts/soak.sh                  # 600 s
#   SOAK_SECONDS=60 scripts/soak.sh  # a short run (say so when you quote it)
#
# Reload is SIGHUP, sent only when `mailsetup serve --help` documents it;
# otherwise the script says that reloads were skipped. Each reload edits
# the configuration (a display name) so it is a real change.
#
# Needs wrk and openssl. Loopback only. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_SECONDS=${SOAK_SECONDS:-600}
RELOAD_EVERY=${RELOAD_EVERY:-30}
SAMPLE_EVERY=${SAMPLE_EVERY:-10}
HTTP_PORT=${HTTP_PORT:-18180}
HTTPS_PORT=${HTTPS_PORT:-18543}

command -v wrk >/dev/null || {
  echo "missing wrk: apt-get install -y wrk" >&2
  exit 1
}
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --quiet
fi
BIN=$PWD/target/release/mailsetup

WORK=$(mktemp -d /tmp/mailsetup-soak.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

write_config() {
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
display_name = "Contoso (generation $1)"

[[domain]]
name = "fabrikam.example"
profile = "outlook"
EOF
}
write_config 0

"$BIN" serve --config "$WORK/mailsetup.toml" >"$WORK/out" 2>"$WORK/log" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 50); do
  grep -q "mailsetup ready" "$WORK/out" 2>/dev/null && break
  sleep 0.2
done
grep -q "mailsetup ready" "$WORK/out" || {
  cat "$WORK/log" >&2
  exit 1
}

if "$BIN" serve --help | grep -q SIGHUP; then
  RELOAD=yes
else
  RELOAD=no
fi

# Every endpoint the server has; each answer must be 2xx (wrk counts
# status >= 400 as an error).
cat >"$WORK/mixed.lua" <<'EOF'
local pox = [[<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@contoso.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>]]
local mobilesync = [[<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"><Request><EMailAddress>bob@fabrikam.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>]]
local xml = { ["Content-Type"] = "text/xml" }
local requests = {
  { "GET", "/mail/config-v1.1.xml?emailaddress=alice%40contoso.example" },
  { "GET", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40fabrikam.example" },
  { "GET", "/v1.1/contoso.example" },
  { "POST", "/autodiscover/autodiscover.xml", xml, pox },
  { "POST", "/Autodiscover/Autodiscover.xml", xml, mobilesync },
  { "GET", "/autodiscover/autodiscover.json/v1.0/alice@contoso.example?Protocol=AutodiscoverV1" },
  { "GET", "/autodiscover/autodiscover.json?Email=alice%40contoso.example&Protocol=ActiveSync" },
  { "GET", "/healthz" },
}
local extra = os.getenv("SOAK_EXTRA_PATHS")
if extra then
  for path in string.gmatch(extra, "%S+") do table.insert(requests, { "GET", path }) end
end
-- Real clients name a mail domain in Host: over plain HTTP the server then
-- answers Thunderbird's autoconfig and redirects the rest to HTTPS (3xx,
-- which wrk does not count as errors); an IP address in Host would get 400.
local host = os.getenv("SOAK_HOST") or "autoconfig.contoso.example"
local i = 0
request = function()
  i = i + 1
  local r = requests[(i % #requests) + 1]
  local headers = { ["Host"] = host }
  for k, v in pairs(r[3] or {}) do headers[k] = v end
  return wrk.format(r[1], r[2], headers, r[4])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d errors=%d (connect %d, read %d, write %d, status %d, timeout %d) p99_ms=%.2f\n",
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(99) / 1000))
end
EOF
# Endpoints being built elsewhere join the mix once they answer.
EXTRA=""
for path in "/" "/apple/alice@contoso.example.mobileconfig" "/metrics"; do
  if curl -skf -o /dev/null -H "Host: autoconfig.contoso.example" "https://127.0.0.1:$HTTPS_PORT$path"; then EXTRA="$EXTRA $path"; fi
done
export SOAK_EXTRA_PATHS=$EXTRA

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }

echo "# soak: ${SOAK_SECONDS}s, 256 connections (192 HTTPS + 64 HTTP), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# endpoints: thunderbird, well-known, ispdb, POX outlook, POX mobilesync, v2 JSON x2, healthz${EXTRA:+, plus$EXTRA}"
if [ $RELOAD = yes ]; then
  echo "# reload: SIGHUP every ${RELOAD_EVERY}s, each with an edited configuration"
else
  echo "# reload: skipped (mailsetup serve --help does not document SIGHUP in this build)"
fi
echo
echo "| t (s) | RSS MiB | event |"
echo "|---|---|---|"
echo "| 0 | $(rss_mib) | start |"

wrk -t1 -c192 -d"${SOAK_SECONDS}s" --timeout 5s -s "$WORK/mixed.lua" \
  "https://127.0.0.1:$HTTPS_PORT" >"$WORK/wrk-https.out" 2>&1 &
WRK_HTTPS=$!
wrk -t1 -c64 -d"${SOAK_SECONDS}s" --timeout 5s -s "$WORK/mixed.lua" \
  "http://127.0.0.1:$HTTP_PORT" >"$WORK/wrk-http.out" 2>&1 &
WRK_HTTP=$!
PIDS+=("$WRK_HTTPS" "$WRK_HTTP")

start=$(date +%s)
generation=0
next_reload=$RELOAD_EVERY
next_sample=$SAMPLE_EVERY
while kill -0 "$WRK_HTTPS" 2>/dev/null || kill -0 "$WRK_HTTP" 2>/dev/null; do
  sleep 1
  t=$(($(date +%s) - start))
  kill -0 "$SERVER" 2>/dev/null || {
    echo "| $t | - | SERVER DIED |"
    break
  }
  event=""
  if [ $RELOAD = yes ] && [ "$t" -ge "$next_reload" ]; then
    generation=$((generation + 1))
    write_config "$generation"
    kill -HUP "$SERVER"
    event="reload $generation"
    next_reload=$((next_reload + RELOAD_EVERY))
  fi
  if [ "$t" -ge "$next_sample" ] || [ -n "$event" ]; then
    echo "| $t | $(rss_mib) | $event |"
    [ "$t" -ge "$next_sample" ] && next_sample=$((next_sample + SAMPLE_EVERY))
  fi
done
wait "$WRK_HTTPS" "$WRK_HTTP" || true

echo
status=0
for scheme in https http; do
  result=$(grep '^RESULT' "$WORK/wrk-$scheme.out" || true)
  if [ -z "$result" ]; then
    cat "$WORK/wrk-$scheme.out"
    status=1
    continue
  fi
  echo "$scheme: ${result#RESULT }"
  echo "$result" | grep -q ' errors=0 ' || status=1
done
if kill -0 "$SERVER" 2>/dev/null && curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz"; then
  echo "server alive after the soak, RSS $(rss_mib) MiB"
else
  echo "server NOT alive after the soak"
  status=1
fi
if [ $RELOAD = yes ] && [ "$generation" -gt 0 ]; then
  # The last reload took effect.
  if curl -sf "http://127.0.0.1:$HTTP_PORT/mail/config-v1.1.xml?emailaddress=alice%40contoso.example" |
    grep -q "generation $generation"; then
    echo "last reload (generation $generation) is being served"
  else
    echo "last reload (generation $generation) is NOT being served"
    status=1
  fi
fi
grep -ciE ' (error|warn) ' "$WORK/log" | sed 's/^/server log lines at warn or error: /' || true
exit $status
