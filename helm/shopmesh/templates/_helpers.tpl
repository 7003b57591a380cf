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
{{- /* Native gRPC from the edge reaches the public services directly. */}}
{{- $extraFrom := list }}
{{- if and $ctx.Values.istio.enabled $ctx.Values.ingress.enabled (ne $name "gateway") }}
{{- $extraFrom = $ctx.Values.ingress.networkPolicy.from }}
{{- end }}
{{- toJson (dict
  "extraFrom" $extraFrom
  "name" $name
  "kind" (ternary "http" "grpc" (eq $name "gateway"))
  "calls" $calls
  "callers" (include "shopmesh.callersOf" . | fromJsonArray)
  "env" $env
  "secretEnv" $secretEnv) }}
{{- end }}

{{/*
Render one library template for every enabled component:
(dict "ctx" $ "template" "shopmesh-lib.deployment"); with "skipFlagger" true,
not for the components whose canary Flagger manages (it owns their Service).
*/}}
{{- define "shopmesh.each" -}}
{{- $ctx := .ctx }}
{{- $tpl := .template }}
{{- $skipFlagger := .skipFlagger }}
{{- range (include "shopmesh.components" $ctx | fromYamlArray) }}
{{- $flagger := and (ne . "gateway") (eq (include "shopmesh.trafficMode" (dict "ctx" $ctx "name" .)) "flagger") }}
{{- if and (index $ctx.Values .).enabled (not (and $skipFlagger $flagger)) }}
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

{{/*
gRPC services per component, as facts of the protos (proto/shopmesh/<svc>/v1):
  public      the service the edge exposes (every RPC has a REST binding too)
  internal    service-to-service RPCs; never routed from the ingress
  idempotent  paths the mesh may retry: `exact` methods or a `prefix` whose
              every method is idempotent (Get and List methods, GetJwks, CreateUser on
              user_id, the reservations on the order id). Every other path is
              not retried.
*/}}
{{- define "shopmesh.grpcServices" -}}
auth:
  public: shopmesh.auth.v1.AuthService
  internal: shopmesh.auth.v1.AuthInternalService
  idempotent:
    - exact: /shopmesh.auth.v1.AuthService/GetJwks
user:
  public: shopmesh.user.v1.UserService
  internal: shopmesh.user.v1.UserInternalService
  idempotent:
    - exact: /shopmesh.user.v1.UserService/GetUser
    - exact: /shopmesh.user.v1.UserService/ListUsers
    - exact: /shopmesh.user.v1.UserInternalService/CreateUser
product:
  public: shopmesh.product.v1.ProductService
  internal: shopmesh.product.v1.ProductInternalService
  idempotent:
    - exact: /shopmesh.product.v1.ProductService/GetProduct
    - exact: /shopmesh.product.v1.ProductService/ListProducts
    - prefix: /shopmesh.product.v1.ProductInternalService/
order:
  public: shopmesh.order.v1.OrderService
  idempotent:
    - exact: /shopmesh.order.v1.OrderService/GetOrder
    - exact: /shopmesh.order.v1.OrderService/ListOrders
{{- end }}

{{/* The gRPC components, in install order. */}}
{{- define "shopmesh.grpcComponents" -}}
[auth, user, product, order]
{{- end }}

{{/*
How a component's traffic is managed, after checking its values:
"flagger" (a Flagger Canary owns the Service, routing and canary Deployment),
"istio" (this chart renders DestinationRule and VirtualService) or "none".
Input: (dict "ctx" $ "name" "order").
*/}}
{{- define "shopmesh.trafficMode" -}}
{{- $w := index .ctx.Values .name }}
{{- $c := $w.canary }}
{{- if and $c.enabled $c.flagger.enabled }}
{{- fail (printf "%s.canary.enabled and %s.canary.flagger.enabled are mutually exclusive: Flagger creates and moves its own canary; enable one of them" .name .name) }}
{{- end }}
{{- if and (or $c.enabled $c.flagger.enabled) (not .ctx.Values.istio.enabled) }}
{{- fail (printf "%s.canary needs istio.enabled=true: the traffic split is done by Istio" .name) }}
{{- end }}
{{- if $c.flagger.enabled }}flagger{{ else if .ctx.Values.istio.enabled }}istio{{ else }}none{{ end }}
{{- end }}
