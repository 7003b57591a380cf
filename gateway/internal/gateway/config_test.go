package gateway

import (
	"bytes"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("gw", nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: "127.0.0.1:8080", MetricsAddr: "127.0.0.1:9090",
		AuthTarget: "127.0.0.1:50051", UserTarget: "127.0.0.1:50052",
		ProductTarget: "127.0.0.1:50053", OrderTarget: "127.0.0.1:50054",
		RequestTimeout: 10 * time.Second, ReadyTimeout: time.Second, ShutdownTimeout: 10 * time.Second,
		MaxBodyBytes: 1 << 20, LogLevel: slog.LevelInfo,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestConfigEnvironmentAndFlags(t *testing.T) {
	cfg, err := ParseConfig("gw", []string{"--product-target", "flag:1", "-request-timeout=3s"}, env(map[string]string{
		"SHOPMESH_GATEWAY_ADDR":                "0.0.0.0:8081",
		"SHOPMESH_GATEWAY_PRODUCT_TARGET":      "env:1", // the flag wins
		"SHOPMESH_GATEWAY_ORDER_TARGET":        "order:50054",
		"SHOPMESH_GATEWAY_REQUEST_TIMEOUT":     "30s",
		"SHOPMESH_GATEWAY_MAX_BODY_BYTES":      "2048",
		"SHOPMESH_GATEWAY_CORS_ORIGINS":        " https://Shop.example.com/ , http://localhost:3000 ",
		"SHOPMESH_GATEWAY_LOG_LEVEL":           "debug",
		"SHOPMESH_GATEWAY_TRUST_FORWARDED_FOR": "true",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:8081" || cfg.ProductTarget != "flag:1" || cfg.OrderTarget != "order:50054" ||
		cfg.RequestTimeout != 3*time.Second || cfg.MaxBodyBytes != 2048 || cfg.LogLevel != slog.LevelDebug || !cfg.TrustForwardedFor {
		t.Errorf("got %+v", cfg)
	}
	if !slices.Equal(cfg.CORSOrigins, []string{"https://shop.example.com", "http://localhost:3000"}) {
		t.Errorf("origins %q", cfg.CORSOrigins)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"duration":   {"SHOPMESH_GATEWAY_READY_TIMEOUT": "soon"},
		"negative":   {"SHOPMESH_GATEWAY_REQUEST_TIMEOUT": "-1s"},
		"body limit": {"SHOPMESH_GATEWAY_MAX_BODY_BYTES": "0"},
		"origin":     {"SHOPMESH_GATEWAY_CORS_ORIGINS": "shop.example.com"},
		"log level":  {"SHOPMESH_GATEWAY_LOG_LEVEL": "loud"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseConfig("gw", nil, env(vars), &bytes.Buffer{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestHelpListsEveryFlagWithItsVariable(t *testing.T) {
	var out bytes.Buffer
	_, err := ParseConfig("gw", []string{"--help"}, env(nil), &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("err %v", err)
	}
	for _, name := range []string{"addr", "metrics-addr", "auth-target", "user-target", "product-target", "order-target",
		"request-timeout", "ready-timeout", "shutdown-timeout", "max-body-bytes", "cors-origins", "trust-forwarded-for", "log-level"} {
		listed := strings.Contains(out.String(), "\n  -"+name+" ") || strings.Contains(out.String(), "\n  -"+name+"\n")
		if !listed || !strings.Contains(out.String(), envName(name)) {
			t.Errorf("--help lacks %s or %s", name, envName(name))
		}
	}
	if !strings.Contains(out.String(), "OTEL_EXPORTER_OTLP_ENDPOINT") {
		t.Error("--help does not mention OTEL_EXPORTER_OTLP_ENDPOINT")
	}
}
