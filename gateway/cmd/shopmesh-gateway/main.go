// Command shopmesh-gateway is the Shopmesh REST edge. `shopmesh-gateway
// --help` lists its flags and environment variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel"
	"google.golang.org/grpc/grpclog"

	"github.com/shopmesh/shopmesh/gateway/internal/gateway"
	"github.com/shopmesh/shopmesh/gateway/internal/telemetry"
)

func main() {
	os.Exit(run())
}

// run is the composition root and the only code that reads the environment.
func run() int {
	cfg, err := gateway.ParseConfig("shopmesh-gateway", os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, gateway.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "shopmesh-gateway: %v\n", err)
		return 2
	}
	log := telemetry.NewLogger(os.Stderr, cfg.LogLevel)
	grpclog.SetLoggerV2(telemetry.GRPCLogger(log))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("opentelemetry", slog.Any("error", err)) // e.g. spans that could not be exported
	}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	tp, err := telemetry.NewTracerProvider(ctx, os.Getenv)
	if err != nil {
		log.Error("tracing setup failed", slog.Any("error", err))
		return 1
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.Background(), telemetry.ShutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(flush); err != nil {
			log.Warn("flushing spans failed", slog.Any("error", err))
		}
	}()

	gw, err := gateway.New(cfg, gateway.Deps{Logger: log, TracerProvider: tp, Propagator: telemetry.Propagator()})
	if err != nil {
		log.Error("gateway setup failed", slog.Any("error", err))
		return 1
	}
	defer gw.Close()

	var lc net.ListenConfig
	api, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		log.Error("cannot listen", slog.Any("error", err))
		return 1
	}
	metrics, err := lc.Listen(ctx, "tcp", cfg.MetricsAddr)
	if err != nil {
		_ = api.Close()
		log.Error("cannot listen", slog.Any("error", err))
		return 1
	}
	if err := gw.Serve(ctx, api, metrics); err != nil {
		log.Error("gateway stopped", slog.Any("error", err))
		return 1
	}
	return 0
}
