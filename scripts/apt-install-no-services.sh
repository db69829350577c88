#!/usr/bin/env bash
# apt-install-no-services.sh <tag> <units to disable, space-separated> <package>...
# Installs Debian packages as root without leaving their daemons running as system services:
# the tests start their own on free loopback ports, so service starts are refused during the
# install (policy-rc.d) and the units the packages enable are disabled again.
set -euo pipefail
tag=$1 units=$2
shift 2

if [ "$(id -u)" -ne 0 ]; then
  echo "[$tag] $* missing and installing needs root: apt-get install $*" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  # 101: "action forbidden by policy", honoured by invoke-rc.d and deb-systemd-invoke
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  made_policy=1
fi
trap '[ -z "$made_policy" ] || rm -f "$policy"' EXIT

echo "[$tag] installing $*" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
if [ -n "$units" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  # shellcheck disable=SC2086
  systemctl disable --now $units >/dev/null 2>&1 || true
fi
