{{/*
Everything one service of the registry runs as: ServiceAccount, Deployment (the service and its Envoy
sidecar), headless Service, HorizontalPodAutoscaler, PodDisruptionBudget and the NetworkPolicy that lets
in only the callers the registry names. Called once per entry of .Values.services (services.yaml).
*/}}
{{- define "athenaeum.service" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $cfg := include "athenaeum.serviceConfig" . | fromYaml -}}
{{- include "athenaeum.refuseChartSettings" (dict "root" $root "svc" $svc "env" $cfg.env) -}}
{{- $ports := $root.Values.mesh.ports -}}
{{- $sockets := $root.Values.mesh.sockets -}}
{{- $labels := dict "root" $root "component" $svc.name -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $svc.name }}
  labels: {{- include "athenaeum.labels" $labels | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $svc.name }}
  labels: {{- include "athenaeum.labels" $labels | nindent 4 }}
spec:
  {{- if not $cfg.autoscaling.enabled }}
  replicas: {{ $cfg.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  # A new pod is ready before an old one goes: capacity never drops during a rollout.
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels: {{- include "athenaeum.selectorLabels" $labels | nindent 6 }}
  template:
    metadata:
      labels: {{- include "athenaeum.labels" $labels | nindent 8 }}
      annotations:
        checksum/envoy: {{ $root.Files.Get (printf "files/envoy/%s.yaml" $svc.name) | sha256sum }}
        {{- include "athenaeum.prometheusAnnotations" (dict "root" $root "port" $ports.metrics "path" "/metrics") | nindent 8 }}
        {{- include "athenaeum.podAnnotations" (dict "root" $root "cfg" $cfg) | nindent 8 }}
    spec:
      serviceAccountName: {{ $svc.name }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets: {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext: {{- include "athenaeum.podSecurityContext" $root | nindent 8 }}
      {{- include "athenaeum.scheduling" (dict "root" $root "cfg" $cfg "labels" $labels) | nindent 6 }}
      terminationGracePeriodSeconds: {{ $root.Values.rollout.terminationGracePeriodSeconds }}
      initContainers:
        # A native sidecar: started (and ready) before the service, stopped only after it has drained.
        - name: envoy
          image: {{ include "athenaeum.envoyImage" $root }}
          imagePullPolicy: {{ $root.Values.envoy.image.pullPolicy }}
          restartPolicy: Always
          command: ["envoy"]
          args:
            - -c
            - {{ printf "/etc/athenaeum/envoy/%s.yaml" $svc.name }}
            - --concurrency
            - "1"
            - --disable-hot-restart
            - --log-level
            - {{ $root.Values.envoy.logLevel }}
          ports:
            - {name: mesh, containerPort: {{ $ports.inbound }}, protocol: TCP}
            - {name: ops, containerPort: {{ $ports.ops }}, protocol: TCP}
          startupProbe:
            httpGet: {path: /ready, port: ops}
            periodSeconds: 1
            failureThreshold: 30
          readinessProbe:
            httpGet: {path: /ready, port: ops}
            periodSeconds: 5
          livenessProbe:
            httpGet: {path: /ready, port: ops}
            periodSeconds: 10
            failureThreshold: 3
          resources: {{- toYaml $root.Values.envoy.resources | nindent 12 }}
          securityContext: {{- include "athenaeum.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - {name: envoy-config, mountPath: /etc/athenaeum/envoy, readOnly: true}
            - {name: mesh-certs, mountPath: /etc/athenaeum/certs, readOnly: true}
            - {name: sockets, mountPath: {{ $sockets.dir }}}
        # The migration job runs beside the pods (helm install --wait cannot deadlock on it): this waits until
        # the service's database has the schema of this image, so no pod ever starts on an older one.
        - name: wait-for-schema
          image: {{ include "athenaeum.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["python", "-m", "services.support.mesh.containers", "wait-for-schema", {{ $svc.name | quote }}]
          env: {{- include "athenaeum.databaseEnv" (dict "root" $root "database" $svc.database "service" $svc.name) | nindent 12 }}
          resources:
            requests: {cpu: 10m, memory: 64Mi}
            limits: {memory: 192Mi}
          securityContext: {{- include "athenaeum.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
      containers:
        - name: {{ $svc.name }}
          image: {{ include "athenaeum.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["python", "-m", {{ $svc.module | quote }}]
          env:
            - {name: ATHENAEUM_ENVIRONMENT, value: {{ $root.Values.environment | quote }}}
            - {name: ATHENAEUM_LOG_LEVEL, value: {{ $root.Values.logLevel | quote }}}
            # Only the sidecar faces the network: the service listens on a socket in the pod's own emptyDir.
            - {name: ATHENAEUM_SOCKET, value: {{ $sockets.app | quote }}}
            - {name: ATHENAEUM_MESH_URL, value: {{ printf "unix:%s" $sockets.outbound | quote }}}
            - {name: ATHENAEUM_METRICS_HOST, value: "0.0.0.0"}
            - {name: ATHENAEUM_METRICS_PORT, value: {{ $ports.metrics | quote }}}
            - {name: ATHENAEUM_NATS_URL, value: {{ include "athenaeum.natsUrl" $root | quote }}}
            {{- with include "athenaeum.natsSecret" $root }}
            # Its own NATS user: it may publish only its own events (files/nats/authorization.conf).
            - {name: ATHENAEUM_NATS_USER, value: {{ $svc.name | quote }}}
            - name: ATHENAEUM_NATS_PASSWORD
              valueFrom:
                secretKeyRef: {name: {{ . | quote }}, key: {{ $svc.name | quote }}}
            {{- end }}
            {{- if $root.Values.nats.tls.caSecret }}
            # TLS first to NATS, trusting only the CA of nats.tls.caSecret: no password to a stand-in.
            - {name: ATHENAEUM_NATS_CA_FILE, value: /etc/athenaeum/nats-ca/ca.crt}
            - {name: ATHENAEUM_NATS_TLS_HOSTNAME, value: {{ $root.Values.nats.tls.serverName | quote }}}
            {{- end }}
            - {name: ATHENAEUM_JETSTREAM_REPLICAS, value: {{ $root.Values.nats.jetstreamReplicas | quote }}}
            - {name: ATHENAEUM_OTLP_ENDPOINT, value: {{ $root.Values.observability.otlpEndpoint | quote }}}
            - {name: ATHENAEUM_TRACE_SAMPLE_RATIO, value: {{ $root.Values.observability.traceSampleRatio | quote }}}
            - {name: ATHENAEUM_SERVICE_VERSION, value: {{ $root.Values.image.tag | default $root.Chart.AppVersion | quote }}}
            - {name: ATHENAEUM_SHUTDOWN_GRACE_SECONDS, value: {{ $root.Values.rollout.shutdownGraceSeconds | quote }}}
            {{- include "athenaeum.databaseEnv" (dict "root" $root "database" $svc.database "service" $svc.name) | nindent 12 }}
            {{- range $svc.librarySettings }}
            # A fact of the whole library (.Values.library): every service that reads it gets the same value.
            - {name: {{ .name }}, value: {{ include "athenaeum.librarySetting" (dict "root" $root "key" .value) | quote }}}
            {{- end }}
            {{- range $name, $value := $cfg.env }}
            - {name: {{ $name }}, value: {{ $value | quote }}}
            {{- end }}
            {{- range $svc.secretSettings }}
            # Create it before installing: kubectl create secret generic <release>-<service>-secrets ...
            - name: {{ . }}
              valueFrom:
                secretKeyRef: {name: {{ printf "%s-%s-secrets" $root.Release.Name $svc.name | quote }}, key: {{ . | quote }}}
            {{- end }}
          ports:
            - {name: metrics, containerPort: {{ $ports.metrics }}, protocol: TCP}
          # The service listens on loopback; kubelet's gRPC probes reach its health through the sidecar's
          # ops listener. Readiness follows Postgres, not NATS (the outbox rides a NATS outage out: a NATS
          # pod rescheduled must not empty every Service; the events service, whose batches go to JetStream
          # directly, excepted); NATS shows as health service "messaging" and in alerts. Liveness only that
          # the process answers.
          startupProbe:
            grpc: {port: {{ $ports.ops }}, service: liveness}
            periodSeconds: 1
            failureThreshold: 60
          readinessProbe:
            grpc: {port: {{ $ports.ops }}, service: ""}
            periodSeconds: 5
            failureThreshold: 2
          livenessProbe:
            grpc: {port: {{ $ports.ops }}, service: liveness}
            periodSeconds: 10
            failureThreshold: 3
          lifecycle:
            # Keep serving while the endpoints controller and the peers' Envoys forget this pod.
            preStop:
              sleep:
                seconds: {{ $root.Values.rollout.preStopSeconds }}
          resources: {{- toYaml $cfg.resources | nindent 12 }}
          securityContext: {{- include "athenaeum.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            - {name: sockets, mountPath: {{ $sockets.dir }}}
            {{- if $root.Values.nats.tls.caSecret }}
            - {name: nats-ca, mountPath: /etc/athenaeum/nats-ca, readOnly: true}
            {{- end }}
      volumes:
        - name: envoy-config
          configMap:
            name: {{ $root.Release.Name }}-envoy
            items:
              - {key: {{ printf "%s.yaml" $svc.name }}, path: {{ printf "%s.yaml" $svc.name }}}
              # Its certificate and the mesh CA through SDS: Envoy watches /etc/athenaeum/certs and takes a renewal.
              - {key: {{ printf "%s-certificate.sds.yaml" $svc.name }}, path: {{ printf "%s-certificate.sds.yaml" $svc.name }}}
              - {key: mesh-ca.sds.yaml, path: mesh-ca.sds.yaml}
        {{- include "athenaeum.certVolume" (dict "root" $root "identity" $svc.name) | nindent 8 }}
        - name: tmp
          emptyDir: {medium: Memory, sizeLimit: 64Mi}
        # The service's and its sidecar's Unix sockets: no other pod or process can open them.
        - name: sockets
          emptyDir: {medium: Memory, sizeLimit: 1Mi}
        {{- if $root.Values.nats.tls.caSecret }}
        - name: nats-ca
          secret: {secretName: {{ $root.Values.nats.tls.caSecret | quote }}, items: [{key: ca.crt, path: ca.crt}]}
        {{- end }}
---
# Headless: peers' Envoys resolve every pod and balance each request, not each long-lived connection.
apiVersion: v1
kind: Service
metadata:
  name: {{ $svc.name }}
  labels: {{- include "athenaeum.labels" $labels | nindent 4 }}
spec:
  clusterIP: None
  selector: {{- include "athenaeum.selectorLabels" $labels | nindent 4 }}
  ports:
    - {name: grpc-mesh, port: {{ $ports.inbound }}, targetPort: mesh, protocol: TCP, appProtocol: kubernetes.io/h2c}
    - {name: http-metrics, port: {{ $ports.metrics }}, targetPort: metrics, protocol: TCP}
    - {name: http-ops, port: {{ $ports.ops }}, targetPort: ops, protocol: TCP}
{{- if $cfg.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $svc.name }}
  labels: {{- include "athenaeum.labels" $labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $svc.name }}
  minReplicas: {{ $cfg.autoscaling.minReplicas }}
  maxReplicas: {{ $cfg.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $cfg.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $svc.name }}
  labels: {{- include "athenaeum.labels" $labels | nindent 4 }}
spec:
  maxUnavailable: {{ $cfg.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels: {{- include "athenaeum.selectorLabels" $labels | nindent 6 }}
{{- if $root.Values.networkPolicy.enabled }}
---
# Only the registry's callers reach the mesh port (their sidecars' RBAC checks them again, by certificate).
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $svc.name }}
  labels: {{- include "athenaeum.labels" $labels | nindent 4 }}
spec:
  podSelector:
    matchLabels: {{- include "athenaeum.selectorLabels" $labels | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    - from:
        {{- range $svc.callers }}
        - podSelector:
            matchLabels: {{- include "athenaeum.selectorLabels" (dict "root" $root "component" .) | nindent 14 }}
        {{- end }}
      ports:
        - {port: {{ $ports.inbound }}, protocol: TCP}
    - ports:
        - {port: {{ $ports.metrics }}, protocol: TCP}
        - {port: {{ $ports.ops }}, protocol: TCP}
      {{- with $root.Values.networkPolicy.metricsFrom }}
      from: {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
{{- end }}
