#!/usr/bin/env bash
# Runs both suites, always both, and fails if either fails or runs no test.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
PY=/usr/bin/python3

npx jest --ci --json --outputFile=test-artifacts/jest.json "$@"
jest_rc=$?

"$PY" -m pytest training -q --junitxml=test-artifacts/pytest.xml
pytest_rc=$?

node scripts/test-summary.js test-artifacts/jest.json test-artifacts/pytest.xml
summary_rc=$?

[ $jest_rc -eq 0 ] && [ $pytest_rc -eq 0 ] && [ $summary_rc -eq 0 ]
