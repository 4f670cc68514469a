// Package openapi owns the OpenAPI 3.1 description of printdock-server's REST API (openapi.yaml, embedded):
// it loads and checks it once, serves it as JSON at GET /api/v1/openapi.json, and validates responses
// against it (Validator, which the servertest harness switches on). The document describes the API as it
// is; the drift test in this package fails when a route registered in server/api is missing from it or a
// documented one is not registered.
package openapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var yamlDoc []byte

// Path is where the API serves the document.
const Path = "/api/v1/openapi.json"

var load = sync.OnceValues(func() (*openapi3.T, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(yamlDoc)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: validate: %w", err)
	}
	return doc, nil
})

var jsonDoc = sync.OnceValues(func() ([]byte, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	return b, nil
})

// Document returns the parsed document. It is shared: callers must not modify it.
func Document() (*openapi3.T, error) { return load() }

// JSON returns the document as JSON.
func JSON() ([]byte, error) { return jsonDoc() }

// YAML returns the document's source.
func YAML() []byte { return yamlDoc }

// Operations lists the documented operations as "METHOD /path" (the net/http ServeMux pattern form),
// sorted.
func Operations() ([]string, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ServeHTTP answers the document as JSON (no authentication: it holds no secret).
func ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := JSON()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if err != nil {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"code":"internal","message":"internal error"}}` + "\n"))
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
