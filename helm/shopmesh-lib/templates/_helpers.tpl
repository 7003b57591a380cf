{{/*
Name helpers as `helm create` scaffolds them; they take the root context.
*/}}

{{/* Expand the name of the chart. */}}
{{- define "shopmesh-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name. Truncated at 63 characters because
some Kubernetes name fields are limited to this (by the DNS naming spec). If
the release name contains the chart name it is used as the full name.
*/}}
{{- define "shopmesh-lib.fullname" -}}
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

{{/* Create chart name and version as used by the chart label. */}}
{{- define "shopmesh-lib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "shopmesh-lib.labels" -}}
helm.sh/chart: {{ include "shopmesh-lib.chart" . }}
{{ include "shopmesh-lib.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shopmesh
{{- end }}

{{/* Selector labels. */}}
{{- define "shopmesh-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shopmesh-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Per-component helpers. They take a workload dict (see _workload.tpl):
  ctx   the root context
  name  the component (auth, user, product, order, gateway)
*/}}

{{/* <fullname>-<component>, at most 63 characters. */}}
{{- define "shopmesh-lib.componentFullname" -}}
{{- printf "%s-%s" (include "shopmesh-lib.fullname" .ctx | trunc (int (sub 62 (len .name))) | trimSuffix "-") .name }}
{{- end }}

{{- define "shopmesh-lib.componentSelectorLabels" -}}
{{ include "shopmesh-lib.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "shopmesh-lib.componentLabels" -}}
{{ include "shopmesh-lib.labels" .ctx }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* SHOPMESH_<SVC>_ */}}
{{- define "shopmesh-lib.envPrefix" -}}
{{- printf "SHOPMESH_%s_" (upper .name) }}
{{- end }}

{{/* The image reference: [<registry>/]<repository>:<tag>. */}}
{{- define "shopmesh-lib.image" -}}
{{- $g := .ctx.Values.image }}
{{- $tag := .w.image.tag | default $g.tag | default .ctx.Chart.AppVersion }}
{{- if $g.registry }}
{{- printf "%s/%s:%s" $g.registry .w.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .w.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Seconds Kubernetes waits after the preStop hook starts before SIGKILL: the
preStop sleep (endpoints drop the pod meanwhile), then the service's own drain
(grpc `server.stop(grace)`, the gateway's shutdown timeout), plus a margin.
*/}}
{{- define "shopmesh-lib.terminationGracePeriodSeconds" -}}
{{- add (int .ctx.Values.lifecycle.preStopSleepSeconds) (int (ceil .w.gracePeriodSeconds)) (int .ctx.Values.lifecycle.terminationMarginSeconds) }}
{{- end }}

{{/* The name of the Secret holding `ref.key`; an empty `ref.existingSecret` means database.existingSecret. */}}
{{- define "shopmesh-lib.secretName" -}}
{{- $global := required "database.existingSecret is required: name an existing Secret (rendered by Vault or External Secrets) that holds the database URLs" .ctx.Values.database.existingSecret }}
{{- .ref.existingSecret | default $global }}
{{- end }}
