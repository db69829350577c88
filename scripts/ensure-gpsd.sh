#!/usr/bin/env bash
# Installs Debian's gpsd and its clients (gpspipe) when they are missing: the output tests feed
# NMEA to a gpsd of their own. Idempotent: a machine that has both is through at once.
# The package must not leave gpsd running as a system service: the tests start their own on
# free loopback ports, so service starts are refused during the install and the units it
# enables are disabled again.
set -euo pipefail

have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
have gpsd && have gpsd-clients && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "[ensure-gpsd] gpsd and gpsd-clients are missing and installing them needs root: apt-get install gpsd gpsd-clients" >&2
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

echo "[ensure-gpsd] installing gpsd gpsd-clients" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gpsd gpsd-clients >/dev/null
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now gpsd.socket gpsd.service >/dev/null 2>&1 || true
fi
