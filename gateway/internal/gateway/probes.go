package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/code"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/shopmesh/shopmesh/gateway/internal/openapi"
)

// healthz: the process is up and serving HTTP.
func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type readiness struct {
	Status string `json:"status"` // "ok" or "unavailable"
	// Upstreams maps each upstream to SERVING, another health status
	// (NOT_SERVING, SERVICE_UNKNOWN) or the gRPC code of the failed check
	// (UNAVAILABLE, DEADLINE_EXCEEDED, UNIMPLEMENTED). Addresses and error
	// texts only go to the log.
	Upstreams map[string]string `json:"upstreams"`
	NotReady  []string          `json:"notReady,omitempty"`
}

// readyz: every upstream answers the standard health check for its public
// service with SERVING within the ready timeout; 503 naming the others.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.ReadyTimeout)
	defer cancel()
	states := make([]string, len(g.upstreams))
	var wg sync.WaitGroup
	for i, u := range g.upstreams {
		wg.Go(func() { states[i] = g.check(ctx, u) })
	}
	wg.Wait()
	body := readiness{Status: "ok", Upstreams: make(map[string]string, len(g.upstreams))}
	for i, u := range g.upstreams {
		body.Upstreams[u.name] = states[i]
		if states[i] != healthpb.HealthCheckResponse_SERVING.String() {
			body.NotReady = append(body.NotReady, u.name)
		}
	}
	if len(body.NotReady) > 0 {
		body.Status = "unavailable"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (g *Gateway) check(ctx context.Context, u *upstream) string {
	resp, err := healthpb.NewHealthClient(u.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: u.service})
	if err != nil {
		// Unreachable upstreams were logged by the client interceptor.
		return code.Code(status.Code(err)).String()
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		g.log.LogAttrs(ctx, slog.LevelWarn, "upstream not serving",
			slog.String("upstream", u.name), slog.String("service", u.service), slog.String("health", resp.GetStatus().String()))
	}
	return resp.GetStatus().String()
}

// openAPI serves the public API's OpenAPI document, embedded at build time.
func (g *Gateway) openAPI(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openapi.Document)
}

func writeJSON(w http.ResponseWriter, httpStatus int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(httpStatus)
	_ = json.NewEncoder(w).Encode(v)
}
