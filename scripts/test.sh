#!/usr/bin/env bash
# The README's test command: install what the tests need, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
exec .venv/bin/python -m pytest "$@"
