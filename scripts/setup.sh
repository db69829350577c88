#!/usr/bin/env bash
# Installs whatever is missing on a fresh Debian 12 machine (as root), then builds.
# Every step checks first, so a machine that has everything is through in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  ffmpeg libfaiss-dev libopenblas0-openmp
  libgdal-dev gdal-bin
  python3-torch python3-torchvision python3-onnx python3-pytest python3-yaml
  python3-numpy python3-pil python3-tqdm
  chromium fonts-dejavu-core
  make g++ python3
)

step() { printf '[setup] %s\n' "$*"; }

missing_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing_apt+=("$pkg")
done
if [ ${#missing_apt[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing_apt[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "[setup] these Debian packages are missing and installing them needs root: ${missing_apt[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_apt[@]}" >/dev/null
fi

# npm ci only when the lockfile changed since the last install. Scripts stay off:
# onnxruntime-node's postinstall and faiss-node's install both fetch from outside npm.
lock_hash=$(sha1sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.geoloc-lock 2>/dev/null)" != "$lock_hash" ]; then
  step "npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.geoloc-lock
fi

bash models/faiss-native/build.sh
bash models/gdal-native/build.sh

step "tsc"
npx tsc -p tsconfig.json

if [ -f dist/fixtures/cli.js ]; then
  node dist/fixtures/cli.js ensure
fi
