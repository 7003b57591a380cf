package openapi

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// The generated document lives in gen/openapi; the gateway serves this copy.
const generated = "../../../gen/openapi/shopmesh.swagger.json"

func TestDocumentIsTheGeneratedOne(t *testing.T) {
	want, err := os.ReadFile(generated)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Document, want) {
		t.Fatalf("gateway/internal/openapi/shopmesh.swagger.json differs from %s: run `go generate ./...` in gateway/", generated)
	}
}

func TestDocumentIsSwagger2(t *testing.T) {
	var doc struct {
		Swagger string         `json:"swagger"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(Document, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Swagger != "2.0" || len(doc.Paths) == 0 {
		t.Fatalf("swagger %q with %d paths", doc.Swagger, len(doc.Paths))
	}
}
