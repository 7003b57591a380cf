// Command productstub is the floor of `make bench-rest`: a minimal gRPC
// server answering ProductService.GetProduct with one fixed Product, the
// one the real product service returned, and the standard health service
// (SERVING) so the gateway's /readyz accepts it. No interceptors, no
// database. It stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	productv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/product/v1"
)

// catalog answers GetProduct for its one product; every other method is
// UNIMPLEMENTED.
type catalog struct {
	productv1.UnimplementedProductServiceServer
	product *productv1.Product
}

func (c *catalog) GetProduct(_ context.Context, req *productv1.GetProductRequest) (*productv1.Product, error) {
	if req.GetName() != c.product.GetName() {
		return nil, status.Errorf(codes.NotFound, "product %q not found", req.GetName())
	}
	return c.product, nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "productstub: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	answer := flag.String("answer", "", "file holding the serialized Product to return")
	flag.Parse()
	raw, err := os.ReadFile(*answer)
	if err != nil {
		return err
	}
	product := &productv1.Product{}
	if err := proto.Unmarshal(raw, product); err != nil {
		return fmt.Errorf("%s: %w", *answer, err)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	server := grpc.NewServer()
	productv1.RegisterProductServiceServer(server, &catalog{product: product})
	checks := health.NewServer()
	checks.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	checks.SetServingStatus(productv1.ProductService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(server, checks)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		server.GracefulStop()
	}()
	fmt.Printf("serving %s on %s\n", product.GetName(), lis.Addr())
	return server.Serve(lis)
}
