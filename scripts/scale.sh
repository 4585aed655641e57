#!/usr/bin/env bash
# Scale benchmark: how mailsetup (release build) copes with a large domain
# table, as a TOML [[domain]] table and as a domains file. For each size it
# prints one Markdown row: `mailsetup check` wall time and peak RSS, time
# from `serve` to `mailsetup ready`, RSS after load, SIGHUP reload time and
# the peak RSS during it (and the CPU seconds each took), the p99 latency
# at 64 keep-alive connections (wrk, plain HTTP, the Thunderbird document)
# before, during and after reloads sent every 0.5 s (three wrk runs; the
# "after" one shows how much p99 moves between runs with no reload at
# all), and how many of those reloads were done by the end of the wrk run
# they were sent in: reloads load at low priority (nice 10), so on a machine
# whose cores wrk and the server keep busy they wait, and the requests do
# not.
# wrk keeps every connection busy, so that p99 is a queue's: at saturation
# any CPU a reload takes lengthens it. The last three columns are p99 at
# a fixed offered rate (RATE requests/s, default 10000, oha open loop with
# latency correction, the first second left out), before, during and
# after the same reloads: the load a server runs at, where a reload may
# only take the CPU the requests leave. "n/a" without oha (cargo install
# oha --locked --version 1.16.0).
#
# What each reload changes (RELOAD, the domains file form only; the TOML
# form's SIGHUPs change nothing, its table is kept, and parsing the TOML
# is most of its cost):
#   RELOAD=update   (default) the domains file is a symlink switched
#                   between two copies that differ in one display name
#                   before each SIGHUP: the reload updates a copy of the
#                   table in service;
#   RELOAD=rebuild  the configuration file is switched between two copies
#                   whose one [[domain]] entry differs: the reload builds
#                   the whole table again, as every changed table did
#                   before updates;
#   RELOAD=keep     nothing changes (a reload for another reason).
#
#   scripts/scale.sh                       # sizes 10000 100000 1000000
#   SIZES="10000 30000" FORMATS=toml scripts/scale.sh
#   BIN=/tmp/old/mailsetup scripts/scale.sh  # another build, for an A/B
#
# Needs: wrk (apt-get install -y wrk), /usr/bin/time (apt-get install -y
# time). Loopback only; everything it writes lives in a temporary directory
# that is removed at exit. Not run by CI: a person or a benchmark job runs
# it and records the figures in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-10000 100000 1000000}
FORMATS=${FORMATS:-file toml}
PORT=${PORT:-18090}
DURATION=${DURATION:-6}
CONNECTIONS=${CONNECTIONS:-64}
RATE=${RATE:-10000}
RELOAD=${RELOAD:-update}
case "$RELOAD" in
  update | rebuild | keep) ;;
  *)
    echo "RELOAD must be update, rebuild or keep, not $RELOAD" >&2
    exit 1
    ;;
esac

for tool in wrk /usr/bin/time; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool: apt-get install -y wrk time" >&2
    exit 1
  }
done

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/mailsetup
fi
WORK=$(mktemp -d)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Prints "<seconds> <CPU seconds> <peak RSS MiB>" for a command.
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null 2>&1
  awk '{ printf "%.2f %.2f %.0f\n", $1, $2 + $3, $4 / 1024 }' "$WORK/time"
}

# CPU seconds (user + system) a process has used: on a machine shared with
# other work, wall times say as much about the neighbours as about us.
TICKS=$(getconf CLK_TCK)
cpu_s() { awk -v t="$TICKS" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

rss_mib() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mib() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

p99_ms() {
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION"s --latency \
    "http://127.0.0.1:$PORT/mail/config-v1.1.xml?emailaddress=a%40d1.example" |
    awk '/^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
                    else if (v ~ /ms$/) { sub(/ms/, "", v) }
                    else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
                    printf "%.2f", v }'
}

# p99 in ms at RATE requests/s (open loop), with " (N failed)" when some
# answers were not 2xx.
rate_p99_ms() {
  oha -z "$((DURATION + 1))s" -c "$CONNECTIONS" -q "$RATE" --latency-correction --no-tui \
    --output-format csv "http://127.0.0.1:$PORT/mail/config-v1.1.xml?emailaddress=a%40d1.example" \
    >"$WORK/oha.csv" 2>"$WORK/oha.err" || { cat "$WORK/oha.err" >&2; printf "failed"; return; }
  # Columns: request-start,DNS,DNS+dialup,Response-delay,request-duration,bytes,status
  awk -F, 'NR > 1 && $1 >= 1 { print $5 * 1000, ($7 ~ /^2/ ? 0 : 1) }' "$WORK/oha.csv" |
    sort -g | awk '{ v[NR - 1] = $1; bad += $2 }
      END { i = int(0.99 * NR); printf "%.2f", v[i < NR ? i : NR - 1]; if (bad) printf " (%d failed)", bad }'
}

# Switches the domains file (RELOAD=update) or the configuration file
# (RELOAD=rebuild) to its other copy, then sends SIGHUP.
reload_once() {
  local link=""
  case "$RELOAD" in
    update) link=$WORK/domains.txt ;;
    rebuild) link=$WORK/mailsetup.toml ;;
  esac
  if [ -n "$link" ] && [ -L "$link" ]; then
    case "$(readlink "$link")" in
      *-a.*) ln -sfn "${link%.*}-b.${link##*.}" "$link" ;;
      *) ln -sfn "${link%.*}-a.${link##*.}" "$link" ;;
    esac
  fi
  kill -HUP "$SERVER" 2>/dev/null || true
}

# around_reloads MEASURE: runs MEASURE (p99_ms or rate_p99_ms) while
# reloads are sent every 0.5 s, then again once they are all done; sets
# DURING, DONE (reloads done by the end of that run, of those sent), PEAK
# (VmHWM once they are done) and AFTER.
around_reloads() {
  local sent=$((DURATION * 2))
  : >"$WORK/err"
  (for _ in $(seq 1 "$sent"); do reload_once; sleep 0.5; done) &
  local reloader=$!
  DURING=$($1)
  wait "$reloader" || true
  DONE="$(grep -c "configuration reloaded" "$WORK/err" || true)/$sent"
  # Let the reloads still queued finish before the peak is read.
  until [ "$(grep -c "configuration reloaded\|reload refused" "$WORK/err" || true)" -ge "$sent" ]; do
    sleep 0.1
  done
  PEAK=$(hwm_mib "$SERVER")
  AFTER=$($1)
}

server_section() {
  printf '[server]\nhttp = ["127.0.0.1:%s"]\nhttps = []\nhttp_policy = "serve"\n' "$PORT"
}

write_config() { # size format
  local size=$1 format=$2 config="$WORK/mailsetup-$1-$2.toml"
  if [ "$format" = file ]; then
    # Two copies of the configuration whose one [[domain]] entry differs,
    # and two of the domains file that differ in the last display name;
    # mailsetup.toml and domains.txt name one of each.
    for copy in a b; do
      # Top-level keys go before every section.
      {
        echo "domains_file = \"domains.txt\""
        server_section
        printf '[[domain]]\nname = "toml.example"\nprofile = "outlook"\ndisplay_name = "%s"\n' "$copy"
      } >"$WORK/mailsetup-$copy.toml"
      awk -v n="$size" -v copy="$copy" 'BEGIN { for (i = 1; i <= n; i++)
        printf "d%d.example %s Customer %d%s\n", i, (i % 2 ? "microsoft365" : "outlook"), i,
               (i == n ? copy : "") }' >"$WORK/domains-$copy.txt"
    done
    ln -sfn "$WORK/domains-a.txt" "$WORK/domains.txt"
    ln -sfn "$WORK/mailsetup-a.toml" "$WORK/mailsetup.toml"
    config=$WORK/mailsetup.toml
  else
    server_section >"$config"
    awk -v n="$size" 'BEGIN { for (i = 1; i <= n; i++)
      printf "\n[[domain]]\nname = \"d%d.example\"\nprofile = \"%s\"\ndisplay_name = \"Customer %d\"\n",
             i, (i % 2 ? "microsoft365" : "outlook"), i }' >>"$config"
  fi
  echo "$config"
}

echo "| domains | form | check s | check CPU s | check peak MiB | ready s | ready CPU s | RSS MiB | reload s (table) | reload CPU s | reload peak MiB | p99 ms | p99 during reloads ms | reloads done during that run | p99 after ms | p99 at $RATE/s ms | p99 at $RATE/s during reloads ms | p99 at $RATE/s after ms |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for size in $SIZES; do
  for format in $FORMATS; do
    config=$(write_config "$size" "$format")
    read -r check_s check_cpu check_mib < <(timed "$BIN" check --config "$config")

    start=$(now_ms)
    : >"$WORK/out"; : >"$WORK/err"
    "$BIN" serve --config "$config" >>"$WORK/out" 2>>"$WORK/err" &
    SERVER=$!
    until grep -q "mailsetup ready" "$WORK/out" 2>/dev/null; do
      kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/err" >&2; exit 1; }
      sleep 0.02
    done
    ready_s=$(awk -v a="$start" -v b="$(now_ms)" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
    ready_cpu=$(cpu_s "$SERVER")
    rss=$(rss_mib "$SERVER")

    p99=$(p99_ms)

    # One timed reload: the log says when it is done.
    : >"$WORK/err"
    start=$(now_ms)
    cpu_before=$(cpu_s "$SERVER")
    reload_once
    until grep -q "configuration reloaded\|reload refused" "$WORK/err" 2>/dev/null; do sleep 0.02; done
    reload_s=$(awk -v a="$start" -v b="$(now_ms)" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
    reload_cpu=$(awk -v a="$cpu_before" -v b="$(cpu_s "$SERVER")" 'BEGIN { printf "%.2f", b - a }')
    # What the reload did with the table: built, updated or kept.
    origin=$(grep -o 'domain_table="[a-z]*"' "$WORK/err" | tail -n 1 | cut -d'"' -f2)
    reload_s="$reload_s (${origin:-?})"

    # Latency while reloads run back to back, then at a fixed rate.
    around_reloads p99_ms
    p99_reload=$DURING reloads_done=$DONE peak=$PEAK p99_after=$AFTER
    rate_before=n/a rate_reload=n/a rate_after=n/a
    if command -v oha >/dev/null; then
      rate_before=$(rate_p99_ms)
      around_reloads rate_p99_ms
      rate_reload="$DURING, $DONE done" rate_after=$AFTER
    fi

    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
    echo "| $size | $format | $check_s | $check_cpu | $check_mib | $ready_s | $ready_cpu | $rss | $reload_s | $reload_cpu | $peak | $p99 | $p99_reload | $reloads_done | $p99_after | $rate_before | $rate_reload | $rate_after |"
  done
done
