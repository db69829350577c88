#!/usr/bin/env bash
# Every benchmark, one after another, at the lengths the issues name (about 25 minutes in all).
# Each prints ratios and percentiles against a baseline measured in the same run and writes
# its JSON into bench/results/. BENCH_MINUTES shortens the two long soak runs.
set -euo pipefail
cd "$(dirname "$0")/.."
live_minutes=${BENCH_MINUTES:-10}
load_minutes=${BENCH_MINUTES:-5}

node dist/bench/tracking.js
node dist/bench/index-search.js
node dist/bench/replay-throughput.js
node dist/bench/live-latency.js --minutes "$live_minutes"
node dist/bench/gateway-load.js --minutes "$load_minutes"
/usr/bin/python3 bench/train_throughput.py
