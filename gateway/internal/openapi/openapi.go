// Package openapi embeds the public API's OpenAPI (Swagger 2.0) document.
//
// shopmesh.swagger.json is a copy of gen/openapi/shopmesh.swagger.json (go
// embed cannot reach outside the module); refresh it with `go generate ./...`
// in gateway/ after `make gen`. A test fails while the two differ.
package openapi

import _ "embed"

//go:generate cp ../../../gen/openapi/shopmesh.swagger.json shopmesh.swagger.json

// Document is the OpenAPI document served at GET /openapi.json.
//
//go:embed shopmesh.swagger.json
var Document []byte
