package portal

import (
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

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

// typeOf describes a schema in a few words, naming a component schema when it is one.
func typeOf(d *oaDoc, s *oaSchema) apiSchemaRef {
	if s == nil {
		return apiSchemaRef{Type: "any"}
	}
	if n, ok := strings.CutPrefix(s.Ref, refSchemas); ok {
		return apiSchemaRef{Name: n}
	}
	switch {
	case slices.Contains(s.Type, "array") && s.Items != nil:
		it := typeOf(d, s.Items)
		if it.Name != "" {
			return apiSchemaRef{Name: it.Name, Type: "array of "}
		}
		return apiSchemaRef{Type: "array of " + it.Type}
	case len(s.AnyOf) > 0:
		var parts []string
		for _, a := range s.AnyOf {
			t := typeOf(d, a)
			parts = append(parts, t.Name+t.Type)
		}
		return apiSchemaRef{Type: strings.Join(parts, " or ")}
	}
	t := strings.Join(s.Type, " or ")
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		var vals []string
		for _, e := range s.Enum {
			b, _ := json.Marshal(e)
			vals = append(vals, string(b))
		}
		t += ": " + strings.Join(vals, ", ")
	}
	if s.Const != nil {
		t += " = " + string(*s.Const)
	}
	if t == "" {
		t = "any"
	}
	return apiSchemaRef{Type: t}
}

// fieldsOf lists an object schema's properties, required ones first.
func fieldsOf(d *oaDoc, s *oaSchema) []apiField {
	s = d.schema(s)
	if s == nil || len(s.Properties) == 0 {
		return nil
	}
	var out []apiField
	for name, p := range s.Properties {
		t := typeOf(d, p)
		out = append(out, apiField{Name: name, Type: t.Type, Ref: t.Name, Required: slices.Contains(s.Required, name),
			Description: inline(p.Description)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Required != out[j].Required {
			return out[i].Required
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func indentJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// exampleOf returns a media type's example: its own, its first named one, or its schema's.
func exampleOf(d *oaDoc, mt oaMedia) string {
	v := mt.Example
	if v == nil {
		for _, name := range slices.Sorted(maps.Keys(mt.Examples)) {
			if v = d.example(mt.Examples[name]); v != nil {
				break
			}
		}
	}
	if s := d.schema(mt.Schema); v == nil && s != nil {
		v = s.Example
	}
	return indentJSON(v)
}

// firstContent returns a media type of c (JSON preferred) and its name.
func firstContent(c map[string]oaMedia) (string, oaMedia, bool) {
	if mt, ok := c["application/json"]; ok {
		return "application/json", mt, true
	}
	for _, name := range slices.Sorted(maps.Keys(c)) {
		return name, c[name], true
	}
	return "", oaMedia{}, false
}

func authOf(d *oaDoc, op *oaOp) string {
	reqs := d.Security
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

// buildAPIRef turns the OpenAPI document into the page's view: operations grouped by tag in the
// document's tag order, by path within a tag, then the component schemas.
func buildAPIRef() (apiRef, error) {
	var d oaDoc
	if err := json.Unmarshal(openapi.JSON(), &d); err != nil {
		return apiRef{}, fmt.Errorf("portal: read the OpenAPI document: %w", err)
	}
	ref := apiRef{Title: d.Info.Title, Version: d.Info.Version, Intro: paragraphs(d.Info.Description),
		JSONPath: openapi.Path}
	byTag := map[string]int{}
	for _, t := range d.Tags {
		byTag[t.Name] = len(ref.Tags)
		ref.Tags = append(ref.Tags, apiTag{Name: t.Name, Description: inline(t.Description)})
	}
	for _, path := range slices.Sorted(maps.Keys(d.Paths)) {
		item := d.Paths[path]
		for _, m := range item.ops() {
			o := apiOp{Anchor: m.op.OperationID, Method: m.method, Path: path, Summary: m.op.Summary,
				Description: paragraphs(m.op.Description), Auth: authOf(&d, m.op)}
			for _, pr := range append(slices.Clone(item.Parameters), m.op.Parameters...) {
				pr = d.param(pr)
				t := typeOf(&d, pr.Schema)
				o.Params = append(o.Params, apiField{Name: pr.Name, In: pr.In, Type: t.Type, Ref: t.Name,
					Required: pr.Required, Description: inline(pr.Description)})
			}
			if rb := m.op.RequestBody; rb != nil {
				if ct, mt, ok := firstContent(rb.Content); ok {
					o.Body = &apiBody{ContentType: ct, Schema: typeOf(&d, mt.Schema), Fields: fieldsOf(&d, mt.Schema),
						Example: exampleOf(&d, mt)}
				}
			}
			for _, code := range slices.Sorted(maps.Keys(m.op.Responses)) {
				rr := d.response(m.op.Responses[code])
				res := apiResponse{Code: code, Error: code >= "400", Description: inline(rr.Description)}
				if _, mt, ok := firstContent(rr.Content); ok {
					res.Schema, res.Example = typeOf(&d, mt.Schema), exampleOf(&d, mt)
				}
				o.Responses = append(o.Responses, res)
			}
			tag := ""
			if len(m.op.Tags) > 0 {
				tag = m.op.Tags[0]
			}
			i, ok := byTag[tag]
			if !ok {
				i = len(ref.Tags)
				byTag[tag] = i
				ref.Tags = append(ref.Tags, apiTag{Name: tag})
			}
			ref.Tags[i].Ops = append(ref.Tags[i].Ops, o)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Components.Schemas)) {
		s := d.Components.Schemas[name]
		ref.Schemas = append(ref.Schemas, apiSchema{Name: name, Fields: fieldsOf(&d, s), Description: inline(s.Description),
			Type: typeOf(&d, &oaSchema{Type: s.Type, Format: s.Format, Enum: s.Enum}).Type, Example: indentJSON(s.Example)})
	}
	return ref, nil
}
