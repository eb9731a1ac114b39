#!/usr/bin/env bash
# The demonstration `make run` shows: a value is sealed on the workstation, only the envelope
# travels, and only the holder of the private key opens it, for the key it was sealed for.
# Usage: scripts/demo.sh BIN_DIR   (the folder holding the built beluga-secrets)
set -euo pipefail

bin="${1:?usage: scripts/demo.sh BIN_DIR}"
cli="$bin/beluga-secrets"
work="$(mktemp -d "${TMPDIR:-/tmp}/beluga-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; }

step "Create a sealing key pair (in the cluster, the agent holds it)"
show "beluga-secrets keygen --out $work/keys"
kid="$("$cli" keygen --out "$work/keys")"
echo "key id: $kid"
ls -l "$work/keys"

# A made-up value for the demonstration; real keys are typed at a prompt that does not echo.
demo_value="sk-demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"

step "Seal a value for key openai-api-key of namespace demo (value read from standard input)"
show "printf '%s\\n' \"\$VALUE\" | beluga-secrets seal openai-api-key --public-key $work/keys/sealing.pub -n demo"
printf '%s\n' "$demo_value" |
    "$cli" seal openai-api-key --public-key "$work/keys/sealing.pub" -n demo >"$work/openai-api-key.sealed"
echo "envelope (safe to commit, to store in a ConfigMap or in Helm values):"
cut -c1-72 "$work/openai-api-key.sealed" | sed 's/$/…/'

step "Open it with the private key (what the agent does before writing the Secret)"
show "beluga-secrets unseal --private-key $work/keys/sealing.key -n demo openai-api-key < openai-api-key.sealed"
opened="$("$cli" unseal --private-key "$work/keys/sealing.key" -n demo openai-api-key <"$work/openai-api-key.sealed")"
if [[ "$opened" == "$demo_value" ]]; then echo "opened: the value sealed above, byte for byte"; else
    echo "opened value differs" >&2
    exit 1
fi

step "An envelope cannot be moved to another namespace"
show "beluga-secrets unseal --private-key … -n other openai-api-key < openai-api-key.sealed"
status=0
refusal="$("$cli" unseal --private-key "$work/keys/sealing.key" -n other openai-api-key \
    <"$work/openai-api-key.sealed" 2>&1 >/dev/null)" || status=$?
echo "$refusal"
echo "exit code $status (6: rejected)"

step "Fingerprints identify a value without revealing it"
show "beluga-secrets fingerprint openai-api-key -n demo"
mine="$(printf '%s' "$demo_value" | "$cli" fingerprint openai-api-key -n demo)"
theirs="$(printf '%s' "$opened" | "$cli" fingerprint openai-api-key -n demo)"
echo "sealed value:  $mine"
echo "opened value:  $theirs"
[[ "$mine" == "$theirs" ]] && echo "equal: the same value, and neither line reveals it"
