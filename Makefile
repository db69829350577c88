# Quick start: `make demo` (the main job on the embedded default) and `make test`.
# Both run `setup` first, which installs only what is missing.
.PHONY: setup demo test bench build

setup:
	@bash scripts/setup.sh

build:
	@npx tsc -p tsconfig.json

demo: setup
	@node dist/pipeline/cli.js demo

test: setup
	@bash scripts/test.sh

bench: setup
	@bash scripts/bench.sh
