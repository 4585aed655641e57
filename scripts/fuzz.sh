#!/usr/bin/env bash
# Runs every fuzz target for a bounded time with libFuzzer (cargo fuzz),
# starting from and adding to fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh                  # 60 s per target
#   SECONDS_PER_TARGET=600 scripts/fuzz.sh router
#
# cargo fuzz needs nightly flags (-Z sanitizer); on a stable toolchain
# RUSTC_BOOTSTRAP=1 unlocks them. Needs `cargo install cargo-fuzz`.
# Not run by CI (CI only builds the targets).
#
# New corpus entries land in a scratch directory, not in fuzz/corpus/: the
# committed corpus stays small and readable. To keep a finding, minimise it
# (cargo fuzz tmin) and copy it in by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-60}
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(email_address pox_request router)
fi
command -v cargo-fuzz >/dev/null || {
  echo "missing cargo-fuzz: cargo install cargo-fuzz" >&2
  exit 1
}
export RUSTC_BOOTSTRAP=1

SCRATCH=$(mktemp -d /tmp/mailsetup-fuzz.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
status=0
for target in "${TARGETS[@]}"; do
  mkdir -p "$SCRATCH/$target"
  echo "== $target: ${SECONDS_PER_TARGET}s from fuzz/corpus/$target"
  # The first corpus directory receives new inputs; the second is read only.
  if cargo fuzz run "$target" "$SCRATCH/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 2>"$SCRATCH/$target.log"; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' \
      "$SCRATCH/$target.log" || true
    echo "== $target: no crash"
  else
    status=1
    tail -n 40 "$SCRATCH/$target.log"
    echo "== $target: FAILED (the crashing input is in fuzz/artifacts/$target/)"
  fi
done
exit $status
