{{/*
A setting of the whole library (`key` under .Values.library). webUrl, when not given, is where the Ingress
serves the edge (https when it has TLS), else the address NOTES' port-forward gives: a password reset's link
then points at the host readers reach rather than at an example domain.
*/}}
{{- define "athenaeum.librarySetting" -}}
{{- $value := index .root.Values.library .key -}}
{{- $ingress := .root.Values.edge.ingress -}}
{{- if or $value (ne .key "webUrl") -}}
{{ $value }}
{{- else if $ingress.enabled -}}
http{{ if $ingress.tls }}s{{ end }}://{{ $ingress.host }}
{{- else -}}
http://localhost:8080
{{- end -}}
{{- end }}

{{/*
Settings the chart gives every service itself, which a service's `env` (serviceDefaults.env,
serviceOverrides.<name>.env) may not give again: Kubernetes would take the last of two entries while the
wait-for-schema container kept the chart's, and a library setting given to one service would split the library
(e.g. loans counting days in one time zone, users ending memberships in another).
*/}}
{{- define "athenaeum.chartSettings" -}}
- ATHENAEUM_ENVIRONMENT
- ATHENAEUM_LOG_LEVEL
- ATHENAEUM_SOCKET
- ATHENAEUM_MESH_URL
- ATHENAEUM_METRICS_HOST
- ATHENAEUM_METRICS_PORT
- ATHENAEUM_NATS_URL
- ATHENAEUM_NATS_USER
- ATHENAEUM_NATS_PASSWORD
- ATHENAEUM_JETSTREAM_REPLICAS
- ATHENAEUM_OTLP_ENDPOINT
- ATHENAEUM_TRACE_SAMPLE_RATIO
- ATHENAEUM_SERVICE_VERSION
- ATHENAEUM_SHUTDOWN_GRACE_SECONDS
- ATHENAEUM_DATABASE_URL
- ATHENAEUM_DATABASE_PASSWORD
{{- end }}

{{/* Fails on a setting of `env` (one service's) that the chart, the library or a Secret gives. */}}
{{- define "athenaeum.refuseChartSettings" -}}
{{- $chart := include "athenaeum.chartSettings" . | fromYamlArray -}}
{{- $library := dict -}}
{{- range .root.Values.services }}
{{- range .librarySettings }}{{ $_ := set $library .name .value }}{{ end }}
{{- end }}
{{- range $name, $_ := .env }}
{{- $where := printf "%s.env.%s (serviceDefaults or serviceOverrides.%s)" $.svc.name $name $.svc.name }}
{{- if hasKey $library $name }}
{{- fail (printf "%s: a setting of the whole library, the same for every service: set library.%s" $where (get $library $name)) }}
{{- else if has $name $chart }}
{{- fail (printf "%s: the chart sets it itself (from postgresql.*, nats.*, observability.*, rollout.* and the like)" $where) }}
{{- else if has $name ($.svc.secretSettings | default list) }}
{{- fail (printf "%s: a secret: it comes from the Secret %s-%s-secrets" $where $.root.Release.Name $.svc.name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Fails on a serviceOverrides key that names no service of the registry (a misspelt one would be ignored). */}}
{{- define "athenaeum.refuseUnknownOverrides" -}}
{{- $known := list -}}
{{- range .Values.services }}{{ $known = append $known .name }}{{ end -}}
{{- range $name, $_ := .Values.serviceOverrides }}
{{- if not (has $name $known) }}
{{- fail (printf "serviceOverrides.%s: no such service; known: %s" $name (join ", " $known)) }}
{{- end }}
{{- end }}
{{- end }}
