{{/*
Who calls whom: a fact of the code (each service's *_service_target settings
and the gateway's upstreams), not a setting. It drives the *_TARGET
environment, NetworkPolicy egress to the callees and ingress from the callers.
*/}}
{{- define "shopmesh.calls" -}}
gateway: [auth, user, product, order]
auth: [user]
user: [auth]
product: [auth]
order: [auth, product]
{{- end }}

{{/* The components in install order. */}}
{{- define "shopmesh.components" -}}
[auth, user, product, order, gateway]
{{- end }}

{{/* Enabled components that `name` calls. */}}
{{- define "shopmesh.callsOf" -}}
{{- $calls := include "shopmesh.calls" .ctx | fromYaml }}
{{- $out := list }}
{{- range (index $calls .name) }}
{{- if (index $.ctx.Values .).enabled }}{{ $out = append $out . }}{{ end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* Enabled components that call `name`. */}}
{{- define "shopmesh.callersOf" -}}
{{- $calls := include "shopmesh.calls" .ctx | fromYaml }}
{{- $out := list }}
{{- range (include "shopmesh.components" .ctx | fromYamlArray) }}
{{- if and (has $.name (index $calls .)) (index $.ctx.Values .).enabled }}{{ $out = append $out . }}{{ end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* "<service>:<port>" of a component, as a gRPC target. */}}
{{- define "shopmesh.target" -}}
{{- printf "%s:%v" (include "shopmesh-lib.componentFullname" .) (index .ctx.Values .name).port }}
{{- end }}

{{/*
The dict the library's workload templates take (see shopmesh-lib/_workload.tpl).
Input: (dict "ctx" $ "name" "auth"). Output: JSON of everything but ctx and w
(the caller sets them back, so values keep their types).
*/}}
{{- define "shopmesh.workload" -}}
{{- $ctx := .ctx }}
{{- $name := .name }}
{{- $w := index $ctx.Values $name }}
{{- $calls := include "shopmesh.callsOf" . | fromJsonArray }}
{{- $env := dict }}
{{- $secretEnv := list }}
{{- if eq $name "gateway" }}
{{- $_ := set $env "SHOPMESH_GATEWAY_ADDR" (printf "0.0.0.0:%v" $w.port) }}
{{- $_ := set $env "SHOPMESH_GATEWAY_METRICS_ADDR" (printf "0.0.0.0:%v" $ctx.Values.metrics.port) }}
{{- $_ := set $env "SHOPMESH_GATEWAY_LOG_LEVEL" $w.logLevel }}
{{- $_ := set $env "SHOPMESH_GATEWAY_SHUTDOWN_TIMEOUT" (printf "%vs" $w.gracePeriodSeconds) }}
{{- $_ := set $env "SHOPMESH_GATEWAY_REQUEST_TIMEOUT" $w.requestTimeout }}
{{- $_ := set $env "SHOPMESH_GATEWAY_READY_TIMEOUT" $w.readyTimeout }}
{{- $_ := set $env "SHOPMESH_GATEWAY_MAX_BODY_BYTES" (toString (int64 $w.maxBodyBytes)) }}
{{- $_ := set $env "SHOPMESH_GATEWAY_CORS_ORIGINS" (join "," $w.corsOrigins) }}
{{- $_ := set $env "SHOPMESH_GATEWAY_TRUST_FORWARDED_FOR" (toString $w.trustForwardedFor) }}
{{- with $ctx.Values.otel.endpoint }}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . }}
{{- end }}
{{- range $calls }}
{{- $_ := set $env (printf "SHOPMESH_GATEWAY_%s_TARGET" (upper .)) (include "shopmesh.target" (dict "ctx" $ctx "name" .)) }}
{{- end }}
{{- else }}
{{- $p := printf "SHOPMESH_%s_" (upper $name) }}
{{- /* The kit's auth target (JWKS, service tokens); an empty host when auth is not in this release. */}}
{{- if $ctx.Values.auth.enabled }}
{{- $_ := set $env (print $p "AUTH_SERVICE_TARGET") (include "shopmesh.target" (dict "ctx" $ctx "name" "auth")) }}
{{- end }}
{{- range $calls }}
{{- if ne . "auth" }}
{{- $_ := set $env (printf "%s%s_SERVICE_TARGET" $p (upper .)) (include "shopmesh.target" (dict "ctx" $ctx "name" .)) }}
{{- end }}
{{- end }}
{{- if eq $name "auth" }}
{{- $secretEnv = append $secretEnv (dict "name" "SHOPMESH_AUTH_SERVICE_SECRETS" "ref" $w.serviceSecrets) }}
{{- end }}
{{- if eq $name "order" }}
{{- $secretEnv = append $secretEnv (dict "name" "SHOPMESH_ORDER_SERVICE_SECRET" "ref" $w.serviceSecret) }}
{{- end }}
{{- end }}
{{- toJson (dict
  "name" $name
  "kind" (ternary "http" "grpc" (eq $name "gateway"))
  "calls" $calls
  "callers" (include "shopmesh.callersOf" . | fromJsonArray)
  "env" $env
  "secretEnv" $secretEnv) }}
{{- end }}

{{/*
Render one library template for every enabled component:
(dict "ctx" $ "template" "shopmesh-lib.deployment").
*/}}
{{- define "shopmesh.each" -}}
{{- $ctx := .ctx }}
{{- $tpl := .template }}
{{- range (include "shopmesh.components" $ctx | fromYamlArray) }}
{{- if (index $ctx.Values .).enabled }}
{{- $wl := include "shopmesh.workload" (dict "ctx" $ctx "name" .) | fromJson }}
{{- $_ := set $wl "ctx" $ctx }}
{{- $_ := set $wl "w" (index $ctx.Values .) }}
{{- $out := include $tpl $wl }}
{{- if trim $out }}
---
{{ $out }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
