#!/usr/bin/env bash
# Every benchmark, one after another, at the lengths the issues name (about 55 minutes in all).
# Each prints ratios and percentiles against a baseline measured in the same run and writes
# its JSON into bench/results/. BENCH_MINUTES shortens the two long soak runs.
set -euo pipefail
cd "$(dirname "$0")/.."
live_minutes=${BENCH_MINUTES:-10}
load_minutes=${BENCH_MINUTES:-5}

node dist/bench/tracking.js
node dist/bench/outputs.js
node dist/bench/index-search.js
node dist/bench/index-add.js
node dist/bench/matching.js
# fixes/s against the raw model (retrieval only), then with each frame registered against the map
node dist/bench/replay-throughput.js --no-register
node dist/bench/replay-throughput.js --out replay-throughput-registered.json
# The same at the product's model size: a random-initialised ViT-S/14 at 224 px (throughput does
# not depend on the weights) and a one-scale index of the fixture world, made once.
standin=bench/results/vits14-standin
[ -f "$standin/model.onnx" ] || /usr/bin/python3 -m training export --config training/configs/vits14_u1652.yaml --random-init --out "$standin"
node dist/pipeline/cli.js index build --imagery fixtures/cache/world/world.png --model "$standin/model.onnx" --out "$standin/index" \
  --altitudes 200 --hfov 55.41 --overlap 0.5
node dist/bench/replay-throughput.js --model "$standin/model.onnx" --index "$standin/index" --no-register --out replay-throughput-vits14.json
node dist/bench/live-latency.js --minutes "$live_minutes"
node dist/bench/live-latency.js --minutes "$live_minutes" --no-register
node dist/bench/nats.js
node dist/bench/gateway-load.js --minutes "$load_minutes"
/usr/bin/python3 bench/train_throughput.py
