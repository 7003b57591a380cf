package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/shopmesh/shopmesh/gateway/internal/telemetry"
	authv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/auth/v1"
	orderv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/order/v1"
	productv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/product/v1"
	userv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/user/v1"
)

// fakeProducts is the product service as far as the tests need it: it
// records the metadata of the last call and answers GetProduct and
// RestockProduct.
type fakeProducts struct {
	productv1.UnimplementedProductServiceServer
	delay time.Duration // GetProduct waits this long (or until cancelled)

	mu sync.Mutex
	md metadata.MD
}

func (f *fakeProducts) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.md = md
}

// lastMetadata is the incoming metadata of the last call.
func (f *fakeProducts) lastMetadata() metadata.MD {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.md
}

func (f *fakeProducts) GetProduct(ctx context.Context, req *productv1.GetProductRequest) (*productv1.Product, error) {
	f.record(ctx)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	if req.GetName() == "products/missing" {
		return nil, status.Errorf(codes.NotFound, "product %q not found", req.GetName())
	}
	return &productv1.Product{Name: req.GetName(), DisplayName: "Blue mug", Category: "kitchen", AvailableQuantity: 3}, nil
}

func (f *fakeProducts) RestockProduct(ctx context.Context, req *productv1.RestockProductRequest) (*productv1.Product, error) {
	f.record(ctx)
	return &productv1.Product{Name: req.GetName(), AvailableQuantity: req.GetQuantity()}, nil
}

// upstreams are the four services, each a real gRPC server on 127.0.0.1:0
// with the standard health service reporting its public service SERVING.
type upstreams struct {
	products *fakeProducts
	health   map[string]*health.Server // by upstream name
	targets  map[string]string
}

func startUpstreams(t *testing.T) *upstreams {
	t.Helper()
	u := &upstreams{products: &fakeProducts{}, health: map[string]*health.Server{}, targets: map[string]string{}}
	for _, s := range []struct {
		name     string
		service  string
		register func(*grpc.Server)
	}{
		{"auth", authv1.AuthService_ServiceDesc.ServiceName, func(s *grpc.Server) {
			authv1.RegisterAuthServiceServer(s, authv1.UnimplementedAuthServiceServer{})
		}},
		{"user", userv1.UserService_ServiceDesc.ServiceName, func(s *grpc.Server) {
			userv1.RegisterUserServiceServer(s, userv1.UnimplementedUserServiceServer{})
		}},
		{"product", productv1.ProductService_ServiceDesc.ServiceName, func(s *grpc.Server) {
			productv1.RegisterProductServiceServer(s, u.products)
		}},
		{"order", orderv1.OrderService_ServiceDesc.ServiceName, func(s *grpc.Server) {
			orderv1.RegisterOrderServiceServer(s, orderv1.UnimplementedOrderServiceServer{})
		}},
	} {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer()
		s.register(srv)
		hs := health.NewServer()
		hs.SetServingStatus(s.service, healthpb.HealthCheckResponse_SERVING)
		healthpb.RegisterHealthServer(srv, hs)
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(srv.Stop)
		u.health[s.name] = hs
		u.targets[s.name] = lis.Addr().String()
	}
	return u
}

// deadTarget is an address that refuses connections.
func deadTarget(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

type testGateway struct {
	*Gateway
	up  *upstreams
	log *syncBuffer
	srv *httptest.Server
}

// newTestGateway starts the upstreams and a gateway in front of them with
// the default configuration, changed by edit.
func newTestGateway(t *testing.T, edit func(*Config, *upstreams)) *testGateway {
	t.Helper()
	up := startUpstreams(t)
	cfg, err := ParseConfig("test", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthTarget, cfg.UserTarget = up.targets["auth"], up.targets["user"]
	cfg.ProductTarget, cfg.OrderTarget = up.targets["product"], up.targets["order"]
	if edit != nil {
		edit(&cfg, up)
	}
	logs := &syncBuffer{}
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	g, err := New(cfg, Deps{
		Logger:         telemetry.NewLogger(logs, slog.LevelDebug),
		TracerProvider: tp,
		Propagator:     telemetry.Propagator(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return &testGateway{Gateway: g, up: up, log: logs, srv: srv}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the gateway over HTTP.
func (tg *testGateway) do(t *testing.T, method, path string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, tg.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := tg.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// serve runs a request through the gateway's handler in this goroutine, so
// everything it logs or counts has happened when it returns.
func (tg *testGateway) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	tg.Handler().ServeHTTP(rec, r)
	return rec
}

// rpcStatus is the google.rpc.Status JSON body of an error.
type rpcStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

// wantStatus checks the HTTP status and the google.rpc.Status body.
func wantStatus(t *testing.T, r response, httpStatus int, code codes.Code) rpcStatus {
	t.Helper()
	if r.status != httpStatus {
		t.Fatalf("HTTP %d, want %d; body %s", r.status, httpStatus, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var s rpcStatus
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("body is not a JSON status: %s", r.body)
	}
	if s.Code != int(code) || s.Message == "" {
		t.Fatalf("status %+v, want code %d (%s) with a message", s, code, code)
	}
	return s
}
