package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	authv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/auth/v1"
	orderv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/order/v1"
	productv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/product/v1"
	userv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/user/v1"
)

// upstream is one public gRPC service behind the gateway, on its own
// connection.
type upstream struct {
	name    string // "product": in logs, /readyz and error messages
	service string // fully-qualified service name, checked by /readyz
	target  string
	conn    *grpc.ClientConn
}

type publicService struct {
	name     string
	service  string
	target   func(Config) string
	register func(context.Context, *runtime.ServeMux, grpc.ClientConnInterface) error
}

// publicServices lists every service with google.api.http bindings. The
// *InternalService services have none and are never exposed.
func publicServices() []publicService {
	return []publicService{
		{"auth", authv1.AuthService_ServiceDesc.ServiceName, func(c Config) string { return c.AuthTarget },
			func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
				return authv1.RegisterAuthServiceHandlerClient(ctx, mux, authv1.NewAuthServiceClient(cc))
			}},
		{"user", userv1.UserService_ServiceDesc.ServiceName, func(c Config) string { return c.UserTarget },
			func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
				return userv1.RegisterUserServiceHandlerClient(ctx, mux, userv1.NewUserServiceClient(cc))
			}},
		{"product", productv1.ProductService_ServiceDesc.ServiceName, func(c Config) string { return c.ProductTarget },
			func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
				return productv1.RegisterProductServiceHandlerClient(ctx, mux, productv1.NewProductServiceClient(cc))
			}},
		{"order", orderv1.OrderService_ServiceDesc.ServiceName, func(c Config) string { return c.OrderTarget },
			func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
				return orderv1.RegisterOrderServiceHandlerClient(ctx, mux, orderv1.NewOrderServiceClient(cc))
			}},
	}
}

// Connection settings shared by every upstream.
const (
	// Like the Python services' channels (kit/clients.py). Pings are only
	// sent while calls are in flight; the gRPC servers' default policy
	// refuses more frequent ones.
	keepaliveTime    = 30 * time.Second
	keepaliveTimeout = 10 * time.Second
	// A connection attempt to a silent (not refusing) address gives up
	// after this, so calls fail with 503 before the request timeout.
	connectTimeout = 5 * time.Second
	// Reconnect backoff cap (grpc-go's default is 120 s): a restarted
	// upstream is used again within seconds.
	maxReconnectDelay = 5 * time.Second
)

// dial creates the connection lazily: nothing is dialled until the first
// call or health check. Calls do not wait for readiness (grpc-go's default),
// so they fail fast with UNAVAILABLE while the upstream is down.
func (g *Gateway) dial(s publicService, target string, d Deps) (*upstream, error) {
	bo := backoff.DefaultConfig
	bo.MaxDelay = maxReconnectDelay
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()), // the mesh adds mTLS
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(d.TracerProvider),
			otelgrpc.WithPropagators(d.Propagator),
		)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: connectTimeout}),
		grpc.WithChainUnaryInterceptor(unreachable(s.name, g.log)),
	)
	if err != nil {
		return nil, fmt.Errorf("%s upstream %q: %w", s.name, target, err)
	}
	return &upstream{name: s.name, service: s.service, target: target, conn: conn}, nil
}

// unreachable rewrites the errors of calls that never reached the upstream.
// grpc-go describes its connection attempt in them (addresses, resolver
// output), which is for our logs, not for clients. The code is kept, so an
// upstream that is down is still 503 and a timeout 504.
func unreachable(name string, log *slog.Logger) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		var p peer.Peer
		err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Peer(&p))...)
		if err == nil || p.Addr != nil {
			return err
		}
		st := status.Convert(err)
		switch st.Code() {
		case codes.Unavailable:
			log.LogAttrs(ctx, slog.LevelWarn, "upstream unreachable",
				slog.String("upstream", name), slog.String("rpc", method), slog.String("error", st.Message()))
			return status.Errorf(codes.Unavailable, "the %s service is unavailable", name)
		case codes.DeadlineExceeded:
			log.LogAttrs(ctx, slog.LevelWarn, "upstream not reached in time",
				slog.String("upstream", name), slog.String("rpc", method), slog.String("error", st.Message()))
			return status.Errorf(codes.DeadlineExceeded, "the %s service did not answer in time", name)
		case codes.Canceled:
			return status.Error(codes.Canceled, "the request was canceled")
		}
		return err
	}
}
