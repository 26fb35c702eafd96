#!/usr/bin/env bash
# setup-ort.sh fetches libonnxruntime.so.1 (ONNX Runtime 1.31.1, CPU build) from the npm
# package onnxruntime-node@1.31.1, checks its pinned sha256 and caches it under .cache/ort/.
# It is idempotent: a cached library with the right checksum is kept as it is.
set -euo pipefail

version=1.31.1
sha256=f19a4da48c4c65e0cdccff82354482f657fa91a3455b66174195b94ca55b0e6f
member=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/ort"
lib="$dest/libonnxruntime.so.1"

have_ok() { [ -f "$1" ] && echo "$sha256  $1" | sha256sum --check --status; }

if have_ok "$lib"; then
  exit 0
fi
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) echo "setup-ort: only linux/x86_64 is supported by the npm package; set ONNXRUNTIME_LIB to your own libonnxruntime $version" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "setup-ort: npm not found; install Node.js/npm (apt-get install npm) or set ONNXRUNTIME_LIB" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "setup-ort: fetching onnxruntime-node@$version with npm pack" >&2
(cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$tmp/onnxruntime-node-$version.tgz" -C "$tmp" "$member"
if ! have_ok "$tmp/$member"; then
  echo "setup-ort: checksum mismatch for $member in onnxruntime-node@$version (want sha256 $sha256)" >&2
  exit 1
fi
mkdir -p "$dest"
mv "$tmp/$member" "$lib.tmp"
mv "$lib.tmp" "$lib"
echo "setup-ort: cached $lib" >&2
