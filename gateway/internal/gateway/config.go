package gateway

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Config is everything the gateway can be told. Each field has a flag and an
// environment variable; a flag given on the command line wins over the
// variable, which wins over the default.
type Config struct {
	Addr            string        // REST listener
	MetricsAddr     string        // Prometheus listener (GET /metrics)
	AuthTarget      string        // gRPC target of the auth service
	UserTarget      string        // gRPC target of the user service
	ProductTarget   string        // gRPC target of the product service
	OrderTarget     string        // gRPC target of the order service
	RequestTimeout  time.Duration // budget of one REST request, upstream call included
	ReadyTimeout    time.Duration // budget of the health checks behind GET /readyz
	ShutdownTimeout time.Duration // drain time for in-flight requests on SIGTERM/SIGINT
	MaxBodyBytes    int64         // larger request bodies get 413
	CORSOrigins     []string      // allowed browser origins; empty: CORS off
	// TrustForwardedFor keeps the client's X-Forwarded-For and
	// X-Forwarded-Host; otherwise the upstreams only see the peer address.
	TrustForwardedFor bool
	LogLevel          slog.Level
}

// envPrefix starts the name of every variable the gateway reads itself; the
// OpenTelemetry SDK reads the standard OTEL_* variables.
const envPrefix = "SHOPMESH_GATEWAY_"

// ErrHelp is returned by ParseConfig after it printed the usage for -h/--help.
var ErrHelp = flag.ErrHelp

// ParseConfig reads args (without the program name) and the environment
// through getenv. Usage and errors go to output.
func ParseConfig(program string, args []string, getenv func(string) string, output io.Writer) (Config, error) {
	var (
		cfg     Config
		origins string
		level   string
	)
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.SetOutput(output)
	env := map[string]string{} // flag name -> variable
	str := func(p *string, name, def, usage string) {
		env[name] = envName(name)
		fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, env[name]))
	}
	dur := func(p *time.Duration, name string, def time.Duration, usage string) {
		env[name] = envName(name)
		fs.DurationVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, env[name]))
	}
	str(&cfg.Addr, "addr", "127.0.0.1:8080", "REST listen address")
	str(&cfg.MetricsAddr, "metrics-addr", "127.0.0.1:9090", "Prometheus listen address, serving GET /metrics")
	str(&cfg.AuthTarget, "auth-target", "127.0.0.1:50051", "gRPC target of the auth service")
	str(&cfg.UserTarget, "user-target", "127.0.0.1:50052", "gRPC target of the user service")
	str(&cfg.ProductTarget, "product-target", "127.0.0.1:50053", "gRPC target of the product service")
	str(&cfg.OrderTarget, "order-target", "127.0.0.1:50054", "gRPC target of the order service")
	dur(&cfg.RequestTimeout, "request-timeout", 10*time.Second, "time limit of one REST request, upstream call included (504 beyond it)")
	dur(&cfg.ReadyTimeout, "ready-timeout", time.Second, "time limit of the upstream health checks behind GET /readyz")
	dur(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "time in-flight requests get to finish after SIGTERM or SIGINT")
	env["max-body-bytes"] = envName("max-body-bytes")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", 1<<20, fmt.Sprintf("largest accepted request body in bytes; larger ones get 413 (env %s)", env["max-body-bytes"]))
	str(&origins, "cors-origins", "", `comma-separated browser origins allowed by CORS, e.g. "https://shop.example.com", or "*"; empty turns CORS off`)
	env["trust-forwarded-for"] = envName("trust-forwarded-for")
	fs.BoolVar(&cfg.TrustForwardedFor, "trust-forwarded-for", false, fmt.Sprintf(
		"keep the X-Forwarded-For and X-Forwarded-Host the client sent (set only behind a proxy that sets them); "+
			"otherwise upstreams get x-forwarded-for = the peer address (env %s)", env["trust-forwarded-for"]))
	str(&level, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(output, "Usage: %s [flags]\n\n", program)
		fmt.Fprintf(output, "The Shopmesh REST edge: grpc-gateway handlers for the public gRPC services,\n")
		fmt.Fprintf(output, "plus GET /healthz, GET /readyz and GET /openapi.json on --addr.\n\n")
		fmt.Fprintf(output, "Flags (a flag given on the command line wins over its environment variable):\n")
		fs.PrintDefaults()
		fmt.Fprintf(output, "\nTracing: W3C trace context is always propagated; spans are exported over\n")
		fmt.Fprintf(output, "OTLP/gRPC only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)\n")
		fmt.Fprintf(output, "is set. The other standard OTEL_* variables (OTEL_SERVICE_NAME, default \"gateway\";\n")
		fmt.Fprintf(output, "OTEL_TRACES_SAMPLER; OTEL_EXPORTER_OTLP_INSECURE, ...) apply.\n")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErrs []error
	fs.VisitAll(func(f *flag.Flag) {
		variable := env[f.Name]
		if value, ok := lookup(getenv, variable); ok && !given[f.Name] {
			if err := fs.Set(f.Name, value); err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s=%q is not a valid --%s: %w", variable, value, f.Name, err))
			}
		}
	})
	if err := errors.Join(envErrs...); err != nil {
		return Config{}, err
	}
	for _, o := range strings.Split(origins, ",") {
		// Browsers send the origin lower-case and without a trailing slash.
		if o = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/")); o != "" {
			cfg.CORSOrigins = append(cfg.CORSOrigins, o)
		}
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return Config{}, fmt.Errorf("log level %q: %w", level, err)
	}
	return cfg, cfg.validate()
}

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// lookup treats an empty variable as unset.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func (c Config) validate() error {
	var errs []error
	for _, s := range []struct{ name, value string }{
		{"addr", c.Addr}, {"metrics-addr", c.MetricsAddr}, {"auth-target", c.AuthTarget},
		{"user-target", c.UserTarget}, {"product-target", c.ProductTarget}, {"order-target", c.OrderTarget},
	} {
		if strings.TrimSpace(s.value) == "" {
			errs = append(errs, fmt.Errorf("--%s must not be empty", s.name))
		}
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"request-timeout", c.RequestTimeout}, {"ready-timeout", c.ReadyTimeout}, {"shutdown-timeout", c.ShutdownTimeout},
	} {
		if d.value <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be positive, got %s", d.name, d.value))
		}
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("--max-body-bytes must be positive, got %d", c.MaxBodyBytes))
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("--cors-origins: %q is not an origin like https://shop.example.com", o))
		}
	}
	return errors.Join(errs...)
}
