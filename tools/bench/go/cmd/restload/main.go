// Command restload is the REST load generator of `make bench-rest`: a fixed
// number of HTTP/1.1 requests from --concurrency workers over keep-alive
// connections, after an untimed warm-up on the same connections. It prints
// one JSON object (see result) on stdout.
//
// The requests come from a plan, a JSON file holding an array of
//
//	{"method": "POST", "path": "/v1/...", "headers": {"Authorization": "..."}, "body": "..."}
//
// Request i (counting the warm-up) is plan[i % len(plan)], so a plan of one
// GET repeats it and a plan of warm-up+requests entries sends each once.
// Only loopback addresses are accepted as --base-url.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type planned struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// result is the JSON the bench driver parses. Latencies are of the timed
// requests answered 2xx; rate counts those per second.
type result struct {
	Requests     int            `json:"requests"`
	Warmup       int            `json:"warmup"`
	Concurrency  int            `json:"concurrency"`
	Seconds      float64        `json:"seconds"`
	Rate         float64        `json:"rate"`
	OK           uint64         `json:"ok"`
	MeanMs       float64        `json:"mean_ms"`
	P50Ms        float64        `json:"p50_ms"`
	P90Ms        float64        `json:"p90_ms"`
	P99Ms        float64        `json:"p99_ms"`
	MaxMs        float64        `json:"max_ms"`
	Status       map[string]int `json:"status"`        // timed requests by HTTP status, or transport error
	WarmupStatus map[string]int `json:"warmup_status"` // the same for the warm-up
	Connections  int64          `json:"connections"`   // TCP connections opened, warm-up included
	Go           string         `json:"go"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "restload: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	baseURL := flag.String("base-url", "", "the gateway, e.g. http://127.0.0.1:8080 (loopback only)")
	planFile := flag.String("plan", "", "JSON file: the array of requests to send, in turn")
	requests := flag.Int("requests", 1000, "timed requests")
	warmup := flag.Int("warmup", 100, "untimed requests first, on the same connections")
	concurrency := flag.Int("concurrency", 32, "workers, each with one request in flight")
	timeout := flag.Duration("timeout", 30*time.Second, "time limit of one request")
	flag.Parse()
	if err := loopback(*baseURL); err != nil {
		return err
	}
	if *requests <= 0 || *warmup < 0 || *concurrency <= 0 {
		return errors.New("--requests and --concurrency must be positive, --warmup not negative")
	}
	raw, err := os.ReadFile(*planFile)
	if err != nil {
		return err
	}
	var plan []planned
	if err := json.Unmarshal(raw, &plan); err != nil {
		return fmt.Errorf("%s: %w", *planFile, err)
	}
	if len(plan) == 0 {
		return fmt.Errorf("%s: no requests", *planFile)
	}

	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy: nil, // never a proxy from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        *concurrency,
		MaxIdleConnsPerHost: *concurrency,
		MaxConnsPerHost:     *concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	l := &loader{
		client: &http.Client{Transport: transport, Timeout: *timeout},
		base:   *baseURL,
		plan:   plan,
	}

	warm := l.phase(0, *warmup, *concurrency)
	timed := l.phase(*warmup, *warmup+*requests, *concurrency)
	ms := func(us float64) float64 { return us / 1000 }
	out := result{
		Requests:     *requests,
		Warmup:       *warmup,
		Concurrency:  *concurrency,
		Seconds:      timed.elapsed.Seconds(),
		Rate:         float64(timed.latency.n) / timed.elapsed.Seconds(),
		OK:           timed.latency.n,
		MeanMs:       ms(timed.latency.mean()),
		P50Ms:        ms(timed.latency.quantile(0.50)),
		P90Ms:        ms(timed.latency.quantile(0.90)),
		P99Ms:        ms(timed.latency.quantile(0.99)),
		MaxMs:        ms(float64(timed.latency.maxUs)),
		Status:       timed.status,
		WarmupStatus: warm.status,
		Connections:  dials.Load(),
		Go:           runtime.Version(),
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func loopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--base-url %q is not an http://host:port URL", base)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--base-url %q: only loopback addresses are allowed", base)
	}
	return nil
}

type loader struct {
	client *http.Client
	base   string
	plan   []planned
}

type outcome struct {
	elapsed time.Duration
	latency histogram
	status  map[string]int
}

// phase sends requests [from, to) with `workers` workers taking the next
// index in turn; it returns when every one is answered.
func (l *loader) phase(from, to, workers int) outcome {
	var next atomic.Int64
	next.Store(int64(from))
	parts := make([]outcome, workers)
	var wg sync.WaitGroup
	started := time.Now()
	for w := range parts {
		part := &parts[w]
		part.status = map[string]int{}
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				began := time.Now()
				key := l.send(l.plan[i%len(l.plan)])
				if key[0] == '2' {
					part.latency.record(uint64(time.Since(began).Microseconds()))
				}
				part.status[key]++
			}
		})
	}
	wg.Wait()
	total := outcome{elapsed: time.Since(started), status: map[string]int{}}
	for w := range parts {
		total.latency.merge(&parts[w].latency)
		for k, n := range parts[w].status {
			total.status[k] += n
		}
	}
	return total
}

// send makes one request and reads the whole answer, so the connection is
// reused; the HTTP status, or what went wrong before one arrived.
func (l *loader) send(p planned) string {
	var body io.Reader
	if p.Body != "" {
		body = bytes.NewReader([]byte(p.Body))
	}
	req, err := http.NewRequest(p.Method, l.base+p.Path, body)
	if err != nil {
		return "bad request in the plan"
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			return "timeout"
		}
		return "transport error"
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return "transport error"
	}
	return strconv.Itoa(resp.StatusCode)
}
