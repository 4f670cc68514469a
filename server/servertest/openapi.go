package servertest

import (
	"net/http"
	"testing"

	"printdock/server/api/openapi/check"
)

// checkOpenAPI returns h with every response validated against the OpenAPI document; the test fails at
// its end for each response that does not match (unless o.NoOpenAPICheck or o.NoRecording).
func checkOpenAPI(t testing.TB, o Options, h http.Handler) http.Handler {
	t.Helper()
	if o.NoOpenAPICheck || o.NoRecording {
		return h
	}
	v, err := check.NewValidator()
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	t.Cleanup(func() {
		for _, f := range v.Failures() {
			t.Errorf("servertest: response does not match server/api/openapi/openapi.yaml: %s", f)
		}
	})
	return v.Wrap(h)
}
