package portal

import (
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"printdock/server/api/openapi"
)

// The API reference page (/reference): the OpenAPI document of server/api/openapi rendered on the
// server as plain HTML, so it needs no script and no CDN under the portal's CSP.

type apiRef struct {
	Title, Version string
	Intro          []template.HTML // paragraphs
	Tags           []apiTag
	Schemas        []apiSchema
	JSONPath       string
}

type apiTag struct {
	Name        string
	Description template.HTML
	Ops         []apiOp
}

type apiOp struct {
	Anchor, Method, Path, Summary string
	Description                   []template.HTML
	Auth                          string
	Params                        []apiField
	Body                          *apiBody
	Responses                     []apiResponse
}

type apiBody struct {
	ContentType string
	Schema      apiSchemaRef
	Fields      []apiField
	Example     string
}

type apiResponse struct {
	Code        string
	Error       bool
	Description template.HTML
	Schema      apiSchemaRef
	Example     string
}

type apiSchemaRef struct{ Name, Type string } // Name: a component schema (linked); Type otherwise

type apiField struct {
	Name, In, Type string
	Ref            string // a component schema the type refers to
	Required       bool
	Description    template.HTML
}

type apiSchema struct {
	Name        string
	Description template.HTML
	Type        string
	Fields      []apiField
	Example     string
}

var (
	apiRefOnce = sync.OnceValues(buildAPIRef)
	codeSpan   = regexp.MustCompile("`([^`]+)`")
	boldSpan   = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// apiPage serves the API reference.
func (p *portal) apiPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ref, err := apiRefOnce()
	if err != nil {
		p.log.Error("portal: API reference", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.render(w, r, http.StatusOK, "api", p.newView(c, "API reference", "api", ref))
}

// inline renders the little Markdown the document uses (`code`, **bold**) as escaped HTML.
func inline(s string) template.HTML {
	h := template.HTMLEscapeString(strings.TrimSpace(s))
	h = codeSpan.ReplaceAllString(h, "<code>$1</code>")
	h = boldSpan.ReplaceAllString(h, "<strong>$1</strong>")
	return template.HTML(h) //nolint:gosec // escaped above; only our own tags added
}

func paragraphs(s string) []template.HTML {
	var out []template.HTML
	for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			out = append(out, inline(p))
		}
	}
	return out
}

func refName(ref string) string { return strings.TrimPrefix(ref, "#/components/schemas/") }

// typeOf describes a schema in a few words, naming a component schema when it is one.
func typeOf(s *openapi3.SchemaRef) apiSchemaRef {
	if s == nil || s.Value == nil {
		return apiSchemaRef{Type: "any"}
	}
	if strings.HasPrefix(s.Ref, "#/components/schemas/") {
		return apiSchemaRef{Name: refName(s.Ref)}
	}
	v := s.Value
	switch {
	case v.Type.Is("array") && v.Items != nil:
		it := typeOf(v.Items)
		if it.Name != "" {
			return apiSchemaRef{Name: it.Name, Type: "array of "}
		}
		return apiSchemaRef{Type: "array of " + it.Type}
	case len(v.AnyOf) > 0:
		var parts []string
		for _, a := range v.AnyOf {
			t := typeOf(a)
			parts = append(parts, t.Name+t.Type)
		}
		return apiSchemaRef{Type: strings.Join(parts, " or ")}
	}
	t := strings.Join(v.Type.Slice(), " or ")
	if v.Format != "" {
		t += " (" + v.Format + ")"
	}
	if len(v.Enum) > 0 {
		var vals []string
		for _, e := range v.Enum {
			b, _ := json.Marshal(e)
			vals = append(vals, string(b))
		}
		t += ": " + strings.Join(vals, ", ")
	}
	if v.Const != nil {
		b, _ := json.Marshal(v.Const)
		t += " = " + string(b)
	}
	if t == "" {
		t = "any"
	}
	return apiSchemaRef{Type: t}
}

// fieldsOf lists an object schema's properties, required ones first.
func fieldsOf(s *openapi3.SchemaRef) []apiField {
	if s == nil || s.Value == nil || len(s.Value.Properties) == 0 {
		return nil
	}
	v := s.Value
	var out []apiField
	for name, p := range v.Properties {
		t := typeOf(p)
		desc := ""
		if p.Value != nil {
			desc = p.Value.Description
		}
		out = append(out, apiField{Name: name, Type: t.Type, Ref: t.Name, Required: slices.Contains(v.Required, name),
			Description: inline(desc)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Required != out[j].Required {
			return out[i].Required
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func example(mt *openapi3.MediaType) string {
	if mt == nil {
		return ""
	}
	var v any = mt.Example
	if v == nil {
		for _, name := range slices.Sorted(maps.Keys(mt.Examples)) {
			if e := mt.Examples[name]; e != nil && e.Value != nil {
				v = e.Value.Value
				break
			}
		}
	}
	if v == nil && mt.Schema != nil && mt.Schema.Value != nil {
		v = mt.Schema.Value.Example
	}
	if v == nil {
		return ""
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// firstContent returns a media type of c (JSON preferred) and its name.
func firstContent(c openapi3.Content) (string, *openapi3.MediaType) {
	if mt := c.Get("application/json"); mt != nil {
		return "application/json", mt
	}
	for _, name := range slices.Sorted(maps.Keys(c)) {
		return name, c[name]
	}
	return "", nil
}

func authOf(doc *openapi3.T, op *openapi3.Operation) string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var names []string
	for _, r := range reqs {
		for name := range r {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return "none"
	}
	labels := map[string]string{"apiKey": "Bearer pdu_/pdt_", "oauth2": "OAuth client credentials",
		"oauthClientBasic": "HTTP Basic (OAuth client)", "agentSecret": "Bearer pdc_/pdu_/pds_"}
	for i, n := range names {
		if l, ok := labels[n]; ok {
			names[i] = l
		}
	}
	return strings.Join(names, " · ")
}

// buildAPIRef turns the OpenAPI document into the page's view, operations grouped by tag in the
// document's tag order, each in path order.
func buildAPIRef() (apiRef, error) {
	doc, err := openapi.Document()
	if err != nil {
		return apiRef{}, err
	}
	ref := apiRef{Title: doc.Info.Title, Version: doc.Info.Version, Intro: paragraphs(doc.Info.Description),
		JSONPath: openapi.Path}
	byTag := map[string]int{}
	for _, t := range doc.Tags {
		byTag[t.Name] = len(ref.Tags)
		ref.Tags = append(ref.Tags, apiTag{Name: t.Name, Description: inline(t.Description)})
	}
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	paths := slices.Sorted(maps.Keys(doc.Paths.Map()))
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			o := apiOp{Anchor: op.OperationID, Method: m, Path: path, Summary: op.Summary,
				Description: paragraphs(op.Description), Auth: authOf(doc, op)}
			for _, pr := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if pr.Value == nil {
					continue
				}
				t := typeOf(pr.Value.Schema)
				o.Params = append(o.Params, apiField{Name: pr.Value.Name, In: pr.Value.In, Type: t.Type, Ref: t.Name,
					Required: pr.Value.Required, Description: inline(pr.Value.Description)})
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				ct, mt := firstContent(rb.Value.Content)
				if mt != nil {
					o.Body = &apiBody{ContentType: ct, Schema: typeOf(mt.Schema), Fields: fieldsOf(mt.Schema), Example: example(mt)}
				}
			}
			for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
				rr := op.Responses.Value(code)
				if rr == nil || rr.Value == nil {
					continue
				}
				res := apiResponse{Code: code, Error: code >= "400"}
				if rr.Value.Description != nil {
					res.Description = inline(*rr.Value.Description)
				}
				if _, mt := firstContent(rr.Value.Content); mt != nil {
					res.Schema, res.Example = typeOf(mt.Schema), example(mt)
				}
				o.Responses = append(o.Responses, res)
			}
			tag := ""
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			i, ok := byTag[tag]
			if !ok {
				byTag[tag] = len(ref.Tags)
				i = len(ref.Tags)
				ref.Tags = append(ref.Tags, apiTag{Name: tag})
			}
			ref.Tags[i].Ops = append(ref.Tags[i].Ops, o)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		s := doc.Components.Schemas[name]
		sc := apiSchema{Name: name, Fields: fieldsOf(s)}
		if s.Value != nil {
			sc.Description = inline(s.Value.Description)
			sc.Type = typeOf(&openapi3.SchemaRef{Value: s.Value}).Type
			if s.Value.Example != nil {
				b, _ := json.MarshalIndent(s.Value.Example, "", "  ")
				sc.Example = string(b)
			}
		}
		ref.Schemas = append(ref.Schemas, sc)
	}
	return ref, nil
}
