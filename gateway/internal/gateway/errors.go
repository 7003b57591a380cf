package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Every error the gateway writes, its own or an upstream's, goes through
// grpc-gateway's DefaultHTTPErrorHandler: a google.rpc.Status JSON body and
// the HTTP status of runtime.HTTPStatusFromCode, unless a
// *runtime.HTTPStatusError names another one (405, 413).

// handleError adds one case to the default handler: when the request body
// went over the limit, the generated handler only saw a decode error (it
// turns it into INVALID_ARGUMENT with %v), so the 413 is decided here.
func (g *Gateway) handleError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if b, ok := ctx.Value(bodyKey{}).(*limitedBody); ok && b.exceeded {
		err = g.errBodyTooLarge()
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// handleRoutingError replaces runtime.DefaultRoutingErrorHandler, which
// answers a wrong method with UNIMPLEMENTED and therefore HTTP 501.
func (g *Gateway) handleRoutingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var err error
	switch httpStatus {
	case http.StatusNotFound:
		err = status.Errorf(codes.NotFound, "no route for %s %s", r.Method, r.URL.Path)
	case http.StatusMethodNotAllowed:
		err = &runtime.HTTPStatusError{
			HTTPStatus: http.StatusMethodNotAllowed,
			Err:        status.Errorf(codes.Unimplemented, "method %s is not allowed on %s", r.Method, r.URL.Path),
		}
	case http.StatusBadRequest:
		err = status.Error(codes.InvalidArgument, "malformed request path")
	default:
		err = &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: status.Error(codes.Unknown, http.StatusText(httpStatus))}
	}
	g.handleError(ctx, mux, m, w, r, err)
}

// writeError answers r with err as the mux would.
func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, err error) {
	_, out := runtime.MarshalerForRequest(g.mux, r)
	g.handleError(r.Context(), g.mux, out, w, r, err)
}

// RESOURCE_EXHAUSTED is what a gRPC server answers to a message over its
// size limit; the HTTP status is the specific one.
func (g *Gateway) errBodyTooLarge() error {
	return &runtime.HTTPStatusError{
		HTTPStatus: http.StatusRequestEntityTooLarge,
		Err:        status.Errorf(codes.ResourceExhausted, "request body is larger than %d bytes", g.cfg.MaxBodyBytes),
	}
}

type bodyKey struct{}

// limitedBody is an http.MaxBytesReader that remembers hitting its limit.
type limitedBody struct {
	io.ReadCloser
	exceeded bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		b.exceeded = true
	}
	return n, err
}

// limitBody makes r's body fail beyond the configured limit and lets
// handleError see it. A declared Content-Length over the limit is refused
// before anything is read.
func (g *Gateway) limitBody(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	if r.ContentLength > g.cfg.MaxBodyBytes {
		return r, g.errBodyTooLarge()
	}
	b := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes)}
	r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, b))
	r.Body = b
	return r, nil
}
