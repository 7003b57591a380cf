package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
)

func TestAccessLogLinePerRequest(t *testing.T) {
	tg := newTestGateway(t, nil)
	req := httptest.NewRequest(http.MethodGet, "/v1/products/mug?view=full", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	rec := tg.serve(req)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d %s", rec.Code, rec.Body)
	}
	var lines []map[string]any
	for _, l := range tg.log.lines(t) {
		if l["message"] == "request" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d access log lines: %v", len(lines), lines)
	}
	line := lines[0]
	want := map[string]any{
		"level":    "INFO",
		"service":  "gateway",
		"method":   "GET",
		"path":     "/v1/products/mug",
		"route":    "/v1/{name=products/*}",
		"status":   float64(200),
		"bytes":    float64(rec.Body.Len()),
		"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
		"remote":   req.RemoteAddr,
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, line[k], line[k], v)
		}
	}
	if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms = %v", line["duration_ms"])
	}
	if ts, ok := line["timestamp"].(string); !ok || !strings.HasSuffix(ts, "Z") {
		t.Errorf("timestamp = %v", line["timestamp"])
	}
}

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	tg := newTestGateway(t, nil)
	for _, path := range []string{"/v1/products/mug", "/v1/products/cup", "/v1/products/missing", "/no/such/route", "/healthz"} {
		tg.serve(httptest.NewRequest(http.MethodGet, path, nil))
	}
	tg.serve(httptest.NewRequest("BREW", "/v1/products/mug", nil))
	rec := httptest.NewRecorder()
	tg.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`http_server_requests_total{code="200",method="GET",route="/v1/{name=products/*}"} 2`,
		`http_server_requests_total{code="404",method="GET",route="/v1/{name=products/*}"} 1`,
		`http_server_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`http_server_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`http_server_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`http_server_request_duration_seconds_count{code="200",method="GET",route="/v1/{name=products/*}"} 2`,
		`http_server_requests_in_flight 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "/v1/products/mug") {
		t.Error("a raw path is a label value")
	}
}

func TestPanicBecomes500StatusAndIsLogged(t *testing.T) {
	tg := newTestGateway(t, nil)
	h := tg.observe(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/products/mug", nil))
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	s := wantStatus(t, r, http.StatusInternalServerError, codes.Internal)
	if s.Message != "internal error" {
		t.Errorf("message %q", s.Message)
	}
	var panics, requests int
	for _, l := range tg.log.lines(t) {
		switch l["message"] {
		case "panic while serving a request":
			panics++
		case "request":
			if l["status"] == float64(500) {
				requests++
			}
		}
	}
	if panics != 1 || requests != 1 {
		t.Errorf("%d panic lines, %d access lines with status 500", panics, requests)
	}
}
