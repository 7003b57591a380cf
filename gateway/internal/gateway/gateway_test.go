package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestHealthzAnswersWhileUpstreamsAreDown(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, _ *upstreams) {
		c.AuthTarget, c.UserTarget, c.ProductTarget, c.OrderTarget = deadTarget(t), deadTarget(t), deadTarget(t), deadTarget(t)
	})
	r := tg.do(t, http.MethodGet, "/healthz", nil, nil)
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
}

func readinessOf(t *testing.T, r response) readiness {
	t.Helper()
	var body readiness
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("readyz body %s: %v", r.body, err)
	}
	return body
}

func TestReadyzWhenEveryUpstreamIsServing(t *testing.T) {
	tg := newTestGateway(t, nil)
	r := tg.do(t, http.MethodGet, "/readyz", nil, nil)
	body := readinessOf(t, r)
	if r.status != http.StatusOK || body.Status != "ok" || len(body.NotReady) != 0 {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	for _, name := range []string{"auth", "user", "product", "order"} {
		if body.Upstreams[name] != "SERVING" {
			t.Errorf("upstream %s: %q", name, body.Upstreams[name])
		}
	}
}

func TestReadyzNamesTheUpstreamsThatAreNotReady(t *testing.T) {
	dead := deadTarget(t)
	tg := newTestGateway(t, func(c *Config, _ *upstreams) { c.ProductTarget = dead })
	tg.up.health["user"].SetServingStatus("shopmesh.user.v1.UserService", healthpb.HealthCheckResponse_NOT_SERVING)

	start := time.Now()
	r := tg.do(t, http.MethodGet, "/readyz", nil, nil)
	if elapsed := time.Since(start); elapsed > tg.cfg.ReadyTimeout+500*time.Millisecond {
		t.Errorf("readyz took %s", elapsed)
	}
	body := readinessOf(t, r)
	if r.status != http.StatusServiceUnavailable || body.Status != "unavailable" {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	if !slices.Equal(body.NotReady, []string{"user", "product"}) {
		t.Errorf("notReady %v, want [user product]", body.NotReady)
	}
	want := map[string]string{"auth": "SERVING", "user": "NOT_SERVING", "product": "UNAVAILABLE", "order": "SERVING"}
	for name, state := range want {
		if body.Upstreams[name] != state {
			t.Errorf("upstream %s: %q, want %q", name, body.Upstreams[name], state)
		}
	}
	if bytes.Contains(r.body, []byte(dead)) {
		t.Errorf("readyz shows an upstream address: %s", r.body)
	}
}

func TestOpenAPIDocumentIsTheGeneratedOne(t *testing.T) {
	tg := newTestGateway(t, nil)
	r := tg.do(t, http.MethodGet, "/openapi.json", nil, nil)
	want, err := os.ReadFile("../../../gen/openapi/shopmesh.swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("HTTP %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	if !bytes.Equal(r.body, want) {
		t.Fatal("GET /openapi.json differs from gen/openapi/shopmesh.swagger.json: run `go generate ./...` in gateway/")
	}
}

func TestAuthorizationTraceContextAndForwardedForReachTheUpstream(t *testing.T) {
	tg := newTestGateway(t, nil)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := tg.do(t, http.MethodGet, "/v1/products/mug", nil, map[string]string{
		"Authorization":   "Bearer token-123",
		"traceparent":     "00-" + traceID + "-00f067aa0ba902b7-01",
		"tracestate":      "vendor=opaque",
		"X-Forwarded-For": "203.0.113.7",
		// grpc-gateway v2.33 no longer turns Grpc-Metadata-* into metadata.
		"Grpc-Metadata-X-User": "admin",
	})
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	md := tg.up.products.lastMetadata()
	if got := md.Get("authorization"); !slices.Equal(got, []string{"Bearer token-123"}) {
		t.Errorf("authorization %q", got)
	}
	// The upstream's parent is the gateway's client span: same trace, new span id.
	tp := md.Get("traceparent")
	if len(tp) != 1 || !strings.HasPrefix(tp[0], "00-"+traceID+"-") || !strings.HasSuffix(tp[0], "-01") ||
		strings.Contains(tp[0], "00f067aa0ba902b7") {
		t.Errorf("traceparent %q, want trace %s with the gateway's span as parent", tp, traceID)
	}
	if got := md.Get("tracestate"); !slices.Equal(got, []string{"vendor=opaque"}) {
		t.Errorf("tracestate %q", got)
	}
	if got := md.Get("x-forwarded-for"); !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("x-forwarded-for %q, want only the peer: the client's list is not trusted by default", got)
	}
	if got := md.Get("x-user"); len(got) != 0 {
		t.Errorf("Grpc-Metadata-X-User was forwarded as %q", got)
	}
}

func TestTrustedForwardedForKeepsTheClientsList(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, _ *upstreams) { c.TrustForwardedFor = true })
	r := tg.do(t, http.MethodGet, "/v1/products/mug", nil, map[string]string{
		"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "shop.example.com",
	})
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	md := tg.up.products.lastMetadata()
	if got := md.Get("x-forwarded-for"); !slices.Equal(got, []string{"203.0.113.7, 127.0.0.1"}) {
		t.Errorf("x-forwarded-for %q, want the client's list plus the peer", got)
	}
	if got := md.Get("x-forwarded-host"); !slices.Equal(got, []string{"shop.example.com"}) {
		t.Errorf("x-forwarded-host %q", got)
	}
}

func TestResponsesUseTheOpenAPIDocumentsJSONNames(t *testing.T) {
	tg := newTestGateway(t, nil)
	r := tg.do(t, http.MethodGet, "/v1/products/mug", nil, nil)
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	want := map[string]any{
		"name": "products/mug", "displayName": "Blue mug", "category": "kitchen",
		"availableQuantity": "3", // int64 is a string in proto3 JSON
	}
	if len(got) != len(want) { // unset fields (price, createTime, ...) are left out
		t.Errorf("fields %v, want exactly %v", got, want)
	}
	var doc struct {
		Definitions map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(mustRead(t, "../../../gen/openapi/shopmesh.swagger.json"), &doc); err != nil {
		t.Fatal(err)
	}
	for name, value := range want {
		if got[name] != value {
			t.Errorf("%s = %v, want %v", name, got[name], value)
		}
		if _, ok := doc.Definitions["v1Product"].Properties[name]; !ok {
			t.Errorf("%s is not a property of v1Product in the OpenAPI document", name)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUpstreamNotFoundIs404WithItsStatus(t *testing.T) {
	tg := newTestGateway(t, nil)
	s := wantStatus(t, tg.do(t, http.MethodGet, "/v1/products/missing", nil, nil), http.StatusNotFound, codes.NotFound)
	if s.Message != `product "products/missing" not found` {
		t.Errorf("message %q", s.Message)
	}
}

func TestBadRequestBodiesAre400(t *testing.T) {
	tg := newTestGateway(t, nil)
	for name, body := range map[string]string{
		"unknown field":  `{"quantity": 2, "colour": "blue"}`,
		"malformed JSON": `{"quantity": 2`,
		"wrong type":     `{"quantity": "lots"}`,
		"not an object":  `[1, 2]`,
		"trailing data":  `{"quantity": 2} {"quantity": 3}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := tg.do(t, http.MethodPost, "/v1/products/mug:restock", strings.NewReader(body),
				map[string]string{"Content-Type": "application/json"})
			wantStatus(t, r, http.StatusBadRequest, codes.InvalidArgument)
		})
	}
	// The same route with a good body reaches the upstream.
	r := tg.do(t, http.MethodPost, "/v1/products/mug:restock", strings.NewReader(`{"quantity": 2}`), nil)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"availableQuantity":"2"`)) {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
}

func TestBadQueryParameterIs400(t *testing.T) {
	tg := newTestGateway(t, nil)
	wantStatus(t, tg.do(t, http.MethodGet, "/v1/products?pageSize=many", nil, nil), http.StatusBadRequest, codes.InvalidArgument)
}

// chunked hides the length of a body, so only reading it finds the excess.
type chunked struct{ io.Reader }

func TestBodiesOverTheLimitAre413(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, _ *upstreams) { c.MaxBodyBytes = 64 })
	padded := func(n int) string { // a valid restock body of exactly n bytes
		s := `{"quantity": 2}`
		return s + strings.Repeat(" ", n-len(s))
	}
	t.Run("declared length", func(t *testing.T) {
		r := tg.do(t, http.MethodPost, "/v1/products/mug:restock", strings.NewReader(padded(65)), nil)
		s := wantStatus(t, r, http.StatusRequestEntityTooLarge, codes.ResourceExhausted)
		if s.Message != "request body is larger than 64 bytes" {
			t.Errorf("message %q", s.Message)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		r := tg.do(t, http.MethodPost, "/v1/products/mug:restock", chunked{strings.NewReader(padded(1000))}, nil)
		wantStatus(t, r, http.StatusRequestEntityTooLarge, codes.ResourceExhausted)
	})
	t.Run("at the limit", func(t *testing.T) {
		r := tg.do(t, http.MethodPost, "/v1/products/mug:restock", chunked{strings.NewReader(padded(64))}, nil)
		if r.status != http.StatusOK {
			t.Fatalf("HTTP %d %s", r.status, r.body)
		}
	})
}

func TestUnknownRouteIs404WithAStatus(t *testing.T) {
	tg := newTestGateway(t, nil)
	for _, path := range []string{"/nope", "/v1/products/mug/extra", "/v1/widgets"} {
		wantStatus(t, tg.do(t, http.MethodGet, path, nil, nil), http.StatusNotFound, codes.NotFound)
	}
}

func TestWrongMethodIs405WithAStatus(t *testing.T) {
	tg := newTestGateway(t, nil)
	wantStatus(t, tg.do(t, http.MethodPut, "/v1/products/mug", strings.NewReader("{}"), nil), http.StatusMethodNotAllowed, codes.Unimplemented)
	wantStatus(t, tg.do(t, http.MethodPost, "/healthz", nil, nil), http.StatusMethodNotAllowed, codes.Unimplemented)
}

func TestFormPostIsNotTreatedAsGet(t *testing.T) {
	tg := newTestGateway(t, nil)
	r := tg.do(t, http.MethodPost, "/v1/products/mug", strings.NewReader("a=b"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	wantStatus(t, r, http.StatusMethodNotAllowed, codes.Unimplemented)
}

func TestUpstreamDownIs503Fast(t *testing.T) {
	dead := deadTarget(t)
	tg := newTestGateway(t, func(c *Config, _ *upstreams) {
		c.ProductTarget = dead
		c.RequestTimeout = 5 * time.Second
	})
	for range 2 { // the first call dials, the second finds the connection failed
		start := time.Now()
		s := wantStatus(t, tg.do(t, http.MethodGet, "/v1/products/mug", nil, nil), http.StatusServiceUnavailable, codes.Unavailable)
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("503 after %s", elapsed)
		}
		if s.Message != "the product service is unavailable" {
			t.Errorf("message %q; the address must stay in the log", s.Message)
		}
	}
}

func TestSlowUpstreamIs504AfterTheRequestTimeout(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, up *upstreams) {
		c.RequestTimeout = 200 * time.Millisecond
		up.products.delay = 5 * time.Second
	})
	start := time.Now()
	wantStatus(t, tg.do(t, http.MethodGet, "/v1/products/mug", nil, nil), http.StatusGatewayTimeout, codes.DeadlineExceeded)
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("504 after %s, want about 200ms", elapsed)
	}
}
