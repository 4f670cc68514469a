package check_test

import (
	"slices"
	"strings"
	"testing"

	"printdock/server/api"
	"printdock/server/api/openapi/check"
)

// TestRoutesMatchDocument is the drift test: every route server/api registers is documented, and every
// documented operation is a registered route.
func TestRoutesMatchDocument(t *testing.T) {
	routes := api.New(api.Options{}).Routes()
	ops, err := check.Operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) == 0 {
		t.Fatal("api.Routes is empty")
	}
	for _, r := range routes {
		if method, _, ok := strings.Cut(r, " "); !ok || method != strings.ToUpper(method) {
			t.Errorf("route %q has no method: the document needs one operation per method", r)
			continue
		}
		if !slices.Contains(ops, r) {
			t.Errorf("route %q is served but not in openapi.yaml", r)
		}
	}
	for _, op := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("operation %q is in openapi.yaml but server/api does not serve it", op)
		}
	}
}

// TestDocumentComplete checks what makes the document useful: every operation has a summary, an
// operationId, a tag and at least one error response in the API's error shape.
func TestDocumentComplete(t *testing.T) {
	doc, err := check.Document()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.Summary == "" || op.OperationID == "" || len(op.Tags) == 0 {
				t.Errorf("%s: summary, operationId and tags are required", name)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q also used by %s", name, op.OperationID, prev)
			}
			ids[op.OperationID] = name
			hasError := false
			for code := range op.Responses.Map() {
				hasError = hasError || code >= "400"
			}
			if !hasError {
				t.Errorf("%s: no error response documented", name)
			}
		}
	}
}
