#!/usr/bin/env bash
# Installs Debian's nats-server (2.9; JetStream with -js -sd <dir>) when it is missing: only the
# NATS scale-out (geoloc worker, serve --nats, flights) and its tests need it. Idempotent: a
# machine that has it is through at once. No nats-server service is left running: the tests
# start their own on free loopback ports with a temporary store.
set -euo pipefail

command -v nats-server >/dev/null && exit 0
exec bash "$(dirname "$0")/apt-install-no-services.sh" ensure-nats "nats-server.service" nats-server
