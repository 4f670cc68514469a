package check_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"printdock/server/api/openapi"
	"printdock/server/api/openapi/check"
)

// TestJSONMatchesYAML: the served openapi.json is openapi.yaml converted. PRINTDOCK_UPDATE_OPENAPI=1
// regenerates it.
func TestJSONMatchesYAML(t *testing.T) {
	doc, err := check.Document()
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("PRINTDOCK_UPDATE_OPENAPI") == "1" {
		if err := os.WriteFile("../openapi.json", append(want, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(openapi.JSON(), &b); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("server/api/openapi/openapi.json is out of date: run PRINTDOCK_UPDATE_OPENAPI=1 go test ./server/api/openapi/check/")
	}
}
