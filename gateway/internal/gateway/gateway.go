// Package gateway is the Shopmesh REST edge: grpc-gateway handlers for the
// public gRPC services, generated from their google.api.http annotations,
// with the probes, limits, errors, telemetry and lifecycle around them.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Deps are the process-wide collaborators built in main.
type Deps struct {
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
}

// Gateway holds the upstream connections and the HTTP handlers.
type Gateway struct {
	cfg       Config
	log       *slog.Logger
	mux       *runtime.ServeMux
	handler   http.Handler
	metrics   *httpMetrics
	upstreams []*upstream
}

// New creates one lazily-connecting gRPC client per upstream and registers
// every public service on a grpc-gateway mux. Nothing is dialled yet.
func New(cfg Config, d Deps) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: d.Logger, metrics: newHTTPMetrics()}
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, newJSONMarshaler()),
		// Process-wide in grpc-gateway (it sets a package variable).
		runtime.SetQueryParameterParser(&queryParser{}),
		runtime.WithErrorHandler(g.handleError),
		runtime.WithRoutingErrorHandler(g.handleRoutingError),
		runtime.WithMiddlewares(g.routed),
		// No POST-as-GET for form bodies, no X-HTTP-Method-Override: the
		// contract's methods only, as with Envoy's transcoder.
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
	)
	for _, s := range publicServices() {
		u, err := g.dial(s, s.target(cfg), d)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.upstreams = append(g.upstreams, u)
		// RegisterXHandlerClient uses the context for nothing but the
		// registration; the connection is ours to close.
		if err := s.register(context.Background(), g.mux, u.conn); err != nil {
			g.Close()
			return nil, fmt.Errorf("registering the %s handlers: %w", s.name, err)
		}
	}
	for path, h := range map[string]runtime.HandlerFunc{
		"/healthz":      g.healthz,
		"/readyz":       g.readyz,
		"/openapi.json": g.openAPI,
	} {
		if err := g.mux.HandlePath(http.MethodGet, path, h); err != nil {
			g.Close()
			return nil, err
		}
	}
	var h http.Handler = g.mux
	if len(cfg.CORSOrigins) > 0 {
		h = g.cors(h)
	}
	h = g.observe(h)
	g.handler = otelhttp.NewHandler(h, "gateway",
		otelhttp.WithTracerProvider(d.TracerProvider),
		otelhttp.WithPropagators(d.Propagator),
		// Renamed to "METHOD route" once the route is known (routed).
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
	return g, nil
}

// Handler serves the REST API, /healthz, /readyz and /openapi.json.
func (g *Gateway) Handler() http.Handler { return g.handler }

// MetricsHandler serves GET /metrics for Prometheus.
func (g *Gateway) MetricsHandler() http.Handler { return g.metrics.handler() }

// Close closes the upstream connections.
func (g *Gateway) Close() {
	for _, u := range g.upstreams {
		_ = u.conn.Close()
	}
}

// routed runs for every request that matched a route, before its handler:
// it labels the request with the route pattern (bounded, unlike the path),
// drops untrusted forwarding headers, refuses bodies over the limit and
// starts the request's time budget.
func (g *Gateway) routed(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		ctx := r.Context()
		if pattern, ok := runtime.HTTPPattern(ctx); ok {
			route := pattern.String()
			setRoute(ctx, route)
			span := trace.SpanFromContext(ctx)
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}
		if !g.cfg.TrustForwardedFor {
			// grpc-gateway appends the peer to the client's X-Forwarded-For;
			// at the edge that list is whatever the client made up.
			r.Header.Del("X-Forwarded-For")
			r.Header.Del("X-Forwarded-Host")
		}
		ctx, cancel := context.WithTimeout(ctx, g.cfg.RequestTimeout)
		defer cancel()
		r, err := g.limitBody(w, r.WithContext(ctx))
		if err != nil {
			g.writeError(w, r, err)
			return
		}
		next(w, r, params)
	}
}

// Serve answers REST on api and metrics on metrics until ctx is done, then
// stops accepting, gives in-flight requests ShutdownTimeout to finish and
// returns. It also returns when either server fails.
func (g *Gateway) Serve(ctx context.Context, api, metrics net.Listener) error {
	errorLog := slog.NewLogLogger(g.log.Handler(), slog.LevelWarn)
	apiServer := &http.Server{
		Handler:           g.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// The body must arrive within the request's budget; the answer may
		// take a little longer to write.
		ReadTimeout:  g.cfg.RequestTimeout,
		WriteTimeout: g.cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     errorLog,
	}
	metricsServer := &http.Server{
		Handler:           g.MetricsHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          errorLog,
	}
	errs := make(chan error, 2)
	go func() { errs <- fmt.Errorf("REST server: %w", apiServer.Serve(api)) }()
	go func() { errs <- fmt.Errorf("metrics server: %w", metricsServer.Serve(metrics)) }()
	g.log.Info("serving", slog.String("addr", api.Addr().String()), slog.String("metrics_addr", metrics.Addr().String()))

	var failed error
	select {
	case <-ctx.Done():
		g.log.Info("shutting down", slog.String("drain_timeout", g.cfg.ShutdownTimeout.String()))
	case failed = <-errs:
	}
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := errors.Join(apiServer.Shutdown(drain), metricsServer.Shutdown(drain))
	if failed == nil {
		failed = <-errs // both servers report ErrServerClosed after Shutdown
		if errors.Is(failed, http.ErrServerClosed) {
			failed = nil
		}
	}
	if shutdownErr != nil {
		return fmt.Errorf("draining: %w", shutdownErr)
	}
	g.log.Info("stopped")
	return failed
}
