package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestShutdownDrainsInFlightRequests(t *testing.T) {
	tg := newTestGateway(t, func(c *Config, up *upstreams) {
		up.products.delay = 300 * time.Millisecond
		c.ShutdownTimeout = 5 * time.Second
	})
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- tg.Serve(ctx, api, metrics) }()

	type result struct {
		status int
		err    error
	}
	inFlight := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + api.Addr().String() + "/v1/products/mug")
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		inFlight <- result{status: resp.StatusCode}
	}()
	// Stop once the upstream has the call, i.e. the request is in flight.
	deadline := time.Now().Add(5 * time.Second)
	for tg.up.products.lastMetadata() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop() // what SIGTERM does in main

	if r := <-inFlight; r.err != nil || r.status != http.StatusOK {
		t.Fatalf("in-flight request: HTTP %d, %v", r.status, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := http.Get("http://" + api.Addr().String() + "/healthz"); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestMetricsListenerServesPrometheus(t *testing.T) {
	tg := newTestGateway(t, nil)
	api, _ := net.Listen("tcp", "127.0.0.1:0")
	metrics, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil || api == nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- tg.Serve(ctx, api, metrics) }()
	defer func() { stop(); <-served }()

	resp, err := http.Get("http://" + metrics.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") == "" {
		t.Fatalf("HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Only /metrics: the API is not on the metrics listener.
	resp2, err := http.Get("http://" + metrics.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotFound {
		t.Errorf("metrics listener answered /healthz with %d", resp2.StatusCode)
	}
}
