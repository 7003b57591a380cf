// Package envoy_test checks envoy.yaml, the Envoy edge, without running Envoy.
//
// The YAML must load strictly into Envoy's v3 API types (an unknown field or
// an unregistered typed_config type fails, as it does in Envoy), pass their
// protoc-gen-validate rules everywhere, typed_config included, use no
// deprecated field, and agree with the descriptor set and the services: every
// public service is transcoded and routed to its own port, no internal
// service is reachable, every cluster speaks HTTP/2 and is health checked.
package envoy_test

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	bufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	transcoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"

	// Every other typed_config type envoy.yaml uses: importing a package
	// registers its types, so the Any values resolve (the ones above are
	// imported by name for the checks).
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
)

const (
	configFile = "envoy.yaml"
	// descriptorSetFile is the committed descriptor set. SHOPMESH_DESCRIPTOR_SET
	// overrides it, to try a candidate before `make gen`.
	descriptorSetFile = "../../gen/descriptors/shopmesh.binpb"
	// descriptorMount is where the container sees it (README.md).
	descriptorMount = "/etc/envoy/shopmesh.binpb"

	transcoderName  = "envoy.filters.http.grpc_json_transcoder"
	routerName      = "envoy.filters.http.router"
	bufferName      = "envoy.filters.http.buffer"
	corsName        = "envoy.filters.http.cors"
	healthCheckName = "envoy.filters.http.health_check"
	rateLimitName   = "envoy.filters.http.local_ratelimit"
	http2Options    = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

	maxRequestBytes = 1 << 20 // the grpc-gateway edge's limit too
	routeTimeout    = 10 * time.Second
)

// mounts: the files README.md's `docker run` mounts, by container path.
var mounts = map[string]string{
	descriptorMount:                    descriptorSetFile,
	"/etc/envoy/shopmesh.swagger.json": "../../gen/openapi/shopmesh.swagger.json",
}

// servicePorts: each public service and the port its deployable listens on
// (services/<svc>/src/shopmesh_<svc>/settings.py).
var servicePorts = map[string]uint32{
	"shopmesh.auth.v1.AuthService":       50051,
	"shopmesh.user.v1.UserService":       50052,
	"shopmesh.product.v1.ProductService": 50053,
	"shopmesh.order.v1.OrderService":     50054,
}

// statusDetailTypes are the google.rpc.Status details the services send
// (services/kit/src/shopmesh_kit/interceptors.py).
var statusDetailTypes = []string{"google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.RetryInfo"}

func TestEnvoyConfigIsValid(t *testing.T) {
	b := loadConfig(t)
	for _, problem := range check(b, loadAPI(t)) {
		t.Error(problem)
	}
}

// With convert_grpc_status the transcoder renders google.rpc.Status itself,
// but the details inside it (packed as Any) only with types from the
// descriptor set. Without them the error reaches a REST caller with an empty
// body, the status and message left in grpc-status/grpc-message headers.
func TestDescriptorSetCanRenderStatusDetails(t *testing.T) {
	api := loadAPI(t)
	for _, name := range statusDetailTypes {
		if _, err := api.files.FindDescriptorByName(protoreflect.FullName(name)); err != nil {
			t.Errorf("%s is not in the descriptor set: error bodies through Envoy would be empty "+
				"(build it with google/rpc/error_details.proto, see README.md)", name)
		}
	}
}

// Each case breaks one thing; the checks must say so. The untouched config
// passes (TestEnvoyConfigIsValid), so each failure is the mutation's.
func TestChecksRejectBrokenConfigs(t *testing.T) {
	api := loadAPI(t)
	base := loadConfig(t)
	doc, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}

	// Mistakes that Envoy's parser rejects: made in the parsed YAML tree,
	// because the typed config cannot even hold them.
	parseCases := []struct {
		name   string
		mutate func(tree map[string]any)
		want   string
	}{
		{"misspelt field", func(tree map[string]any) {
			rename(firstCluster(tree), "connect_timeout", "conect_timeout")
		}, `unknown field "conect_timeout"`},
		{"misspelt field inside a typed_config", func(tree map[string]any) {
			rename(httpFilterConfig(tree, transcoderName), "convert_grpc_status", "convert_grpc_stauts")
		}, `unknown field "convert_grpc_stauts"`},
		{"misspelt enum value", func(tree map[string]any) {
			firstCluster(tree)["lb_policy"] = "ROUND_ROBBIN"
		}, "ROUND_ROBBIN"},
		{"typed_config type that does not exist", func(tree map[string]any) {
			httpFilterConfig(tree, bufferName)["@type"] = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Bufer"
		}, `unable to resolve "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Bufer"`},
	}
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			var tree map[string]any
			if err := yaml.Unmarshal(doc, &tree); err != nil {
				t.Fatal(err)
			}
			tc.mutate(tree)
			mutated, err := yaml.Marshal(tree)
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseConfig(mutated)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}

	// Mistakes that parse but are wrong: made in the typed config.
	checkCases := []struct {
		name   string
		mutate func(t *testing.T, b *bootstrapv3.Bootstrap)
		want   string
	}{
		{"internal service transcoded", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editTranscoder(t, b, func(tc *transcoderv3.GrpcJsonTranscoder) {
				tc.Services = append(tc.Services, "shopmesh.product.v1.ProductInternalService")
			})
		}, "internal service shopmesh.product.v1.ProductInternalService is transcoded"},
		{"public service not transcoded", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editTranscoder(t, b, func(tc *transcoderv3.GrpcJsonTranscoder) {
				tc.Services = slices.DeleteFunc(tc.Services, func(s string) bool { return s == "shopmesh.order.v1.OrderService" })
			})
		}, "public service shopmesh.order.v1.OrderService is not transcoded"},
		{"service not in the descriptor set", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editTranscoder(t, b, func(tc *transcoderv3.GrpcJsonTranscoder) {
				tc.Services = append(tc.Services, "shopmesh.cart.v1.CartService")
			})
		}, "shopmesh.cart.v1.CartService is not in the descriptor set"},
		{"methods without an HTTP binding transcoded", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editTranscoder(t, b, func(tc *transcoderv3.GrpcJsonTranscoder) { tc.AutoMapping = true })
		}, "auto_mapping"},
		{"cluster on a wrong port", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			setPort(cluster(t, b, "product"), 50055)
		}, "cluster product: endpoint port 50055 is not a service port"},
		{"service routed to another service's cluster", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editRoutes(t, b, func(vh *routev3.VirtualHost) {
				namedRoute(t, vh, "product").GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "user"}
			})
		}, "shopmesh.product.v1.ProductService is routed to cluster user on port 50052, want 50053"},
		{"route to an undefined cluster", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editRoutes(t, b, func(vh *routev3.VirtualHost) {
				namedRoute(t, vh, "auth").GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "authz"}
			})
		}, `names undefined cluster "authz"`},
		{"internal service reachable through a catch-all route", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editRoutes(t, b, func(vh *routev3.VirtualHost) {
				namedRoute(t, vh, "not-found").Action = &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "product"},
				}}
			})
		}, "internal method /shopmesh.product.v1.ProductInternalService/ReserveStock reaches cluster product"},
		{"REST paths match no route before transcoding", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editRoutes(t, b, func(vh *routev3.VirtualHost) {
				vh.Routes = slices.DeleteFunc(vh.Routes, func(r *routev3.Route) bool { return r.GetName() == "not-found" })
			})
		}, "REST path /v1/products/x:restock (shopmesh.product.v1.ProductService.RestockProduct) matches no route"},
		{"cluster without HTTP/2", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			cluster(t, b, "order").TypedExtensionProtocolOptions = nil
		}, "cluster order: not explicitly HTTP/2"},
		{"cluster without a gRPC health check", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			cluster(t, b, "user").HealthChecks = nil
		}, "cluster user: no gRPC health check"},
		{"health check without an interval (a validation rule)", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			cluster(t, b, "user").HealthChecks[0].Interval = nil
		}, "Interval: value is required"},
		{"validation rule inside a typed_config", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHTTPFilter(t, b, bufferName, func(buf *bufferv3.Buffer) { buf.MaxRequestBytes = wrapperspb.UInt32(0) })
		}, "MaxRequestBytes: value must be greater than 0"},
		{"deprecated field", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			cluster(t, b, "auth").Http2ProtocolOptions = &corev3.Http2ProtocolOptions{}
		}, "clusters[0].http2_protocol_options is deprecated"},
		{"deprecated field inside a typed_config", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editRoutes(t, b, func(vh *routev3.VirtualHost) { vh.Cors = &routev3.CorsPolicy{} })
		}, "virtual_hosts[0].cors is deprecated"},
		{"/healthz answered by the transcoder", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editRoutes(t, b, func(vh *routev3.VirtualHost) { namedRoute(t, vh, "healthz").TypedPerFilterConfig = nil })
		}, "/healthz: the transcoder is not disabled"},
		{"OpenAPI document larger than a direct response may be", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHCM(t, b, func(hcm *hcmv3.HttpConnectionManager) { hcm.GetRouteConfig().MaxDirectResponseBodySizeBytes = nil })
		}, "more than max_direct_response_body_size_bytes (4096)"},
		{"no /openapi.json", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editRoutes(t, b, func(vh *routev3.VirtualHost) {
				vh.Routes = slices.DeleteFunc(vh.Routes, func(r *routev3.Route) bool { return r.GetName() == "openapi" })
			})
		}, "/openapi.json: want a direct 200 response"},
		{"body limit after the transcoder", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHCM(t, b, func(hcm *hcmv3.HttpConnectionManager) {
				i := slices.IndexFunc(hcm.HttpFilters, func(f *hcmv3.HttpFilter) bool { return f.GetName() == bufferName })
				buffer := hcm.HttpFilters[i]
				hcm.HttpFilters = slices.Delete(hcm.HttpFilters, i, i+1)
				hcm.HttpFilters = slices.Insert(hcm.HttpFilters, len(hcm.HttpFilters)-1, buffer)
			})
		}, "envoy.filters.http.buffer must come before envoy.filters.http.grpc_json_transcoder"},
		{"rate limit never enforced", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHTTPFilter(t, b, rateLimitName, func(rl *localratelimitv3.LocalRateLimit) { rl.FilterEnforced = nil })
		}, "local rate limit: filter_enabled and filter_enforced"},
		{"readiness ignores a cluster", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHTTPFilter(t, b, healthCheckName, func(hc *healthcheckv3.HealthCheck) {
				delete(hc.ClusterMinHealthyPercentages, "order")
			})
		}, "/readyz does not wait for cluster order"},
	}
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			b := proto.Clone(base).(*bootstrapv3.Bootstrap)
			tc.mutate(t, b)
			problems := check(b, api)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Fatalf("no problem mentions %q; got:\n%s", tc.want, strings.Join(problems, "\n"))
			}
		})
	}
}

// ---------------------------------------------------------------- loading

func loadConfig(t *testing.T) *bootstrapv3.Bootstrap {
	t.Helper()
	doc, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseConfig(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseConfig reads an Envoy bootstrap as Envoy does: YAML to JSON, then the
// proto3 JSON mapping, rejecting unknown fields and unknown Any types.
func parseConfig(doc []byte) (*bootstrapv3.Bootstrap, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(j, b); err != nil {
		return nil, err
	}
	return b, nil
}

// api is what the descriptor set says about the services.
type api struct {
	files    *protoregistry.Files
	services map[string]protoreflect.ServiceDescriptor
	public   []string // services with at least one google.api.http binding
}

func loadAPI(t *testing.T) *api {
	t.Helper()
	path := descriptorSetFile
	if p := os.Getenv("SHOPMESH_DESCRIPTOR_SET"); p != "" {
		path = p
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make gen`)", err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		t.Fatal(err)
	}
	files, err := protodesc.NewFiles(set) // fails if an import is missing
	if err != nil {
		t.Fatal(err)
	}
	a := &api{files: files, services: map[string]protoreflect.ServiceDescriptor{}}
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		for i := range f.Services().Len() {
			sd := f.Services().Get(i)
			a.services[string(sd.FullName())] = sd
			if slices.ContainsFunc(methods(sd), func(m protoreflect.MethodDescriptor) bool { return httpRule(m) != nil }) {
				a.public = append(a.public, string(sd.FullName()))
			}
		}
		return true
	})
	slices.Sort(a.public)
	if len(a.public) == 0 {
		t.Fatal("no service in the descriptor set has a google.api.http binding")
	}
	return a
}

func methods(sd protoreflect.ServiceDescriptor) []protoreflect.MethodDescriptor {
	ms := make([]protoreflect.MethodDescriptor, sd.Methods().Len())
	for i := range ms {
		ms[i] = sd.Methods().Get(i)
	}
	return ms
}

func httpRule(m protoreflect.MethodDescriptor) *annotations.HttpRule {
	opts, ok := m.Options().(*descriptorpb.MethodOptions)
	if !ok || !proto.HasExtension(opts, annotations.E_Http) {
		return nil
	}
	return proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule)
}

// ---------------------------------------------------------------- checks

// edge is the parts of the bootstrap the checks look at.
type edge struct {
	hcm        *hcmv3.HttpConnectionManager
	filters    map[string]proto.Message // HTTP filter name -> unpacked config
	order      []string                 // HTTP filter names, in order
	transcoder *transcoderv3.GrpcJsonTranscoder
	vhost      *routev3.VirtualHost
	clusters   map[string]*clusterv3.Cluster
}

type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// check returns everything wrong with b; nil means Envoy would load it and it
// is the edge we want.
func check(b *bootstrapv3.Bootstrap, a *api) []string {
	var p problems
	validateTree(b, "bootstrap", &p)
	e, err := edgeOf(b)
	if err != nil {
		p.add("%v", err)
		return p
	}
	checkListenerAndAdmin(b, &p)
	checkMountedFiles(e, &p)
	checkTranscoder(e, a, &p)
	checkFilters(e, &p)
	serviceClusters := checkRoutes(e, a, &p)
	checkClusters(e, serviceClusters, &p)
	return p
}

// validateTree runs the protoc-gen-validate rules of m and of every Any
// inside it (ValidateAll does not look into Any), and flags deprecated fields
// and enum values, which Envoy warns about and may refuse.
func validateTree(m proto.Message, at string, p *problems) {
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			p.add("%s: %v", at, err)
		}
	}
	walk(m.ProtoReflect(), at, p)
}

func walk(m protoreflect.Message, at string, p *problems) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			p.add("%s: %v", at, err)
			return
		}
		validateTree(inner, fmt.Sprintf("%s(%s)", at, inner.ProtoReflect().Descriptor().Name()), p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		here := at + "." + string(fd.Name())
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDeprecated() {
			p.add("%s is deprecated", here)
		}
		switch {
		case fd.IsList():
			for i := range v.List().Len() {
				walkValue(fd, v.List().Get(i), fmt.Sprintf("%s[%d]", here, i), p)
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				walkValue(fd.MapValue(), mv, fmt.Sprintf("%s[%v]", here, k.Interface()), p)
				return true
			})
		default:
			walkValue(fd, v, here, p)
		}
		return true
	})
}

func walkValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, at string, p *problems) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		walk(v.Message(), at, p)
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			if opts, ok := ev.Options().(*descriptorpb.EnumValueOptions); ok && opts.GetDeprecated() {
				p.add("%s: %s is deprecated", at, ev.Name())
			}
		}
	}
}

// edgeOf finds the one listener's HTTP connection manager, its filters, the
// one virtual host and the clusters.
func edgeOf(b *bootstrapv3.Bootstrap) (*edge, error) {
	ls := b.GetStaticResources().GetListeners()
	if len(ls) != 1 || len(ls[0].GetFilterChains()) != 1 || len(ls[0].GetFilterChains()[0].GetFilters()) != 1 {
		return nil, fmt.Errorf("want one listener with one filter chain holding one network filter")
	}
	e := &edge{hcm: &hcmv3.HttpConnectionManager{}, filters: map[string]proto.Message{}, clusters: map[string]*clusterv3.Cluster{}}
	if err := ls[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(e.hcm); err != nil {
		return nil, fmt.Errorf("listener filter: %w", err)
	}
	for _, f := range e.hcm.GetHttpFilters() {
		cfg, err := f.GetTypedConfig().UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("HTTP filter %s: %w", f.GetName(), err)
		}
		if _, dup := e.filters[f.GetName()]; dup {
			return nil, fmt.Errorf("HTTP filter %s appears twice", f.GetName())
		}
		e.filters[f.GetName()] = cfg
		e.order = append(e.order, f.GetName())
	}
	var ok bool
	if e.transcoder, ok = e.filters[transcoderName].(*transcoderv3.GrpcJsonTranscoder); !ok {
		return nil, fmt.Errorf("no %s filter", transcoderName)
	}
	vhs := e.hcm.GetRouteConfig().GetVirtualHosts()
	if len(vhs) != 1 || !slices.Equal(vhs[0].GetDomains(), []string{"*"}) {
		return nil, fmt.Errorf("want an inline route_config with one virtual host for every domain")
	}
	e.vhost = vhs[0]
	for _, c := range b.GetStaticResources().GetClusters() {
		e.clusters[c.GetName()] = c
	}
	return e, nil
}

func checkListenerAndAdmin(b *bootstrapv3.Bootstrap, p *problems) {
	if got := b.GetStaticResources().GetListeners()[0].GetAddress().GetSocketAddress(); got.GetAddress() != "0.0.0.0" || got.GetPortValue() != 8080 {
		p.add("listener on %s:%d, want 0.0.0.0:8080", got.GetAddress(), got.GetPortValue())
	}
	if got := b.GetAdmin().GetAddress().GetSocketAddress(); got.GetAddress() != "127.0.0.1" {
		p.add("admin interface on %q: keep it on 127.0.0.1", got.GetAddress())
	}
}

// checkMountedFiles: every file Envoy reads is one README.md mounts, exists
// in the repository, and fits where it goes.
func checkMountedFiles(e *edge, p *problems) {
	exists := func(mount string) (os.FileInfo, bool) {
		src, ok := mounts[mount]
		if !ok {
			p.add("Envoy reads %s, which README.md does not mount", mount)
			return nil, false
		}
		info, err := os.Stat(src)
		if err != nil {
			p.add("%s: %v", mount, err)
			return nil, false
		}
		return info, true
	}
	exists(e.transcoder.GetProtoDescriptor())
	limit := e.hcm.GetRouteConfig().GetMaxDirectResponseBodySizeBytes().GetValue()
	if limit == 0 {
		limit = 4096 // Envoy's default
	}
	for _, r := range e.vhost.GetRoutes() {
		name := r.GetDirectResponse().GetBody().GetFilename()
		if name == "" {
			continue
		}
		if info, ok := exists(name); ok && info.Size() > int64(limit) {
			p.add("route %s: %s has %d bytes, more than max_direct_response_body_size_bytes (%d)", r.GetName(), name, info.Size(), limit)
		}
	}
}

func checkTranscoder(e *edge, a *api, p *problems) {
	tc := e.transcoder
	if got := tc.GetProtoDescriptor(); got != descriptorMount {
		p.add("transcoder proto_descriptor is %q, want %q", got, descriptorMount)
	}
	for _, s := range tc.GetServices() {
		switch {
		case a.services[s] == nil:
			p.add("transcoder: %s is not in the descriptor set", s)
		case strings.HasSuffix(s, "InternalService") || !slices.Contains(a.public, s):
			p.add("transcoder: internal service %s is transcoded", s)
		}
	}
	for _, s := range a.public {
		if !slices.Contains(tc.GetServices(), s) {
			p.add("transcoder: public service %s is not transcoded", s)
		}
	}
	if tc.GetAutoMapping() {
		p.add("transcoder: auto_mapping would expose methods that have no HTTP binding")
	}
	if !tc.GetRequestValidationOptions().GetRejectUnknownMethod() || !tc.GetRequestValidationOptions().GetRejectUnknownQueryParameters() {
		p.add("transcoder: unknown REST methods and query parameters must be rejected, not passed upstream")
	}
	if !tc.GetConvertGrpcStatus() {
		p.add("transcoder: convert_grpc_status is off, so gRPC errors would have no JSON body")
	}
	if tc.GetMatchIncomingRequestRoute() {
		p.add("transcoder: match_incoming_request_route is on, but the routes match gRPC paths")
	}
}

func checkFilters(e *edge, p *problems) {
	if len(e.order) == 0 || e.order[len(e.order)-1] != routerName {
		p.add("HTTP filters: %s must be the last one", routerName)
	}
	at := func(name string) int { return slices.Index(e.order, name) }
	for _, name := range []string{corsName, healthCheckName, rateLimitName, bufferName} {
		if at(name) < 0 {
			p.add("HTTP filters: no %s", name)
		} else if at(name) > at(transcoderName) {
			p.add("HTTP filters: %s must come before %s", name, transcoderName)
		}
	}
	if buf, ok := e.filters[bufferName].(*bufferv3.Buffer); ok && buf.GetMaxRequestBytes().GetValue() != maxRequestBytes {
		p.add("body limit is %d bytes, want %d", buf.GetMaxRequestBytes().GetValue(), maxRequestBytes)
	}
	if rl, ok := e.filters[rateLimitName].(*localratelimitv3.LocalRateLimit); ok {
		if rl.GetTokenBucket() == nil {
			p.add("local rate limit: no token bucket")
		}
		if rl.GetFilterEnabled().GetDefaultValue().GetNumerator() == 0 || rl.GetFilterEnforced().GetDefaultValue().GetNumerator() == 0 {
			p.add("local rate limit: filter_enabled and filter_enforced default to 0%%, so nothing would be limited")
		}
		if !slices.ContainsFunc(rl.GetResponseHeadersToAdd(), func(h *corev3.HeaderValueOption) bool {
			return h.GetHeader().GetKey() == "x-local-rate-limit"
		}) {
			p.add("local rate limit: no x-local-rate-limit response header")
		}
	}
	if hc, ok := e.filters[healthCheckName].(*healthcheckv3.HealthCheck); ok {
		if hc.GetPassThroughMode().GetValue() || !slices.ContainsFunc(hc.GetHeaders(), func(h *routev3.HeaderMatcher) bool {
			return h.GetName() == ":path" && h.GetStringMatch().GetExact() == "/readyz"
		}) {
			p.add("health check filter: must answer GET /readyz itself")
		}
		for name := range hc.GetClusterMinHealthyPercentages() {
			if e.clusters[name] == nil {
				p.add("/readyz waits for undefined cluster %q", name)
			}
		}
	}
	perFilter := []map[string]*anypb.Any{e.vhost.GetTypedPerFilterConfig()}
	for _, r := range e.vhost.GetRoutes() {
		perFilter = append(perFilter, r.GetTypedPerFilterConfig())
	}
	for _, m := range perFilter {
		for name := range m {
			if e.filters[name] == nil {
				p.add("typed_per_filter_config names %s, which is not in the filter chain", name)
			}
		}
	}
}

// checkRoutes follows every gRPC method of the descriptor set through the
// routes as Envoy would after transcoding, and returns the clusters that
// serve each public service.
func checkRoutes(e *edge, a *api, p *problems) map[string][]string {
	// Every route action names a defined cluster.
	for _, r := range e.vhost.GetRoutes() {
		for _, c := range routeClusters(r) {
			if e.clusters[c] == nil {
				p.add("route %s names undefined cluster %q", r.GetName(), c)
			}
		}
		if r.GetRoute().GetClusterHeader() != "" || r.GetRoute().GetClusterSpecifierPlugin() != "" {
			p.add("route %s picks its cluster at run time, which this test cannot follow", r.GetName())
		}
	}

	served := map[string][]string{} // cluster -> public services routed to it
	for _, name := range slices.Sorted(maps.Keys(a.services)) {
		public := slices.Contains(a.public, name)
		for _, m := range methods(a.services[name]) {
			path := fmt.Sprintf("/%s/%s", name, m.Name())
			r, err := matchRoute(e.vhost, path, true)
			if err != nil {
				p.add("%v", err)
				return served
			}
			clusters := routeClusters(r)
			if !public {
				for _, c := range clusters {
					p.add("internal method %s reaches cluster %s", path, c)
				}
				continue
			}
			if len(clusters) == 0 {
				p.add("public method %s is not routed to a cluster", path)
				continue
			}
			checkServiceRoute(r, p)
			for _, c := range clusters {
				if !slices.Contains(served[c], name) {
					served[c] = append(served[c], name)
				}
				for _, port := range ports(e.clusters[c]) {
					if port != servicePorts[name] {
						p.add("%s is routed to cluster %s on port %d, want %d", name, c, port, servicePorts[name])
					}
				}
			}
		}
	}

	// The REST paths match a route before transcoding too, otherwise the
	// virtual host's CORS policy would not apply to them.
	for _, name := range a.public {
		for _, m := range methods(a.services[name]) {
			rule := httpRule(m)
			if rule == nil {
				continue
			}
			for _, binding := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
				path := samplePath(binding)
				if r, _ := matchRoute(e.vhost, path, false); r == nil {
					p.add("REST path %s (%s) matches no route before transcoding: the CORS policy would not apply", path, m.FullName())
				}
			}
		}
	}

	// GET /healthz and /openapi.json: answered by their routes, past a
	// disabled transcoder (with reject_unknown_method it answers 404 for any
	// path without an HTTP binding).
	for _, path := range []string{"/healthz", "/openapi.json"} {
		r, _ := matchRoute(e.vhost, path, false)
		if r.GetDirectResponse().GetStatus() != 200 {
			p.add("%s: want a direct 200 response", path)
		}
		if !filterDisabled(r, transcoderName) {
			p.add("%s: the transcoder is not disabled on its route, so it would answer 404", path)
		}
	}

	// GET /readyz waits for every service cluster.
	if hc, ok := e.filters[healthCheckName].(*healthcheckv3.HealthCheck); ok {
		for _, c := range slices.Sorted(maps.Keys(served)) {
			if hc.GetClusterMinHealthyPercentages()[c].GetValue() <= 0 {
				p.add("/readyz does not wait for cluster %s", c)
			}
		}
	}
	return served
}

func checkServiceRoute(r *routev3.Route, p *problems) {
	action := r.GetRoute()
	if action.GetTimeout().AsDuration() != routeTimeout {
		p.add("route %s: timeout %v, want %v", r.GetName(), action.GetTimeout().AsDuration(), routeTimeout)
	}
	if action.GetMaxStreamDuration().GetGrpcTimeoutHeaderMax() == nil {
		p.add("route %s: no max_stream_duration.grpc_timeout_header_max, so gRPC callers' deadlines are ignored", r.GetName())
	}
}

func checkClusters(e *edge, served map[string][]string, p *problems) {
	tracer := traceCluster(e.hcm)
	known := slices.Collect(maps.Values(servicePorts))
	for _, name := range slices.Sorted(maps.Keys(e.clusters)) {
		c := e.clusters[name]
		if !isHTTP2(c) {
			p.add("cluster %s: not explicitly HTTP/2 (%s)", name, http2Options)
		}
		if name == tracer && served[name] == nil {
			continue // the trace exporter: HTTP/2 is all it needs
		}
		if served[name] == nil {
			p.add("cluster %s: no public service is routed to it", name)
		}
		for _, port := range ports(c) {
			if !slices.Contains(known, port) {
				p.add("cluster %s: endpoint port %d is not a service port %v", name, port, known)
			}
		}
		hc := slices.IndexFunc(c.GetHealthChecks(), func(h *corev3.HealthCheck) bool { return h.GetGrpcHealthCheck() != nil })
		if hc < 0 {
			p.add("cluster %s: no gRPC health check", name)
		} else if svc := c.GetHealthChecks()[hc].GetGrpcHealthCheck().GetServiceName(); svc != "" && !slices.Contains(served[name], svc) {
			p.add("cluster %s: health check asks about %s, which is not served there", name, svc)
		}
		if c.GetConnectTimeout() == nil || len(c.GetCircuitBreakers().GetThresholds()) == 0 || c.GetOutlierDetection() == nil {
			p.add("cluster %s: want connect_timeout, circuit_breakers and outlier_detection", name)
		}
	}
}

// ---------------------------------------------------------------- helpers

// matchRoute returns the route Envoy picks for a request to path (a gRPC
// request when grpc), or nil. It models the path and gRPC matchers only and
// says so when a route uses anything else.
func matchRoute(vh *routev3.VirtualHost, path string, grpc bool) (*routev3.Route, error) {
	for _, r := range vh.GetRoutes() {
		m := r.GetMatch()
		if len(m.GetHeaders())+len(m.GetQueryParameters())+len(m.GetDynamicMetadata())+len(m.GetFilterState())+len(m.GetCookies()) > 0 ||
			m.GetRuntimeFraction() != nil || m.GetTlsContext() != nil {
			return nil, fmt.Errorf("route %s: this test only models path and gRPC matchers", r.GetName())
		}
		if m.GetGrpc() != nil && !grpc {
			continue
		}
		fold := func(s string) string { return s }
		if cs := m.GetCaseSensitive(); cs != nil && !cs.GetValue() {
			fold = strings.ToLower
		}
		subject := fold(path)
		var hit bool
		switch ps := m.GetPathSpecifier().(type) {
		case *routev3.RouteMatch_Prefix:
			hit = strings.HasPrefix(subject, fold(ps.Prefix))
		case *routev3.RouteMatch_Path:
			hit = subject == fold(ps.Path)
		case *routev3.RouteMatch_PathSeparatedPrefix:
			prefix := fold(ps.PathSeparatedPrefix)
			hit = subject == prefix || strings.HasPrefix(subject, prefix+"/")
		case *routev3.RouteMatch_SafeRegex:
			re, err := regexp.Compile("^(?:" + ps.SafeRegex.GetRegex() + ")$")
			if err != nil {
				return nil, fmt.Errorf("route %s: %w", r.GetName(), err)
			}
			hit = re.MatchString(path)
		default:
			return nil, fmt.Errorf("route %s: this test does not model %T", r.GetName(), ps)
		}
		if hit {
			return r, nil
		}
	}
	return nil, nil
}

func routeClusters(r *routev3.Route) []string {
	action := r.GetRoute()
	if c := action.GetCluster(); c != "" {
		return []string{c}
	}
	var cs []string
	for _, w := range action.GetWeightedClusters().GetClusters() {
		cs = append(cs, w.GetName())
	}
	return cs
}

// filterDisabled: the route turns the named HTTP filter off, either
// generically or, for the transcoder, with an empty per-route service list.
func filterDisabled(r *routev3.Route, name string) bool {
	cfg := r.GetTypedPerFilterConfig()[name]
	if cfg == nil {
		return false
	}
	m, err := cfg.UnmarshalNew()
	if err != nil {
		return false
	}
	switch m := m.(type) {
	case *routev3.FilterConfig:
		return m.GetDisabled()
	case *transcoderv3.GrpcJsonTranscoder:
		return len(m.GetServices()) == 0
	}
	return false
}

// samplePath turns an HTTP rule's template into a concrete path:
// /v1/{name=products/*}:restock -> /v1/products/x:restock.
func samplePath(rule *annotations.HttpRule) string {
	var tmpl string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		tmpl = p.Get
	case *annotations.HttpRule_Post:
		tmpl = p.Post
	case *annotations.HttpRule_Put:
		tmpl = p.Put
	case *annotations.HttpRule_Patch:
		tmpl = p.Patch
	case *annotations.HttpRule_Delete:
		tmpl = p.Delete
	case *annotations.HttpRule_Custom:
		tmpl = p.Custom.GetPath()
	}
	return templateVar.ReplaceAllStringFunc(tmpl, func(v string) string {
		sub := templateVar.FindStringSubmatch(v)
		if sub[2] == "" {
			return "x"
		}
		return strings.NewReplacer("**", "x/y", "*", "x").Replace(sub[2])
	})
}

var templateVar = regexp.MustCompile(`\{([^}=]+)(?:=([^}]*))?\}`)

func ports(c *clusterv3.Cluster) []uint32 {
	var ps []uint32
	for _, le := range c.GetLoadAssignment().GetEndpoints() {
		for _, lb := range le.GetLbEndpoints() {
			ps = append(ps, lb.GetEndpoint().GetAddress().GetSocketAddress().GetPortValue())
		}
	}
	return ps
}

func isHTTP2(c *clusterv3.Cluster) bool {
	opts := &upstreamhttpv3.HttpProtocolOptions{}
	cfg := c.GetTypedExtensionProtocolOptions()[http2Options]
	return cfg != nil && cfg.UnmarshalTo(opts) == nil && opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil
}

func traceCluster(hcm *hcmv3.HttpConnectionManager) string {
	otel := &tracev3.OpenTelemetryConfig{}
	if cfg := hcm.GetTracing().GetProvider().GetTypedConfig(); cfg == nil || cfg.UnmarshalTo(otel) != nil {
		return ""
	}
	return otel.GetGrpcService().GetEnvoyGrpc().GetClusterName()
}

// ---------------------------------------------------------------- mutations

func cluster(t *testing.T, b *bootstrapv3.Bootstrap, name string) *clusterv3.Cluster {
	t.Helper()
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == name {
			return c
		}
	}
	t.Fatalf("no cluster %s", name)
	return nil
}

func setPort(c *clusterv3.Cluster, port uint32) {
	for _, le := range c.GetLoadAssignment().GetEndpoints() {
		for _, lb := range le.GetLbEndpoints() {
			lb.GetEndpoint().GetAddress().GetSocketAddress().PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: port}
		}
	}
}

// editAny unpacks a typed_config, lets edit change it and packs it back.
func editAny[T proto.Message](t *testing.T, a *anypb.Any, edit func(T)) {
	t.Helper()
	m, err := a.UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	edit(m.(T))
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{}); err != nil {
		t.Fatal(err)
	}
}

func editHCM(t *testing.T, b *bootstrapv3.Bootstrap, edit func(*hcmv3.HttpConnectionManager)) {
	t.Helper()
	editAny(t, b.GetStaticResources().GetListeners()[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig(), edit)
}

func editHTTPFilter[T proto.Message](t *testing.T, b *bootstrapv3.Bootstrap, name string, edit func(T)) {
	t.Helper()
	editHCM(t, b, func(hcm *hcmv3.HttpConnectionManager) {
		for _, f := range hcm.GetHttpFilters() {
			if f.GetName() == name {
				editAny(t, f.GetTypedConfig(), edit)
				return
			}
		}
		t.Fatalf("no HTTP filter %s", name)
	})
}

func editTranscoder(t *testing.T, b *bootstrapv3.Bootstrap, edit func(*transcoderv3.GrpcJsonTranscoder)) {
	t.Helper()
	editHTTPFilter(t, b, transcoderName, edit)
}

func editRoutes(t *testing.T, b *bootstrapv3.Bootstrap, edit func(*routev3.VirtualHost)) {
	t.Helper()
	editHCM(t, b, func(hcm *hcmv3.HttpConnectionManager) { edit(hcm.GetRouteConfig().GetVirtualHosts()[0]) })
}

func namedRoute(t *testing.T, vh *routev3.VirtualHost, name string) *routev3.Route {
	t.Helper()
	for _, r := range vh.GetRoutes() {
		if r.GetName() == name {
			return r
		}
	}
	t.Fatalf("no route %s", name)
	return nil
}

// The YAML tree, for mistakes the typed config cannot hold.

func firstCluster(tree map[string]any) map[string]any {
	return tree["static_resources"].(map[string]any)["clusters"].([]any)[0].(map[string]any)
}

func httpFilterConfig(tree map[string]any, name string) map[string]any {
	listener := tree["static_resources"].(map[string]any)["listeners"].([]any)[0].(map[string]any)
	chain := listener["filter_chains"].([]any)[0].(map[string]any)
	hcm := chain["filters"].([]any)[0].(map[string]any)["typed_config"].(map[string]any)
	for _, f := range hcm["http_filters"].([]any) {
		if f := f.(map[string]any); f["name"] == name {
			return f["typed_config"].(map[string]any)
		}
	}
	panic("no HTTP filter " + name)
}

func rename(m map[string]any, from, to string) {
	v, ok := m[from]
	if !ok {
		panic("no field " + from)
	}
	delete(m, from)
	m[to] = v
}
