{{/*
The trafficPolicy of every gRPC service: Istio mTLS (PeerAuthentication is
STRICT mesh-wide), connection pools and outlier detection from istio.*.
Shared by the chart's DestinationRules and Flagger's generated ones.
Flagger's Canary schema (v1.36) has no connectionPool.tcp, and the API
server would silently prune it, so Flagger's policy leaves it out.
Input: (dict "ctx" $ "tcp" true|false).
*/}}
{{- define "shopmesh.trafficPolicy" -}}
{{- $p := .ctx.Values.istio -}}
tls:
  mode: ISTIO_MUTUAL
connectionPool:
  {{- if .tcp }}
  tcp:
    maxConnections: {{ $p.connectionPool.maxConnections }}
  {{- end }}
  http:
    http2MaxRequests: {{ $p.connectionPool.http2MaxRequests }}
    maxRequestsPerConnection: {{ $p.connectionPool.maxRequestsPerConnection }}
outlierDetection:
  consecutive5xxErrors: {{ $p.outlierDetection.consecutive5xxErrors }}
  consecutiveGatewayErrors: {{ $p.outlierDetection.consecutiveGatewayErrors }}
  interval: {{ $p.outlierDetection.interval }}
  baseEjectionTime: {{ $p.outlierDetection.baseEjectionTime }}
  maxEjectionPercent: {{ $p.outlierDetection.maxEjectionPercent }}
{{- end }}

{{/*
The retry policy of a route. Retries live at this one layer, and only on the
idempotent paths (shopmesh.grpcServices); every other route says attempts 0,
because Istio retries by default (2 attempts, also on `unavailable`) and a
retried CreateOrder or RestockProduct could apply twice.
Input: (dict "ctx" $ "idempotent" true).
*/}}
{{- define "shopmesh.retries" -}}
{{- $r := .ctx.Values.istio.retries }}
{{- if and .idempotent (gt (int $r.attempts) 0) }}
attempts: {{ $r.attempts }}
{{- with $r.perTryTimeout }}
perTryTimeout: {{ . }}
{{- end }}
retryOn: {{ $r.retryOn | quote }}
{{- else }}
attempts: 0
{{- end }}
{{- end }}

{{/*
The HTTP routes of one gRPC service, as YAML (see istio-virtualservice.yaml
for their order and why). Input: (dict "ctx" $ "name" "order" "prefix" P):
with a prefix (the ingress) every route also requires `uri.prefix: P`, only
the idempotent paths under P are kept and route names start with "<name>-".
Under Flagger: one route to the apex Service (Flagger moves weights in the
mesh only, so native gRPC from the edge reaches the primary) with attempts 0.
*/}}
{{- define "shopmesh.serviceRoutes" -}}
{{- $ctx := .ctx }}
{{- $w := index $ctx.Values .name }}
{{- $wl := dict "ctx" $ctx "name" .name }}
{{- $mode := include "shopmesh.trafficMode" $wl }}
{{- $host := include "shopmesh-lib.componentFullname" $wl }}
{{- $prefix := .prefix | default "" }}
{{- $np := ternary (printf "%s-" .name) "" (ne $prefix "") }}
{{- $idem := list }}
{{- range (index (include "shopmesh.grpcServices" $ctx | fromYaml) .name).idempotent }}
{{- if hasPrefix $prefix (.exact | default .prefix) }}{{ $idem = append $idem (dict "uri" .) }}{{ end }}
{{- end }}
{{- $all := ternary (list (dict "uri" (dict "prefix" $prefix))) list (ne $prefix "") }}
{{- $h := $ctx.Values.istio.canaryHeader }}
{{- $hdr := dict $h.name (dict "exact" $h.value) }}
{{- $retry := include "shopmesh.retries" (dict "ctx" $ctx "idempotent" true) | fromYaml }}
{{- $noRetry := dict "attempts" 0 }}
{{- $routes := list }}
{{- if eq $mode "flagger" }}
{{- $r := dict "name" (print $np "flagger") "route" (list (dict "destination" (dict "host" $host))) "retries" $noRetry }}
{{- with $all }}{{ $_ := set $r "match" . }}{{ end }}
{{- $routes = append $routes $r }}
{{- else }}
{{- $canary := $w.canary.enabled }}
{{- $weight := int $w.canary.weight }}
{{- $toCanary := list (dict "destination" (dict "host" $host "subset" "canary")) }}
{{- $split := list (dict "destination" (dict "host" $host "subset" "stable") "weight" (ternary (sub 100 $weight) 100 $canary)) }}
{{- if $canary }}
{{- $split = append $split (dict "destination" (dict "host" $host "subset" "canary") "weight" $weight) }}
{{- if $idem }}
{{- $m := list }}
{{- range $idem }}{{ $m = append $m (merge (dict "headers" $hdr) .) }}{{ end }}
{{- $routes = append $routes (dict "name" (print $np "canary-header-idempotent") "match" $m "route" $toCanary "retries" $retry) }}
{{- end }}
{{- $m := list (dict "headers" $hdr) }}
{{- if $all }}{{ $m = list (merge (dict "headers" $hdr) (first $all)) }}{{ end }}
{{- $routes = append $routes (dict "name" (print $np "canary-header") "match" $m "route" $toCanary "retries" $noRetry) }}
{{- end }}
{{- if $idem }}
{{- $routes = append $routes (dict "name" (print $np "idempotent") "match" $idem "route" $split "retries" $retry) }}
{{- end }}
{{- $r := dict "name" (print $np "default") "route" $split "retries" $noRetry }}
{{- with $all }}{{ $_ := set $r "match" . }}{{ end }}
{{- $routes = append $routes $r }}
{{- end }}
{{- toYaml $routes }}
{{- end }}
