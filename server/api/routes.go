package api

import (
	"net/http"
	"slices"
)

// routeMux registers the API's handlers on its ServeMux and remembers their patterns, so that Routes can
// list them (the OpenAPI drift test compares them with the document).
type routeMux struct{ a *API }

func (m routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

func (m routeMux) Handle(pattern string, h http.Handler) {
	m.a.paths = append(m.a.paths, pattern)
	m.a.mux.Handle(pattern, h)
}

// Routes returns the ServeMux patterns of every route the API serves ("GET /api/v1/jobs/{id}", …),
// sorted.
func (a *API) Routes() []string {
	out := slices.Clone(a.paths)
	slices.Sort(out)
	return out
}
