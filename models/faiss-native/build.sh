#!/usr/bin/env bash
# Builds faiss-node's published sources against Debian's static FAISS (libfaiss-dev),
# because its own install fetches prebuilt binaries or FAISS sources from outside npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/../../node_modules/faiss-node" && pwd)
stamp="$pkg/build/Release/.geoloc-stamp"
want=$(cat "$here/binding.gyp" "$here/shim/idx_shim.h" "$pkg/package.json" | sha1sum | cut -c1-16)
if [ -f "$pkg/build/Release/faiss-node.node" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi
cp "$here/binding.gyp" "$pkg/binding.gyp"
rm -rf "$pkg/shim" && cp -r "$here/shim" "$pkg/shim"
cd "$pkg"
echo "[setup] building faiss-node against Debian libfaiss"
npm_config_nodedir=/usr node "$here/../../node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir=/usr -j 2 >"$pkg/build-geoloc.log" 2>&1 || { cat "$pkg/build-geoloc.log" >&2; exit 1; }
echo "$want" > "$stamp"
