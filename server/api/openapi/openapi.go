// Package openapi owns the OpenAPI 3.1 description of printdock-server's REST API. The source is
// openapi.yaml; openapi.json is generated from it (`PRINTDOCK_UPDATE_OPENAPI=1 go test
// ./server/api/openapi/check/`, and a test fails while they differ) so the server serves and renders the
// document without linking an OpenAPI library. It serves the JSON at GET /api/v1/openapi.json. Package
// check (tests only) loads the document with kin-openapi, compares it with the routes server/api
// registers (the drift test) and validates responses against it.
package openapi

import (
	_ "embed"
	"net/http"
)

//go:embed openapi.yaml
var yamlDoc []byte

//go:embed openapi.json
var jsonDoc []byte

// Path is where the API serves the document.
const Path = "/api/v1/openapi.json"

// JSON returns the document as JSON. Callers must not modify it.
func JSON() []byte { return jsonDoc }

// YAML returns the document's source. Callers must not modify it.
func YAML() []byte { return yamlDoc }

// ServeHTTP answers the document as JSON (no authentication: it holds no secret).
func ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(jsonDoc)
}
