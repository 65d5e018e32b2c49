{{/* Names, labels and the pieces every workload of the chart shares. */}}

{{- define "athenaeum.labels" -}}
app.kubernetes.io/name: athenaeum
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/component: {{ .component }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Pods of one mesh identity (a service or the edge); NetworkPolicies select callers by these. */}}
{{- define "athenaeum.selectorLabels" -}}
app.kubernetes.io/name: athenaeum
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "athenaeum.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "athenaeum.envoyImage" -}}
{{ .Values.envoy.image.repository }}:{{ .Values.envoy.image.tag }}
{{- end }}

{{/* One service's settings: serviceDefaults, overridden by serviceOverrides.<name>. */}}
{{- define "athenaeum.serviceConfig" -}}
{{- $override := index .root.Values.serviceOverrides .svc.name | default dict -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy $override)) -}}
{{- end }}

{{/* Security contexts: values podSecurityContext / containerSecurityContext (OpenShift: IDs set to null). */}}
{{- define "athenaeum.podSecurityContext" -}}
{{ toYaml .Values.podSecurityContext }}
{{- end }}

{{- define "athenaeum.containerSecurityContext" -}}
{{ toYaml .Values.containerSecurityContext }}
{{- end }}

{{/*
Where one workload's pods may run: nodeSelector, affinity, tolerations and topologySpreadConstraints from `cfg`
(its own values) where set, else the chart-wide ones. A spread constraint without a labelSelector spreads the
workload's own pods (`labels`: the dict for athenaeum.selectorLabels).
*/}}
{{- define "athenaeum.scheduling" -}}
{{- $values := .root.Values -}}
{{- range $key := list "nodeSelector" "affinity" "tolerations" }}
{{- with (index $.cfg $key | default (index $values $key)) }}
{{ $key }}: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- with (.cfg.topologySpreadConstraints | default $values.topologySpreadConstraints) }}
{{- $own := dict "labelSelector" (dict "matchLabels" (include "athenaeum.selectorLabels" $.labels | fromYaml)) }}
topologySpreadConstraints:
{{- range . }}
  - {{- toYaml (hasKey . "labelSelector" | ternary . (merge (deepCopy .) $own)) | nindent 4 }}
{{- end }}
{{- end }}
{{- end }}

{{/* A workload's pod annotations: the chart-wide podAnnotations, overridden key by key by its own (`cfg`). */}}
{{- define "athenaeum.podAnnotations" -}}
{{- with merge (deepCopy (.cfg.podAnnotations | default dict)) (deepCopy .root.Values.podAnnotations) }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/* The mesh certificate of one identity, mounted as ca.pem, <identity>.pem and <identity>-key.pem. */}}
{{- define "athenaeum.certVolume" -}}
- name: mesh-certs
  secret:
    defaultMode: 0440
    {{- if .root.Values.mtls.certManager.enabled }}
    secretName: {{ printf "athenaeum-mesh-%s" .identity }}
    items:
      - {key: ca.crt, path: ca.pem}
      - {key: tls.crt, path: {{ printf "%s.pem" .identity }}}
      - {key: tls.key, path: {{ printf "%s-key.pem" .identity }}}
    {{- else }}
    secretName: {{ required "mtls.existingSecret is required without cert-manager" .root.Values.mtls.existingSecret }}
    items:
      - {key: ca.pem, path: ca.pem}
      - {key: {{ printf "%s.pem" .identity }}, path: {{ printf "%s.pem" .identity }}}
      - {key: {{ printf "%s-key.pem" .identity }}, path: {{ printf "%s-key.pem" .identity }}}
    {{- end }}
{{- end }}

{{- define "athenaeum.postgresHost" -}}
{{- if .Values.postgresql.bundled -}}
{{ .Release.Name }}-postgresql
{{- else -}}
{{ required "postgresql.host is required when postgresql.bundled is false" .Values.postgresql.host }}
{{- end -}}
{{- end }}

{{- define "athenaeum.postgresSecret" -}}
{{- if .Values.postgresql.bundled -}}
{{ .Values.postgresql.auth.existingSecret | default (printf "%s-postgresql" .Release.Name) }}
{{- else -}}
{{- /* It must exist before the chart: the migration job runs before anything of the release is created. */ -}}
{{ required "postgresql.auth.existingSecret is required when postgresql.bundled is false" .Values.postgresql.auth.existingSecret }}
{{- end -}}
{{- end }}

{{/* The Secret holding each service's own Postgres password (a key per service): the chart's own for a bundled
PostgreSQL unless given; with an external one it must exist before the chart, as the administrator's must. */}}
{{- define "athenaeum.postgresRolesSecret" -}}
{{- if .Values.postgresql.bundled -}}
{{ .Values.postgresql.auth.rolesExistingSecret | default (printf "%s-postgresql-roles" .Release.Name) }}
{{- else -}}
{{ required "postgresql.auth.rolesExistingSecret is required when postgresql.bundled is false" .Values.postgresql.auth.rolesExistingSecret }}
{{- end -}}
{{- end }}

{{/* The Secret holding each service's NATS password (a key per service): the chart's own for a bundled NATS;
an external NATS's when given; "" when the services send no credentials. */}}
{{- define "athenaeum.natsSecret" -}}
{{- if .Values.nats.bundled -}}
{{ .Values.nats.auth.existingSecret | default (printf "%s-nats" .Release.Name) }}
{{- else -}}
{{ .Values.nats.auth.existingSecret }}
{{- end -}}
{{- end }}

{{- define "athenaeum.natsUrl" -}}
{{- if .Values.nats.bundled -}}
{{- /* The bundled NATS speaks plain TCP: services speaking TLS first to it would never connect. */ -}}
{{- if or .Values.nats.tls.caSecret .Values.nats.tls.serverName -}}
{{- fail "nats.tls.* applies to an existing NATS (nats.bundled=false): the bundled NATS speaks no TLS" -}}
{{- end -}}
nats://{{ .Release.Name }}-nats:4222
{{- else -}}
{{ required "nats.url is required when nats.bundled is false" .Values.nats.url }}
{{- end -}}
{{- end }}

{{/* The settings that reach `database`: a URL without the password, and the password from its Secret (the
services put it into the URL, quoted, whatever characters it has). With `service`, as that service's own role
(named as its database) with its own password; without, as the administrator (the migration job). */}}
{{- define "athenaeum.databaseEnv" -}}
{{- $user := .root.Values.postgresql.user -}}
{{- if .service }}{{ $user = .database }}{{ end -}}
- name: ATHENAEUM_DATABASE_URL
  value: {{ printf "postgresql+asyncpg://%s@%s:%v/%s%s" $user (include "athenaeum.postgresHost" .root) .root.Values.postgresql.port .database .root.Values.postgresql.urlQuery | quote }}
- name: ATHENAEUM_DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if .service }}
      name: {{ include "athenaeum.postgresRolesSecret" .root }}
      key: {{ .service }}
      {{- else }}
      name: {{ include "athenaeum.postgresSecret" .root }}
      key: password
      {{- end }}
{{- end }}

{{/* prometheus.io/* annotations for a pod's metrics `port` and `path` (observability.prometheusAnnotations). */}}
{{- define "athenaeum.prometheusAnnotations" -}}
{{- if .root.Values.observability.prometheusAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: {{ .path }}
{{- end }}
{{- end }}

{{/*
The edge's Envoy config: the generated one (files/envoy/edge.yaml, from the registry), trusting
edge.trustedProxyHops proxies in front when that is set (unset: the registry's EDGE_TRUSTED_PROXY_HOPS, as
generated), with the heap budget of the edge's memory limit (athenaeum.edgeHeapBudget). Rewritten here rather
than generated per value: the chart carries one config for every install.
*/}}
{{- define "athenaeum.edgeEnvoyConfig" -}}
{{- $config := .Files.Get "files/envoy/edge.yaml" -}}
{{- $hops := .Values.edge.trustedProxyHops -}}
{{- $hopsSetting := "(?m)^( +xff_num_trusted_hops: )[0-9]+$" -}}
{{- if not (kindIs "invalid" $hops) -}}
{{- if not (regexMatch $hopsSetting $config) -}}
{{ fail "files/envoy/edge.yaml has no xff_num_trusted_hops for edge.trustedProxyHops to set: regenerate the chart" }}
{{- end -}}
{{- $config = regexReplaceAll $hopsSetting $config (printf "${1}%d" (int $hops)) -}}
{{- end -}}
{{- $budget := include "athenaeum.edgeHeapBudget" . -}}
{{- $heapSetting := "(?m)^( +max_heap_size_bytes: )[0-9]+$" -}}
{{- if $budget -}}
{{- if not (regexMatch $heapSetting $config) -}}
{{ fail "files/envoy/edge.yaml has no max_heap_size_bytes for edge.resources.limits.memory to set: regenerate the chart" }}
{{- end -}}
{{- $config = regexReplaceAll $heapSetting $config (printf "${1}%s" $budget) -}}
{{- end -}}
{{ $config }}
{{- end }}

{{/*
The heap the edge's Envoy may use before it sheds load: 3/4 of its container's memory limit
(edge.resources.limits.memory), as services/support/mesh/envoy_heap.py's heap_budget computes it, so the
budget follows the limit; no limit: empty (the generated budget, for the chart's default limit, stays).
*/}}
{{- define "athenaeum.edgeHeapBudget" -}}
{{- $limit := dig "limits" "memory" "" (.Values.edge.resources | default dict) -}}
{{- if $limit -}}
{{- $text := kindIs "float64" $limit | ternary (printf "%.0f" $limit) (toString $limit) -}}
{{- if not (regexMatch "^[0-9]+(k|M|G|Ki|Mi|Gi)?$" $text) -}}
{{ fail (printf "edge.resources.limits.memory %q: give a whole number of bytes, or of k, M, G, Ki, Mi or Gi" $text) }}
{{- end -}}
{{- $digits := regexFind "^[0-9]+" $text -}}
{{- $units := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 -}}
{{- div (mul (int64 $digits) (get $units (trimPrefix $digits $text)) 3) 4 -}}
{{- end -}}
{{- end }}
