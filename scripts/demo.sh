#!/usr/bin/env bash
# The main job on the embedded default; filled in as the product grows.
set -euo pipefail
bin="$1"
"$bin/beluga-secrets"
