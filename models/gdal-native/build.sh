#!/usr/bin/env bash
# Builds gdal-async's published sources against Debian's GDAL (libgdal-dev, --shared_gdal),
# because its own install fetches a prebuilt binary from outside npm or compiles the GDAL
# it bundles (an hour on two cores). The stamp skips the build once it matches.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="$here/../.."
pkg=$(cd "$root/node_modules/gdal-async" && pwd)
want=$( (cat "$here/build.sh" "$pkg/package.json"; gdal-config --version) | sha1sum | cut -c1-16)
stamp="$pkg/lib/binding/.geoloc-stamp"
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && ls "$pkg"/lib/binding/*/gdal.node >/dev/null 2>&1; then exit 0; fi
echo "[setup] building gdal-async against Debian libgdal $(gdal-config --version) (about 3 minutes on 2 cores)"
cd "$pkg"
PATH="$root/node_modules/.bin:$PATH" npm_config_nodedir=/usr \
  node "$pkg/node_modules/@mapbox/node-pre-gyp/bin/node-pre-gyp" rebuild --build-from-source --shared_gdal -j 2 \
  >"$pkg/build-geoloc.log" 2>&1 || { tail -50 "$pkg/build-geoloc.log" >&2; exit 1; }
echo "$want" > "$stamp"
