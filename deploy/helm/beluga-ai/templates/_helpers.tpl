{{/* Name helpers of the deployment guide, unchanged. */}}
{{- define "beluga-ai.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "beluga-ai.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "beluga-ai.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "beluga-ai.labels" -}}
helm.sh/chart: {{ include "beluga-ai.chart" . }}
{{ include "beluga-ai.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "beluga-ai.selectorLabels" -}}
app.kubernetes.io/name: {{ include "beluga-ai.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Objects the server and the agent share. Names follow the fullname, which `beluga-secrets
--release RELEASE` derives the same way; the sealing key, public key, signers and Lease are one
per namespace and have fixed names (the agent's own defaults).
*/}}
{{- define "beluga-ai.secretName" -}}
{{- printf "%s-secrets" (include "beluga-ai.fullname" .) }}
{{- end }}

{{- define "beluga-ai.configName" -}}
{{- printf "%s-config" (include "beluga-ai.fullname" .) }}
{{- end }}

{{- define "beluga-ai.sealedName" -}}
{{- printf "%s-secrets-sealed" (include "beluga-ai.fullname" .) }}
{{- end }}

{{- define "beluga-ai.sealingKeyName" -}}beluga-secrets-sealing-key{{- end }}
{{- define "beluga-ai.publicKeyName" -}}beluga-secrets-public-key{{- end }}
{{- define "beluga-ai.signersName" -}}beluga-secrets-signers{{- end }}
{{- define "beluga-ai.leaseName" -}}beluga-secrets-agent{{- end }}

{{/* Agent names and labels: distinct from the server's, so no selector of one matches the other. */}}
{{- define "beluga-ai.agentName" -}}
{{- printf "%s-agent" (include "beluga-ai.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{- define "beluga-ai.agentSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-agent" (include "beluga-ai.name" . | trunc 57 | trimSuffix "-") }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "beluga-ai.agentLabels" -}}
helm.sh/chart: {{ include "beluga-ai.chart" . }}
{{ include "beluga-ai.agentSelectorLabels" . }}
app.kubernetes.io/component: secrets-agent
app.kubernetes.io/part-of: {{ include "beluga-ai.name" . }}
app.kubernetes.io/version: {{ .Values.agent.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "beluga-ai.agentServiceAccountName" -}}
{{- default (include "beluga-ai.agentName" .) .Values.agent.serviceAccount.name }}
{{- end }}

{{- define "beluga-ai.agentImage" -}}
{{- if .Values.agent.image.digest }}
{{- printf "%s@%s" .Values.agent.image.repository .Values.agent.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.agent.image.repository .Values.agent.image.tag }}
{{- end }}
{{- end }}

{{- define "beluga-ai.agentSidecar" -}}
{{- and .Values.agent.enabled (eq .Values.agent.mode "sidecar") }}
{{- end }}

{{/*
The flags that point `beluga-secrets` at this release's objects. The CLI derives names from
`--release` the way this chart does; with a name override it needs the Secret's name instead.
*/}}
{{- define "beluga-ai.cliTarget" -}}
{{- if or .Values.fullnameOverride .Values.nameOverride }}
{{- printf " --secret %s" (include "beluga-ai.secretName" .) }}
{{- else if ne .Release.Name "beluga-ai" }}
{{- printf " --release %s" .Release.Name }}
{{- end }}
{{- end }}

{{/* Keys this chart writes into a ConfigMap's data, for the CLI to warn that an upgrade restores them. */}}
{{- define "beluga-ai.keyList" -}}
{{- keys . | sortAlpha | join "," }}
{{- end }}

{{/*
The agent container, the same in deployment and sidecar mode. Its command line is the one
`beluga-secrets agent --help` documents; the image's entrypoint is `beluga-secrets`.
*/}}
{{- define "beluga-ai.agentContainer" -}}
- name: beluga-secrets-agent
  image: {{ include "beluga-ai.agentImage" . | quote }}
  imagePullPolicy: {{ .Values.agent.image.pullPolicy }}
  args:
    - agent
    - --namespace={{ .Release.Namespace }}
    - --release={{ .Release.Name }}
    - --secret={{ include "beluga-ai.secretName" . }}
    - --config-map={{ include "beluga-ai.configName" . }}
    - --deployment={{ include "beluga-ai.fullname" . }}
    - --debounce={{ .Values.agent.debounce }}
    - --max-delay={{ .Values.agent.maxDelay }}
    - --health-addr=:{{ .Values.agent.healthPort }}
    - --leader-elect={{ .Values.agent.leaderElection.enabled }}
    - --signatures={{ .Values.agent.signatures }}
    - --log-level={{ .Values.agent.logLevel }}
  env:
    # The agent's leader-election identity (`--identity` defaults to $POD_NAME).
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
  ports:
    - name: metrics
      containerPort: {{ .Values.agent.healthPort }}
      protocol: TCP
  {{- with .Values.agent.livenessProbe }}
  livenessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if or (ne .Values.agent.mode "sidecar") .Values.agent.sidecar.gateReadiness }}
  {{- with .Values.agent.readinessProbe }}
  readinessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  resources:
    {{- toYaml .Values.agent.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.agent.securityContext | nindent 4 }}
  volumeMounts:
    - name: agent-tmp
      mountPath: /tmp
    {{- if eq .Values.agent.mode "sidecar" }}
    - name: agent-api-access
      mountPath: /var/run/secrets/kubernetes.io/serviceaccount
      readOnly: true
    {{- end }}
{{- end }}

{{/*
Checks the schema cannot express, with messages that say what to do. None of them prints a
value: a value in the wrong place may be an API key.
*/}}
{{- define "beluga-ai.validate" -}}
{{- $keyName := "^[-._a-zA-Z0-9]{1,253}$" }}
{{- range $key, $envelope := .Values.sealedSecrets }}
{{- if not (regexMatch $keyName $key) }}
{{- fail (printf "sealedSecrets has the key %q, which is not a valid Secret key: use letters, digits, '-', '_' and '.' (at most 253)" $key) }}
{{- end }}
{{- if not (kindIs "string" $envelope) }}
{{- fail (printf "sealedSecrets.%s must be a string: the envelope printed by `beluga-secrets seal %s`" $key $key) }}
{{- end }}
{{- /* bs1.<kid>.<sealed box>, bs2.<kid>.<signer>.<sealed box>.<Ed25519 signature>: ids are 16 hex digits, a sealed box is at least 50 bytes (67 base64url characters), a signature 64 (86). */}}
{{- $v1 := "^bs1\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{67,}$" }}
{{- $v2 := "^bs2\\.[0-9a-f]{16}\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{67,}\\.[A-Za-z0-9_-]{86}$" }}
{{- if not (or (regexMatch $v1 $envelope) (regexMatch $v2 $envelope)) }}
{{- fail (printf "sealedSecrets.%s is not a sealed envelope (bs1.<kid>.<ciphertext> or bs2.<kid>.<signer>.<ciphertext>.<signature>); seal the value with `beluga-secrets seal %s -n %s` and never put a plaintext key in values (the value is not shown here)" $key $key $.Release.Namespace) }}
{{- end }}
{{- end }}
{{- range $name, $value := .Values.config }}
{{- if not (regexMatch $keyName $name) }}
{{- fail (printf "config has the key %q, which is not a valid ConfigMap key: use letters, digits, '-', '_' and '.' (at most 253)" $name) }}
{{- end }}
{{- if regexMatch "(?i)(api[-_.]?key|secret|passw(or)?d|credential|auth[-_.]?token|access[-_.]?token|bearer)" $name }}
{{- fail (printf "config.%s looks like a credential: config is rendered in plain text into a ConfigMap; store it with `beluga-secrets set` and list it under apiKeys instead" $name) }}
{{- end }}
{{- if and (kindIs "string" $value) (regexMatch "^sk-" $value) }}
{{- fail (printf "config.%s holds what looks like an API key: config is rendered in plain text into a ConfigMap; store it with `beluga-secrets set` and list it under apiKeys instead (the value is not shown here)" $name) }}
{{- end }}
{{- end }}
{{- if hasKey .Values.podAnnotations "beluga-ai.io/content-hash" }}
{{- fail "podAnnotations sets beluga-ai.io/content-hash: the agent owns that annotation, and a value from Helm would restart the pods on every upgrade; remove it" }}
{{- end }}
{{- $keys := dict }}
{{- $envs := dict }}
{{- range .Values.apiKeys }}
{{- if hasKey $keys .key }}
{{- fail (printf "apiKeys lists the key %q twice; list each Secret key once" .key) }}
{{- end }}
{{- if hasKey $envs .env }}
{{- fail (printf "apiKeys gives two keys the environment variable %q; each needs its own" .env) }}
{{- end }}
{{- $_ := set $keys .key true }}
{{- $_ := set $envs .env true }}
{{- end }}
{{- if and .Values.agent.enabled (not .Values.agent.leaderElection.enabled) }}
{{- if and (eq .Values.agent.mode "deployment") (gt (int .Values.agent.replicaCount) 1) }}
{{- fail (printf "agent.replicaCount is %d but agent.leaderElection.enabled is false: several agents would write at once; enable leader election or set agent.replicaCount to 1" (int .Values.agent.replicaCount)) }}
{{- end }}
{{- if and (eq .Values.agent.mode "sidecar") (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) }}
{{- fail "agent.mode is sidecar with more than one server replica but agent.leaderElection.enabled is false: every replica's agent would write at once; enable leader election" }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%d) is greater than autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- end }}
{{- end }}
