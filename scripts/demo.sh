#!/usr/bin/env bash
# The demonstration `make run` shows, on the embedded Kubernetes API emulator: the agent starts
# and publishes its public key, an API key is sealed on the "workstation" and stored, the agent
# writes the Secret and restarts the Deployment once, a tampered envelope is refused, and the
# audit trail is printed and verified. Values are never printed, only their fingerprints.
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
content_hash() {
    kubectl get deployment beluga-ai -o jsonpath='{.spec.template.metadata.annotations.beluga-ai\.io/content-hash}'
}
has_hash() { [[ -n "$(content_hash)" ]]; }
wait_for "the first restart check" has_hash
before="$(content_hash)"

step "On the workstation: seal an API key to the agent's public key, store only the envelope"
kubectl get configmap beluga-secrets-public-key -o jsonpath='{.data.sealing\.pub}' >"$work/sealing.pub"
demo_value="sk-demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
show "beluga-secrets seal openai-api-key -n default --public-key sealing.pub < value"
printf '%s' "$demo_value" | "$cli" seal openai-api-key -n default --public-key "$work/sealing.pub" >"$work/envelope"
show "kubectl patch configmap beluga-ai-secrets-sealed --type merge -p '{\"data\":{\"openai-api-key\":\"<envelope>\"}}'"
kubectl patch configmap beluga-ai-secrets-sealed --type merge \
    -p "{\"data\":{\"openai-api-key\":\"$(cat "$work/envelope")\"}}"

step "The agent opened it and wrote the Secret (fingerprints compared; the value is not shown)"
wait_for "the Secret" kubectl get secret beluga-ai-secrets -o jsonpath='{.data.openai-api-key}'
stored="$(kubectl get secret beluga-ai-secrets -o jsonpath='{.data.openai-api-key}' | base64 -d |
    "$cli" fingerprint openai-api-key -n default)"
sealed="$(printf '%s' "$demo_value" | "$cli" fingerprint openai-api-key -n default)"
echo "sealed on the workstation: $sealed"
echo "in the Secret:             $stored"
[[ "$stored" == "$sealed" ]] && echo "equal: the Secret holds exactly the value that was sealed"

step "It restarted the Deployment once (content hash in the pod template)"
hash_moved() { [[ "$(content_hash)" != "$before" ]]; }
wait_for "the rollout" hash_moved
echo "content hash: ${before:0:16}… → $(content_hash | cut -c1-16)…"
kubectl rollout status deployment/beluga-ai --timeout=10s

step "A tampered envelope is refused; the Secret keeps the previous value"
tampered="$(sed 's/.\{6\}$/AAAAAA/' "$work/envelope")"
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
