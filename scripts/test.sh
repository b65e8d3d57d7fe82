#!/usr/bin/env bash
# The test command of the README: prepares the machine (scripts/setup.sh) and runs `npm test`
# (lint, type check, unit tests, integration tests against real processes and Docker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
