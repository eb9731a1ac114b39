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
--release RELEASE` derives the same way.
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

{{/*
The agent's own objects: <fullname>-sealing-key (Secret), -public-key and -signers (ConfigMaps),
-agent (Lease), so that several releases share a namespace. The fullname is cut to 51 characters
to leave room for the longest suffix, as the CLI cuts it. A release installed before these names
keeps the fixed ones it owns (beluga-ai.legacyObjectNames).
*/}}
{{- define "beluga-ai.agentObjectBase" -}}
{{- include "beluga-ai.fullname" . | trunc 51 | trimSuffix "-" }}
{{- end }}

{{- define "beluga-ai.sealingKeyName" -}}
{{- if eq (include "beluga-ai.legacyObjectNames" .) "true" }}beluga-secrets-sealing-key{{ else }}{{ include "beluga-ai.agentObjectBase" . }}-sealing-key{{ end }}
{{- end }}
{{- define "beluga-ai.publicKeyName" -}}
{{- if eq (include "beluga-ai.legacyObjectNames" .) "true" }}beluga-secrets-public-key{{ else }}{{ include "beluga-ai.agentObjectBase" . }}-public-key{{ end }}
{{- end }}
{{- define "beluga-ai.signersName" -}}
{{- if eq (include "beluga-ai.legacyObjectNames" .) "true" }}beluga-secrets-signers{{ else }}{{ include "beluga-ai.agentObjectBase" . }}-signers{{ end }}
{{- end }}
{{- define "beluga-ai.leaseName" -}}
{{- if eq (include "beluga-ai.legacyObjectNames" .) "true" }}beluga-secrets-agent{{ else }}{{ include "beluga-ai.agentObjectBase" . }}-agent{{ end }}
{{- end }}

{{/*
"true" when this release keeps the fixed names beluga-secrets-sealing-key, -public-key, -signers
and the Lease beluga-secrets-agent: agent.legacyObjectNames when set; otherwise (auto) when the
live ConfigMap beluga-secrets-public-key or beluga-secrets-signers is this release's (Helm's
release annotations name it; the signers ConfigMap outlives an uninstall, so a reinstall finds
it too). Switching such a release to the derived names would give it a new, empty sealing key:
the envelopes sealed to the old one would no longer open. `lookup` returns nothing under `helm
template` and in GitOps tools that render without a cluster: there, set agent.legacyObjectNames.
*/}}
{{- define "beluga-ai.legacyObjectNames" -}}
{{- if kindIs "bool" .Values.agent.legacyObjectNames }}
{{- .Values.agent.legacyObjectNames }}
{{- else }}
{{- $owned := false }}
{{- range $name := list "beluga-secrets-public-key" "beluga-secrets-signers" }}
{{- $annotations := dig "metadata" "annotations" dict (lookup "v1" "ConfigMap" $.Release.Namespace $name) }}
{{- if and (eq (get $annotations "meta.helm.sh/release-name") $.Release.Name) (eq (get $annotations "meta.helm.sh/release-namespace") $.Release.Namespace) }}
{{- $owned = true }}
{{- end }}
{{- end }}
{{- $owned }}
{{- end }}
{{- end }}
{{- /* The agent's status object: created and written by the agent only, never rendered. */}}
{{- define "beluga-ai.statusName" -}}
{{- printf "%s-secrets-status" (include "beluga-ai.fullname" .) }}
{{- end }}

{{- define "beluga-ai.operatorRoleName" -}}
{{- printf "%s-operator" (include "beluga-ai.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}


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

{{/* The `helm test` Pod and its read-only account: labels no selector of the release matches. */}}
{{- define "beluga-ai.testName" -}}
{{- printf "%s-test" (include "beluga-ai.fullname" . | trunc 58 | trimSuffix "-") }}
{{- end }}

{{- define "beluga-ai.testSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-test" (include "beluga-ai.name" . | trunc 58 | trimSuffix "-") }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "beluga-ai.testLabels" -}}
helm.sh/chart: {{ include "beluga-ai.chart" . }}
{{ include "beluga-ai.testSelectorLabels" . }}
app.kubernetes.io/component: release-test
app.kubernetes.io/part-of: {{ include "beluga-ai.name" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The `helm test` hooks: created for the test, deleted once it passed; a failed test leaves them
(the Pod's log says why) until the next `helm test` replaces them.
*/}}
{{- define "beluga-ai.testHook" -}}
helm.sh/hook: test
helm.sh/hook-weight: {{ . | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}

{{/*
What `helm test` runs: `beluga-secrets doctor` against the release, whose exit status is the
verdict (0 every check ok; 1 warnings; 6 failures). Its output names each problem with the command
that fixes it. It reads no Secret and no pod log (--log-lines 0): the test's account may not.
*/}}
{{- define "beluga-ai.testCommand" -}}
command: ["beluga-secrets"]
args:
  - doctor
  - -n
  - {{ .Release.Namespace | quote }}
  - --release
  - {{ .Release.Name | quote }}
  {{- if or .Values.fullnameOverride .Values.nameOverride }}
  - --secret
  - {{ include "beluga-ai.secretName" . | quote }}
  - --config-map
  - {{ include "beluga-ai.configName" . | quote }}
  - --deployment
  - {{ include "beluga-ai.fullname" . | quote }}
  {{- end }}
  - --agent-deployment
  - {{ include "beluga-ai.agentName" . | quote }}
  {{- if not .Values.agent.leaderElection.enabled }}
  - --no-leader-election
  {{- end }}
  {{- if include "beluga-ai.serviceMonitorRequested" . }}
  - --service-monitor
  {{- end }}
  - --log-lines
  - "0"
{{- end }}

{{/* Non-empty when a ServiceMonitor is asked for, for the server or the agent. */}}
{{- define "beluga-ai.serviceMonitorRequested" -}}
{{- if or .Values.serviceMonitor.enabled (and .Values.agent.enabled .Values.agent.serviceMonitor.enabled) }}true{{- end }}
{{- end }}

{{/*
A ConfigMap value as the server reads it. Helm reads numbers in values files as floating point,
which `toString` would print as `1e+06`; JSON's form keeps them as written (1000000, 0.7).
*/}}
{{- define "beluga-ai.configValue" -}}
{{- if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- toJson . }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/* The data of ConfigMap <fullname>-config; without the agent its hash rolls the pods. */}}
{{- define "beluga-ai.configData" -}}
{{- range $name, $value := .Values.config }}
{{ $name | quote }}: {{ include "beluga-ai.configValue" $value | quote }}
{{- end }}
{{- end }}

{{/*
Topology spread constraints (dict "constraints" LIST "selector" YAML-LABELS): one without a
labelSelector gets the pods it is rendered for.
*/}}
{{- define "beluga-ai.topologySpread" -}}
{{- $constraints := list }}
{{- range .constraints }}
{{- $constraint := deepCopy . }}
{{- if not (hasKey $constraint "labelSelector") }}
{{- $_ := set $constraint "labelSelector" (dict "matchLabels" (fromYaml $.selector)) }}
{{- end }}
{{- $constraints = append $constraints $constraint }}
{{- end }}
{{- toYaml $constraints }}
{{- end }}

{{- define "beluga-ai.agentImage" -}}
{{- if not .Values.agent.image.repository }}
{{- fail "agent.image.repository is empty, and no public registry serves the agent image: build it with the Dockerfile at the root of the beluga-secrets repository (docker build -t REGISTRY/beluga-secrets:0.1.0 .), push it, and set agent.image.repository=REGISTRY/beluga-secrets; or set agent.enabled=false and store keys with beluga-secrets set --direct" }}
{{- end }}
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
    - --sealing-key-secret={{ include "beluga-ai.sealingKeyName" . }}
    - --public-key-config-map={{ include "beluga-ai.publicKeyName" . }}
    - --signers-config-map={{ include "beluga-ai.signersName" . }}
    - --lease={{ include "beluga-ai.leaseName" . }}
    - --debounce={{ .Values.agent.debounce }}
    - --max-delay={{ .Values.agent.maxDelay }}
    - --health-addr=:{{ .Values.agent.healthPort }}
    - --leader-elect={{ .Values.agent.leaderElection.enabled }}
    - --signatures={{ .Values.agent.signatures }}
    - --log-level={{ .Values.agent.logLevel }}
    {{- range .Values.agent.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    # The agent's leader-election identity (`--identity` defaults to $POD_NAME).
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    {{- with .Values.agent.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
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
{{- $credential := "(?i)(api[-_.]?key|secret|passw(or)?d|credential|auth[-_.]?token|access[-_.]?token|bearer)" }}
{{- $sidecar := eq (include "beluga-ai.agentSidecar" .) "true" }}
{{- if and (not .Values.agent.enabled) .Values.sealedSecrets }}
{{- fail "sealedSecrets is set but agent.enabled is false: only the agent opens sealed envelopes; enable the agent, or store the keys with `beluga-secrets set KEY --direct` and remove sealedSecrets" }}
{{- end }}
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
{{- if regexMatch $credential $name }}
{{- fail (printf "config.%s looks like a credential: config is rendered in plain text into a ConfigMap; store it with `beluga-secrets set` and list it under apiKeys instead" $name) }}
{{- end }}
{{- if and (kindIs "string" $value) (regexMatch "^sk-" $value) }}
{{- fail (printf "config.%s holds what looks like an API key: config is rendered in plain text into a ConfigMap; store it with `beluga-secrets set` and list it under apiKeys instead (the value is not shown here)" $name) }}
{{- end }}
{{- end }}
{{- if hasKey .Values.podAnnotations "beluga-ai.io/content-hash" }}
{{- fail "podAnnotations sets beluga-ai.io/content-hash: the agent owns that annotation, and a value from Helm would restart the pods on every upgrade; remove it" }}
{{- end }}
{{- range $key := list "app.kubernetes.io/name" "app.kubernetes.io/instance" }}
{{- range $where, $labels := dict "podLabels" $.Values.podLabels "agent.podLabels" $.Values.agent.podLabels }}
{{- if hasKey $labels $key }}
{{- fail (printf "%s sets %s, one of the selector labels by which the chart finds the release's pods; use another label" $where $key) }}
{{- end }}
{{- end }}
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
{{- $agentEnvs := dict "POD_NAME" true }}
{{- range $list, $taken := dict "extraEnv" $envs "agent.extraEnv" $agentEnvs }}
{{- range (ternary $.Values.extraEnv $.Values.agent.extraEnv (eq $list "extraEnv")) }}
{{- if hasKey $taken .name }}
{{- fail (printf "%s sets %s, which the chart already sets (from apiKeys, or the agent's POD_NAME) or which it lists twice; give each variable once" $list .name) }}
{{- end }}
{{- $_ := set $taken .name true }}
{{- if and (hasKey . "value") (or (regexMatch $credential .name) (regexMatch "^sk-" (toString .value))) }}
{{- fail (printf "%s.%s has a literal value and looks like a credential: values are plain text; store the key with `beluga-secrets set` and list it under apiKeys, or use valueFrom (the value is not shown here)" $list .name) }}
{{- end }}
{{- end }}
{{- end }}
{{- $volumes := list "tmp" }}
{{- if $sidecar }}{{ $volumes = concat $volumes (list "agent-tmp" "agent-api-access") }}{{ end }}
{{- range .Values.extraVolumes }}
{{- if has .name $volumes }}
{{- fail (printf "extraVolumes has a volume named %s, which the chart uses; give it another name" .name) }}
{{- end }}
{{- end }}
{{- range .Values.extraVolumeMounts }}
{{- if eq (clean .mountPath) "/tmp" }}
{{- fail "extraVolumeMounts mounts something at /tmp, where the chart mounts the server's writable emptyDir; choose another path" }}
{{- end }}
{{- end }}
{{- $chartFlags := list "-n" "--namespace" "--all-namespaces" "--release" "--secret" "--config-map" "--deployment" "--sealing-key-secret" "--public-key-config-map" "--signers-config-map" "--lease" "--debounce" "--max-delay" "--health-addr" "--leader-elect" "--identity" "--signatures" "--log-level" }}
{{- range $i, $arg := .Values.agent.extraArgs }}
{{- $flag := regexReplaceAll "=.*$" (toString $arg) "" }}
{{- if not (hasPrefix "-" $flag) }}
{{- fail (printf "agent.extraArgs[%d] is not a flag: give each flag with its value, as --name=value" $i) }}
{{- end }}
{{- if has $flag $chartFlags }}
{{- fail (printf "agent.extraArgs sets %s, which the chart sets itself (from the agent's values, the release, or the pod's name); change that value instead" $flag) }}
{{- end }}
{{- end }}
{{- if and .Values.agent.enabled (not .Values.agent.serviceAccount.create) (not .Values.agent.serviceAccount.name) }}
{{- fail "agent.serviceAccount.create is false but agent.serviceAccount.name is empty: name the existing ServiceAccount the agent runs as, or let the chart create one; the chart does not fall back to the namespace's default account, which every pod without its own uses" }}
{{- end }}
{{- if and $sidecar (eq (int .Values.service.port) (int .Values.agent.healthPort)) }}
{{- fail (printf "service.port and agent.healthPort are both %d: in sidecar mode the server and the agent share the pod's network; give one of them another port" (int .Values.service.port)) }}
{{- end }}
{{- if and .Values.service.nodePort (eq .Values.service.type "ClusterIP") }}
{{- fail "service.nodePort is set but service.type is ClusterIP, which has no node port: set service.type to NodePort or LoadBalancer, or remove service.nodePort" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "ingress.enabled is true but ingress.hosts is empty: add a host, e.g. --set ingress.hosts[0].host=beluga-ai.example.com" }}
{{- end }}
{{- include "beluga-ai.checkRenderedSecret" . }}
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

{{/*
A release made with the deployment guide's own chart rendered the Secret <fullname>-secrets
(templates/secret.yaml). This chart renders no Secret, so upgrading such a release would make Helm
delete it, keys and all, unless the live Secret carries helm.sh/resource-policy: keep. The check
reads the live Secret (`lookup`; empty under `helm template`, which deletes nothing) and stops the
upgrade before anything is deleted. Whoever may install this chart may read that Secret: granting
the agent's Role needs the same rights.
*/}}
{{- define "beluga-ai.checkRenderedSecret" -}}
{{- $name := include "beluga-ai.secretName" . }}
{{- $live := lookup "v1" "Secret" .Release.Namespace $name }}
{{- $annotations := dig "metadata" "annotations" dict $live }}
{{- if and (eq (get $annotations "meta.helm.sh/release-name") .Release.Name) (eq (get $annotations "meta.helm.sh/release-namespace") .Release.Namespace) (ne (get $annotations "helm.sh/resource-policy") "keep") }}
{{- fail (printf "Secret %s belongs to release %s (its previous chart rendered it), and this chart does not render it: the upgrade would delete it with its keys. Keep it first: kubectl annotate secret %s -n %s helm.sh/resource-policy=keep" $name .Release.Name $name .Release.Namespace) }}
{{- end }}
{{- end }}
