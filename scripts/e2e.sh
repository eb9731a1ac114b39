#!/usr/bin/env bash
# The end-to-end scenarios (docs/e2e.md): against the cluster KUBECONFIG names, or, when it is
# unset or empty, a kube-emulator started for the run; in a throwaway namespace, deleted at the end.
# Usage: scripts/e2e.sh BIN_DIR [PYTEST ARGS...]   (BIN_DIR holds the built beluga-secrets and
# kube-emulator: `swift build --show-bin-path`; the Python environment is `make python-deps`'s)
set -euo pipefail

bin="${1:?usage: scripts/e2e.sh BIN_DIR [PYTEST ARGS...]}"
shift
cd "$(dirname "$0")/.."
BELUGA_BIN_DIR="$(cd "$bin" && pwd)" exec .venv/bin/python -m pytest -q Tests/e2e "$@"
