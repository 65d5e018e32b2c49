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

{{- define "athenaeum.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "athenaeum.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
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
{{ .Values.postgresql.auth.existingSecret | default (printf "%s-postgresql" .Release.Name) }}
{{- end }}

{{- define "athenaeum.natsUrl" -}}
{{- if .Values.nats.bundled -}}
nats://{{ .Release.Name }}-nats:4222
{{- else -}}
{{ required "nats.url is required when nats.bundled is false" .Values.nats.url }}
{{- end -}}
{{- end }}

{{/* The database password, then a URL that refers to it: Kubernetes expands $(VAR) from earlier entries. */}}
{{- define "athenaeum.databaseEnv" -}}
- name: ATHENAEUM_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "athenaeum.postgresSecret" .root }}
      key: password
- name: {{ .variable }}
  value: {{ printf "postgresql+asyncpg://%s:$(ATHENAEUM_DB_PASSWORD)@%s:%v/%s%s" .root.Values.postgresql.user (include "athenaeum.postgresHost" .root) .root.Values.postgresql.port .database .root.Values.postgresql.urlQuery | quote }}
{{- end }}

{{- define "athenaeum.prometheusAnnotations" -}}
{{- if .Values.observability.prometheusAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.mesh.ports.metrics | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}
