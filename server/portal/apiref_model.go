package portal

import (
	"encoding/json"
	"strings"
)

// The part of an OpenAPI 3.1 document the reference page shows, read with encoding/json (the server
// links no OpenAPI library). References ($ref) are resolved against components when they are used.

type oaDoc struct {
	Info struct {
		Title, Version, Description string
	}
	Tags       []struct{ Name, Description string }
	Security   []map[string][]string
	Paths      map[string]oaPathItem
	Components struct {
		Schemas    map[string]*oaSchema
		Parameters map[string]oaParam
		Responses  map[string]oaResponse
		Examples   map[string]oaExample
	}
}

type oaPathItem struct {
	Parameters                    []oaParam
	Get, Post, Put, Patch, Delete *oaOp
}

// ops returns the item's operations by method, in a fixed order.
func (p oaPathItem) ops() []struct {
	method string
	op     *oaOp
} {
	all := []struct {
		method string
		op     *oaOp
	}{{"GET", p.Get}, {"POST", p.Post}, {"PUT", p.Put}, {"PATCH", p.Patch}, {"DELETE", p.Delete}}
	out := all[:0]
	for _, m := range all {
		if m.op != nil {
			out = append(out, m)
		}
	}
	return out
}

type oaOp struct {
	Tags                 []string
	Summary, Description string
	OperationID          string `json:"operationId"`
	Parameters           []oaParam
	RequestBody          *struct{ Content map[string]oaMedia } `json:"requestBody"`
	Responses            map[string]oaResponse
	Security             *[]map[string][]string
}

type oaParam struct {
	Ref                   string `json:"$ref"`
	Name, In, Description string
	Required              bool
	Schema                *oaSchema
}

type oaResponse struct {
	Ref         string `json:"$ref"`
	Description string
	Content     map[string]oaMedia
}

type oaMedia struct {
	Schema   *oaSchema
	Example  any
	Examples map[string]oaExample
}

type oaExample struct {
	Ref   string `json:"$ref"`
	Value any
}

type oaSchema struct {
	Ref         string `json:"$ref"`
	Type        oaTypes
	Format      string
	Description string
	Enum        []any
	Const       *json.RawMessage
	Items       *oaSchema
	AnyOf       []*oaSchema `json:"anyOf"`
	Properties  map[string]*oaSchema
	Required    []string
	Example     any
}

// oaTypes is a schema's type: one name or, in 3.1, a list.
type oaTypes []string

func (t *oaTypes) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*t = oaTypes{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*t = many
	return nil
}

const (
	refSchemas    = "#/components/schemas/"
	refParameters = "#/components/parameters/"
	refResponses  = "#/components/responses/"
	refExamples   = "#/components/examples/"
)

func (d *oaDoc) param(p oaParam) oaParam {
	if r, ok := strings.CutPrefix(p.Ref, refParameters); ok {
		return d.Components.Parameters[r]
	}
	return p
}

func (d *oaDoc) response(r oaResponse) oaResponse {
	if n, ok := strings.CutPrefix(r.Ref, refResponses); ok {
		return d.Components.Responses[n]
	}
	return r
}

func (d *oaDoc) example(e oaExample) any {
	if n, ok := strings.CutPrefix(e.Ref, refExamples); ok {
		return d.Components.Examples[n].Value
	}
	return e.Value
}

// schema resolves a reference to a component schema.
func (d *oaDoc) schema(s *oaSchema) *oaSchema {
	if s == nil {
		return nil
	}
	if n, ok := strings.CutPrefix(s.Ref, refSchemas); ok {
		if c := d.Components.Schemas[n]; c != nil {
			return c
		}
	}
	return s
}
