#!/usr/bin/env bash
# The demonstration `make run` shows, on the embedded Kubernetes API emulator: the agent starts
# and publishes its public key; on the "workstation" an API key is set and then rotated (sealed
# and signed there, stored as ciphertext), the agent writes the Secret and restarts the
# Deployment once per change; a tampered envelope is refused; the audit trail is printed as a
# timeline and verified. Values are never printed, only their fingerprints.
# Usage: scripts/demo.sh BIN_DIR   (the folder holding the built beluga-secrets and kube-emulator)
set -euo pipefail

bin="${1:?usage: scripts/demo.sh BIN_DIR}"
cli="$bin/beluga-secrets"
work="$(mktemp -d "${TMPDIR:-/tmp}/beluga-demo.XXXXXX")"
emulator_pid="" agent_pid=""
cleanup() {
    [[ -n "$agent_pid" ]] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
    [[ -n "$emulator_pid" ]] && kill -TERM "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; }
# wait_for DESCRIPTION COMMAND...: retries COMMAND for up to 20 s.
wait_for() {
    local what="$1"
    shift
    for _ in $(seq 1 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for $what; agent log:" >&2
    cat "$work/agent.log" >&2
    exit 1
}
export KUBECONFIG="$work/kubeconfig" HOME="$work"

step "Start the Kubernetes API emulator (a real HTTP server; kubectl talks to it)"
"$bin/kube-emulator" --port 0 --kubeconfig-out "$KUBECONFIG" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
wait_for "the emulator" test -s "$KUBECONFIG"
head -1 "$work/emulator.log"

step "Deploy the Beluga AI server as the Helm chart would (opted in to restarts)"
kubectl apply -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: beluga-ai-config, namespace: default}
data: {llmProvider: openai, embeddingProvider: openai}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: beluga-ai
  namespace: default
  annotations: {beluga-ai.io/reload: "beluga-ai-secrets,beluga-ai-config"}
spec:
  replicas: 2
  selector: {matchLabels: {app: beluga-ai}}
  template:
    metadata: {labels: {app: beluga-ai}}
    spec:
      containers: [{name: server, image: "beluga-ai/server:1.0.0"}]
YAML

step "Start the agent (audit records on standard output, logs on standard error)"
show "beluga-secrets agent --namespace default --debounce 500ms > audit.log 2> agent.log &"
"$cli" agent --namespace default --debounce 500ms --health-addr 127.0.0.1:0 --identity beluga-ai-agent-0 \
    >"$work/audit.log" 2>"$work/agent.log" &
agent_pid=$!
wait_for "the public key" kubectl get configmap beluga-secrets-public-key -o jsonpath='{.data.current}'
echo "the agent created its keys and published the current one: $(kubectl get configmap \
    beluga-secrets-public-key -o jsonpath='{.data.current}')"
# The pod template's hash once the agent restarted the Deployment; before that, the hash of what
# the running pods have, which the agent's first start records in a label without a rollout.
content_hash() {
    local hash
    hash="$(kubectl get deployment beluga-ai \
        -o jsonpath='{.spec.template.metadata.annotations.beluga-ai\.io/content-hash}')"
    [[ -n "$hash" ]] || hash="$(kubectl get deployment beluga-ai \
        -o jsonpath='{.metadata.labels.beluga-ai\.io/content-hash}')"
    printf '%s' "$hash"
}
has_hash() { [[ -n "$(content_hash)" ]]; }
wait_for "the first restart check (the running pods' hash recorded)" has_hash
before="$(content_hash)"

step "On the workstation: a signing key, allowed in the namespace by its administrator"
show "beluga-secrets signer init && beluga-secrets signer add alice @~/.config/beluga-secrets/signer.pub"
"$cli" signer init | sed -n 1p
"$cli" signer add alice "@$HOME/.config/beluga-secrets/signer.pub"

fingerprint() { "$cli" fingerprint openai-api-key -n default <"$1"; }
secret_fingerprint() {
    kubectl get secret beluga-ai-secrets -o jsonpath='{.data.openai-api-key}' | base64 -d |
        "$cli" fingerprint openai-api-key -n default
}
# The demo's values are random and live in files (mode 0600), never on a command line; on a
# terminal, set asks for the value twice without echo instead.
umask 077
printf 'sk-demo-%s' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$work/first-value"
printf 'sk-demo-%s' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$work/second-value"

step "Set the key: sealed and signed here, applied by the agent, the Deployment restarted once"
show "beluga-secrets set openai-api-key --wait    # the value typed without echo"
"$cli" set openai-api-key --wait --from-file "$work/first-value"
echo "sealed on the workstation: $(fingerprint "$work/first-value")"
echo "in the Secret:             $(secret_fingerprint)"
[[ "$(secret_fingerprint)" == "$(fingerprint "$work/first-value")" ]] &&
    echo "equal: the Secret holds exactly the value that was sealed (fingerprints; the value is not shown)"
set_hash="$(content_hash)"
echo "content hash: ${before:0:16}… → ${set_hash:0:16}…"

step "Rotate it: version 2, one more rollout"
show "beluga-secrets rotate openai-api-key --wait"
"$cli" rotate openai-api-key --wait --from-file "$work/second-value"
[[ "$(secret_fingerprint)" == "$(fingerprint "$work/second-value")" ]] &&
    echo "the Secret now holds version 2: $(secret_fingerprint)"
echo "content hash: ${set_hash:0:16}… → $(content_hash | cut -c1-16)…"
show "beluga-secrets list"
"$cli" list
sealed="$(fingerprint "$work/second-value")"
kubectl get configmap beluga-ai-secrets-sealed -o jsonpath='{.data.openai-api-key}' >"$work/envelope"

step "A tampered envelope is refused; the Secret keeps the previous value"
# Six characters of the ciphertext changed (the envelope is bs2.<kid>.<signer>.<ciphertext>.<signature>).
IFS=. read -r format kid signer ciphertext signature <"$work/envelope" || true  # no final newline
tampered="$format.$kid.$signer.${ciphertext:0:10}AAAAAA${ciphertext:16}.$signature"
kubectl patch configmap beluga-ai-secrets-sealed --type merge -p "{\"data\":{\"openai-api-key\":\"$tampered\"}}"
wait_for "the rejection" grep -q secret.rejected "$work/audit.log"
kubectl get events --field-selector reason=EnvelopeRejected -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message
now="$(kubectl get secret beluga-ai-secrets -o jsonpath='{.data.openai-api-key}' | base64 -d |
    "$cli" fingerprint openai-api-key -n default)"
[[ "$now" == "$sealed" ]] && echo "the Secret still holds $now"

step "Stop the agent (SIGTERM: finishes its work, releases the lease, exits 0)"
kill -TERM "$agent_pid"
wait "$agent_pid" && echo "agent exited with status 0"
agent_pid=""

step "The audit trail: a timeline per key, every record signed and linked to the one before"
show "beluga-secrets audit --file audit.log --verify"
"$cli" audit --file "$work/audit.log" --verify
