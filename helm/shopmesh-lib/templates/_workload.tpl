{{/*
Templates for one Shopmesh workload. Every template takes one dict:
  ctx        the root context of the application chart
  name       the component: auth, user, product, order or gateway
  w          the component's values (.Values.<name>)
  kind       "grpc" for the Python services, "http" for the REST gateway
  calls      components this one calls (egress, and *_TARGET settings)
  callers    components that call this one (ingress on its port)
  env        component-specific non-secret environment (name -> string)
  secretEnv  list of {name, ref: {existingSecret, key}}: environment from existing Secrets
  track      optional, for the Deployment: "stable" (default) or "canary". The
             pods carry `version: <track>` (Istio DestinationRule subsets) and
             `app: <fullname>-<name>` (unique per component, the label Flagger
             renames for its primary); both are in the Deployment's selector,
             never in the Service's. A canary Deployment is named
             <fullname>-<name>-canary, runs .w.canary.image.tag with
             .w.canary.replicaCount replicas and has no HPA.
  extraFrom  optional NetworkPolicy peers allowed to the component's port besides
             its callers (e.g. the Istio ingress gateway)
The application chart builds the dict (shopmesh.workload) and loops over
the components; see helm/shopmesh/templates/.
*/}}

{{/* ------------------------------------------------------------ ConfigMap */}}
{{- define "shopmesh-lib.configData" -}}
{{- $p := include "shopmesh-lib.envPrefix" . }}
{{- $data := dict }}
{{- if eq .kind "grpc" }}
{{- $_ := set $data (print $p "HOST") "0.0.0.0" }}
{{- $_ := set $data (print $p "PORT") (toString .w.port) }}
{{- $_ := set $data (print $p "METRICS_HOST") "0.0.0.0" }}
{{- $_ := set $data (print $p "METRICS_PORT") (toString .ctx.Values.metrics.port) }}
{{- $_ := set $data (print $p "MIGRATE_ON_START") (ternary "false" "true" .w.migration.enabled) }}
{{- $_ := set $data (print $p "LOG_LEVEL") .w.logLevel }}
{{- $_ := set $data (print $p "LOG_JSON") "true" }}
{{- $_ := set $data (print $p "GRACE_PERIOD_SECONDS") (toString .w.gracePeriodSeconds) }}
{{- $_ := set $data (print $p "JWT_ISSUER") .ctx.Values.jwt.issuer }}
{{- $_ := set $data (print $p "JWT_AUDIENCE") .ctx.Values.jwt.audience }}
{{- with .ctx.Values.otel.endpoint }}
{{- $_ := set $data (print $p "OTEL_EXPORTER_OTLP_ENDPOINT") . }}
{{- end }}
{{- end }}
{{- range $k, $v := .env }}
{{- $_ := set $data $k (toString $v) }}
{{- end }}
{{- range $k, $v := .w.extraEnv }}
{{- $_ := set $data $k (toString $v) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{- define "shopmesh-lib.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
data:
  {{- include "shopmesh-lib.configData" . | nindent 2 }}
{{- end }}

{{/* ------------------------------------------------------------ ServiceAccount */}}
{{- define "shopmesh-lib.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
# No workload talks to the Kubernetes API: no token in the pods.
automountServiceAccountToken: false
{{- end }}

{{/* ------------------------------------------------------------ pod pieces */}}
{{- define "shopmesh-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .ctx.Values.securityContext.runAsUser }}
runAsGroup: {{ .ctx.Values.securityContext.runAsGroup }}
fsGroup: {{ .ctx.Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "shopmesh-lib.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .ctx.Values.securityContext.runAsUser }}
runAsGroup: {{ .ctx.Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Environment from existing Secrets: the database URL (grpc kind) and .secretEnv. */}}
{{- define "shopmesh-lib.secretEnv" -}}
{{- $p := include "shopmesh-lib.envPrefix" . }}
{{- if eq .kind "grpc" }}
- name: {{ $p }}DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "shopmesh-lib.secretName" (dict "ctx" .ctx "ref" .w.database) }}
      key: {{ .w.database.secretKey }}
{{- end }}
{{- range .secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "shopmesh-lib.secretName" (dict "ctx" $.ctx "ref" .ref) }}
      key: {{ .ref.key }}
{{- end }}
{{- range .w.extraSecretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- end }}

{{/* ------------------------------------------------------------ Deployment */}}
{{- define "shopmesh-lib.track" -}}
{{- .track | default "stable" }}
{{- end }}

{{/* The pod (and Deployment selector) labels: the component's, plus app and version. */}}
{{- define "shopmesh-lib.podSelectorLabels" -}}
{{ include "shopmesh-lib.componentSelectorLabels" . }}
app: {{ include "shopmesh-lib.componentFullname" . }}
version: {{ include "shopmesh-lib.track" . }}
{{- end }}

{{- define "shopmesh-lib.deployment" -}}
{{- $portName := ternary "grpc" "http" (eq .kind "grpc") }}
{{- $canary := eq (include "shopmesh-lib.track" .) "canary" }}
{{- $img := . }}
{{- if $canary }}
{{- $img = dict "ctx" .ctx "w" (dict "image" (dict "repository" .w.image.repository "tag" (required (printf "%s.canary.image.tag is required when %s.canary.enabled is true: the version the canary runs" .name .name) .w.canary.image.tag))) }}
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}{{ if $canary }}-canary{{ end }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
    version: {{ include "shopmesh-lib.track" . }}
spec:
  {{- if $canary }}
  replicas: {{ .w.canary.replicaCount }}
  {{- else if not .w.autoscaling.enabled }}
  replicas: {{ .w.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "shopmesh-lib.podSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include "shopmesh-lib.configData" . | sha256sum }}
        {{- if (.ctx.Values.istio | default dict).enabled }}
        {{- /* Prometheus is outside the mesh: under STRICT mTLS it could not
        scrape the metrics port through the sidecar. */}}
        traffic.sidecar.istio.io/excludeInboundPorts: {{ .ctx.Values.metrics.port | quote }}
        {{- end }}
        {{- with .w.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "shopmesh-lib.componentLabels" . | nindent 8 }}
        app: {{ include "shopmesh-lib.componentFullname" . }}
        version: {{ include "shopmesh-lib.track" . }}
    spec:
      serviceAccountName: {{ include "shopmesh-lib.componentFullname" . }}
      automountServiceAccountToken: false
      {{- with .ctx.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "shopmesh-lib.podSecurityContext" . | nindent 8 }}
      terminationGracePeriodSeconds: {{ include "shopmesh-lib.terminationGracePeriodSeconds" . }}
      {{- if .ctx.Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range .ctx.Values.topologySpread.topologyKeys }}
        - maxSkew: {{ $.ctx.Values.topologySpread.maxSkew }}
          topologyKey: {{ . }}
          whenUnsatisfiable: {{ $.ctx.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "shopmesh-lib.componentSelectorLabels" $ | nindent 14 }}
          matchLabelKeys: ["pod-template-hash"]
        {{- end }}
      {{- end }}
      {{- with .w.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .w.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "shopmesh-lib.image" $img | quote }}
          imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
          {{- if eq .kind "grpc" }}
          args: ["serve"]
          {{- end }}
          ports:
            - name: {{ $portName }}
              containerPort: {{ .w.port }}
              protocol: TCP
            - name: metrics
              containerPort: {{ .ctx.Values.metrics.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "shopmesh-lib.componentFullname" . }}
          {{- $secretEnv := include "shopmesh-lib.secretEnv" . | trim }}
          {{- if $secretEnv }}
          env:
            {{- $secretEnv | nindent 12 }}
          {{- end }}
          {{- if eq .kind "grpc" }}
          startupProbe:
            grpc:
              port: {{ .w.port }}
            periodSeconds: 2
            failureThreshold: 30
          readinessProbe:
            grpc:
              port: {{ .w.port }}
            periodSeconds: 5
            failureThreshold: 2
          livenessProbe:
            grpc:
              port: {{ .w.port }}
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          {{- else }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          {{- end }}
          lifecycle:
            preStop:
              # Keep serving while endpoints and proxies drop this pod; SIGTERM
              # (health NOT_SERVING, then the drain) follows the sleep.
              sleep:
                seconds: {{ .ctx.Values.lifecycle.preStopSleepSeconds }}
          resources:
            {{- toYaml .w.resources | nindent 12 }}
          securityContext:
            {{- include "shopmesh-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end }}

{{/* ------------------------------------------------------------ Service */}}
{{- define "shopmesh-lib.service" -}}
{{- $portName := ternary "grpc" "http" (eq .kind "grpc") }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "shopmesh-lib.componentSelectorLabels" . | nindent 4 }}
  ports:
    - name: {{ $portName }}
      port: {{ .w.port }}
      targetPort: {{ $portName }}
      protocol: TCP
      appProtocol: {{ $portName }}
    - name: metrics
      port: {{ .ctx.Values.metrics.port }}
      targetPort: metrics
      protocol: TCP
      appProtocol: http
{{- end }}

{{/* ------------------------------------------------------------ HPA */}}
{{- define "shopmesh-lib.hpa" -}}
{{- if .w.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "shopmesh-lib.componentFullname" . }}
  minReplicas: {{ .w.autoscaling.minReplicas }}
  maxReplicas: {{ .w.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .w.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}

{{/* ------------------------------------------------------------ PDB */}}
{{- define "shopmesh-lib.pdb" -}}
{{- if .w.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .w.pdb.maxUnavailable }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "shopmesh-lib.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* ------------------------------------------------------------ NetworkPolicy */}}
{{- define "shopmesh-lib.dnsEgress" -}}
- to:
    {{- toYaml .ctx.Values.networkPolicy.dns.to | nindent 4 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{- define "shopmesh-lib.databaseEgress" -}}
{{- $db := .ctx.Values.networkPolicy.database }}
{{- if not $db.to }}
{{- fail "networkPolicy.database.to is empty: list where the databases are (ipBlock CIDRs or namespace/pod selectors), or set networkPolicy.enabled=false" }}
{{- end }}
- to:
    {{- toYaml $db.to | nindent 4 }}
  ports:
    - port: {{ $db.port }}
      protocol: TCP
{{- end }}

{{- define "shopmesh-lib.networkpolicy" -}}
{{- if .ctx.Values.networkPolicy.enabled }}
{{- $np := .ctx.Values.networkPolicy }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
spec:
  # Default deny both ways for this workload; the rules below are the exceptions.
  podSelector:
    matchLabels:
      {{- include "shopmesh-lib.componentSelectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress", "Egress"]
  ingress:
    {{- $from := dig "networkPolicy" "from" list .w }}
    {{- if or .callers $from .extraFrom }}
    - from:
        {{- range .callers }}
        - podSelector:
            matchLabels:
              {{- include "shopmesh-lib.componentSelectorLabels" (dict "ctx" $.ctx "name" .) | nindent 14 }}
        {{- end }}
        {{- with $from }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with .extraFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - port: {{ .w.port }}
          protocol: TCP
    {{- end }}
    {{- if $np.monitoring.from }}
    - from:
        {{- toYaml $np.monitoring.from | nindent 8 }}
      ports:
        - port: {{ .ctx.Values.metrics.port }}
          protocol: TCP
        {{- if (.ctx.Values.istio | default dict).enabled }}
        # The Istio agent's merged metrics (Envoy's istio_requests_total, which
        # Flagger's gates query).
        - port: 15020
          protocol: TCP
        {{- end }}
    {{- end }}
  egress:
    {{- include "shopmesh-lib.dnsEgress" . | trim | nindent 4 }}
    {{- range .calls }}
    - to:
        - podSelector:
            matchLabels:
              {{- include "shopmesh-lib.componentSelectorLabels" (dict "ctx" $.ctx "name" .) | nindent 14 }}
      ports:
        - port: {{ (index $.ctx.Values .).port }}
          protocol: TCP
    {{- end }}
    {{- if eq .kind "grpc" }}
    {{- include "shopmesh-lib.databaseEgress" . | trim | nindent 4 }}
    {{- end }}
    {{- with $np.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}

{{/* ------------------------------------------------------------ ServiceMonitor */}}
{{- define "shopmesh-lib.servicemonitor" -}}
{{- $sm := .ctx.Values.metrics.serviceMonitor }}
{{- if $sm.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "shopmesh-lib.componentFullname" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" . | nindent 4 }}
    {{- with $sm.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "shopmesh-lib.componentSelectorLabels" . | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ $sm.interval }}
      scrapeTimeout: {{ $sm.scrapeTimeout }}
{{- end }}
{{- end }}

{{/* ------------------------------------------------------------ migration Job */}}
{{/*
Runs `python -m shopmesh_<svc> migrate` before install and before every
upgrade; the Deployment then starts with MIGRATE_ON_START=false. Hooks run
before the release's ordinary resources exist, so the Job carries its own
environment (no ConfigMap), uses the namespace's default ServiceAccount
without a token, and gets its own NetworkPolicy (a hook of lower weight):
DNS and the database only.
*/}}
{{- define "shopmesh-lib.migrationName" -}}
{{- printf "%s-migrate" (include "shopmesh-lib.componentFullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "shopmesh-lib.migrationJob" -}}
{{- if and (eq .kind "grpc") .w.migration.enabled }}
{{- $p := include "shopmesh-lib.envPrefix" . }}
{{- $job := dict "ctx" .ctx "name" (printf "%s-migrate" .name) }}
{{- if .ctx.Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "shopmesh-lib.migrationName" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" $job | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  podSelector:
    matchLabels:
      {{- include "shopmesh-lib.componentSelectorLabels" $job | nindent 6 }}
  policyTypes: ["Ingress", "Egress"]
  ingress: []
  egress:
    {{- include "shopmesh-lib.dnsEgress" . | trim | nindent 4 }}
    {{- include "shopmesh-lib.databaseEgress" . | trim | nindent 4 }}
---
{{- end }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "shopmesh-lib.migrationName" . }}
  labels:
    {{- include "shopmesh-lib.componentLabels" $job | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    # A failed Job stays for `kubectl logs` until the next attempt replaces it.
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ .w.migration.backoffLimit }}
  activeDeadlineSeconds: {{ .w.migration.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "shopmesh-lib.componentLabels" $job | nindent 8 }}
      annotations:
        sidecar.istio.io/inject: "false"
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      {{- with .ctx.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "shopmesh-lib.podSecurityContext" . | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "shopmesh-lib.image" . | quote }}
          imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
          args: ["migrate"]
          env:
            - name: {{ $p }}LOG_LEVEL
              value: {{ .w.logLevel | quote }}
            - name: {{ $p }}LOG_JSON
              value: "true"
            - name: {{ $p }}DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {{ include "shopmesh-lib.secretName" (dict "ctx" .ctx "ref" .w.database) }}
                  key: {{ .w.database.secretKey }}
          resources:
            {{- toYaml .w.migration.resources | nindent 12 }}
          securityContext:
            {{- include "shopmesh-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end }}
{{- end }}
