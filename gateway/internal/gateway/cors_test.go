package gateway

import (
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
)

func preflight(origin string) map[string]string {
	return map[string]string{
		"Origin":                         origin,
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization, content-type, traceparent",
	}
}

func TestCORSPreflightFromAnAllowedOrigin(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, _ *upstreams) {
		c.CORSOrigins = []string{"https://shop.example.com", "http://localhost:3000"}
	})
	r := tg.do(t, http.MethodOptions, "/v1/products/mug:restock", nil, preflight("https://shop.example.com"))
	if r.status != http.StatusNoContent {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":  "https://shop.example.com",
		"Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
		"Access-Control-Allow-Headers": "Authorization, Content-Type, traceparent, tracestate",
		"Access-Control-Max-Age":       "600",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials allowed")
	}
}

func TestCORSPreflightFromAnotherOriginIs403(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, _ *upstreams) { c.CORSOrigins = []string{"https://shop.example.com"} })
	r := tg.do(t, http.MethodOptions, "/v1/products/mug:restock", nil, preflight("https://evil.example"))
	wantStatus(t, r, http.StatusForbidden, codes.PermissionDenied)
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("a denied origin got Access-Control-Allow-Origin")
	}
}

func TestCORSMarksResponsesForAllowedOriginsOnly(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, _ *upstreams) { c.CORSOrigins = []string{"https://shop.example.com"} })
	allowed := tg.do(t, http.MethodGet, "/v1/products/mug", nil, map[string]string{"Origin": "https://shop.example.com"})
	if allowed.status != http.StatusOK || allowed.header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
		t.Errorf("allowed origin: HTTP %d, Access-Control-Allow-Origin %q", allowed.status, allowed.header.Get("Access-Control-Allow-Origin"))
	}
	if allowed.header.Get("Vary") != "Origin" {
		t.Errorf("Vary %q", allowed.header.Values("Vary"))
	}
	denied := tg.do(t, http.MethodGet, "/v1/products/mug", nil, map[string]string{"Origin": "https://evil.example"})
	if denied.status != http.StatusOK || denied.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("denied origin: HTTP %d, Access-Control-Allow-Origin %q", denied.status, denied.header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSWildcardAllowsAnyOrigin(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, _ *upstreams) { c.CORSOrigins = []string{"*"} })
	r := tg.do(t, http.MethodOptions, "/v1/products", nil, preflight("https://anyone.example"))
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("HTTP %d, Access-Control-Allow-Origin %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSOffByDefault(t *testing.T) {
	tg := newTestGateway(t, nil)
	r := tg.do(t, http.MethodOptions, "/v1/products", nil, preflight("https://shop.example.com"))
	wantStatus(t, r, http.StatusMethodNotAllowed, codes.Unimplemented)
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers without configured origins")
	}
}
