package gateway

import (
	"net/http"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// What a browser page on an allowed origin may send. The API authenticates
// with the Authorization header, not cookies, so credentials are not allowed.
const (
	corsAllowMethods = "GET, POST, PATCH, DELETE"
	corsAllowHeaders = "Authorization, Content-Type, traceparent, tracestate"
	corsMaxAge       = "600"
)

// cors answers preflight requests and marks the responses of allowed
// origins. Requests from other origins are served without CORS headers, so
// the browser hides the response; their preflights get 403. With no origins
// configured it is not installed at all.
func (g *Gateway) cors(next http.Handler) http.Handler {
	anyOrigin := slices.Contains(g.cfg.CORSOrigins, "*")
	allowed := func(origin string) bool {
		return anyOrigin || slices.Contains(g.cfg.CORSOrigins, strings.ToLower(origin))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
		if !anyOrigin {
			h.Add("Vary", "Origin")
		}
		if preflight {
			setRoute(r.Context(), routePreflight)
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !allowed(origin) {
				g.writeError(w, r, status.Errorf(codes.PermissionDenied, "origin %q is not allowed", origin))
				return
			}
			setAllowOrigin(h, origin, anyOrigin)
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin != "" && allowed(origin) {
			setAllowOrigin(h, origin, anyOrigin)
		}
		next.ServeHTTP(w, r)
	})
}

func setAllowOrigin(h http.Header, origin string, anyOrigin bool) {
	if anyOrigin {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
}
