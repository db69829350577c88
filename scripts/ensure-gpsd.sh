#!/usr/bin/env bash
# Installs Debian's gpsd and its clients (gpspipe) when they are missing: the output tests feed
# NMEA to a gpsd of their own. Idempotent: a machine that has both is through at once. No gpsd
# service is left running (apt-install-no-services.sh).
set -euo pipefail

have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
have gpsd && have gpsd-clients && exit 0
exec bash "$(dirname "$0")/apt-install-no-services.sh" ensure-gpsd "gpsd.socket gpsd.service" gpsd gpsd-clients
