#!/usr/bin/env bash
# Builds the mailsetup image offline: a statically linked release binary,
# checked to be static, copied FROM scratch by the Containerfile beside
# this script. Nothing is pulled. Needs buildah or podman (Debian packages).
#
#   deploy/container/build.sh [IMAGE]      # default: mailsetup:<version>
#
# Then push IMAGE where the cluster pulls from and name it in
# deploy/kubernetes/kustomization.yaml (`images:`).
set -euo pipefail
cd "$(dirname "$0")/../.."

target=x86_64-unknown-linux-gnu
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
image=${1:-mailsetup:$version}
target_dir=${CARGO_TARGET_DIR:-target}

# glibc linked in statically: the binary runs on an empty base image.
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --release --locked --target "$target"
binary=$target_dir/$target/release/mailsetup

# `file` says "statically linked" (or "static-pie linked"), and so does
# ldd (or "not a dynamic executable"): a binary that needs shared libraries
# would not start in the image.
description=$(file --brief "$binary")
case $description in
  *"statically linked"* | *"static-pie linked"*) ;;
  *) echo "error: $binary is not static: $description" >&2; exit 1 ;;
esac
libraries=$(ldd "$binary" 2>&1 || true)
case $libraries in
  *"statically linked"* | *"not a dynamic executable"*) ;;
  *) echo "error: $binary needs shared libraries:" >&2; echo "$libraries" >&2; exit 1 ;;
esac

# The build context is the binary alone.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$binary" "$context/mailsetup"

if command -v buildah >/dev/null 2>&1; then
  builder=(buildah build)
elif command -v podman >/dev/null 2>&1; then
  builder=(podman build)
else
  echo "error: neither buildah nor podman is installed (apt-get install buildah)" >&2
  exit 1
fi
"${builder[@]}" --pull=never --file deploy/container/Containerfile --tag "$image" "$context"
echo "built $image from $binary"
