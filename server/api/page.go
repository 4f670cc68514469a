package api

import (
	"errors"
	"net/http"
	"strconv"

	"printdock/server/httpx"
	"printdock/server/store"
)

// Paging: every list takes limit (1..MaxPageLimit, default DefaultPageLimit) and after (the next_cursor of
// the previous page) and answers {"items": […], "next_cursor": "…"}, next_cursor absent on the last page.
// Lists are keyset-paginated in the store, so rows inserted meanwhile never shift a page.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// pageReq is a parsed limit and after.
type pageReq struct {
	limit int
	after store.Key
}

// errBadLimit and the cursor error are what parsePage answers 400 with.
var errBadLimit = errors.New("limit must be an integer from 1 to " + strconv.Itoa(MaxPageLimit))

// parsePage reads limit and after from r's query; on a bad value it answers 400 and returns false.
func parsePage(w http.ResponseWriter, r *http.Request) (pageReq, bool) {
	q := r.URL.Query()
	p := pageReq{limit: DefaultPageLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageLimit {
			httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, errBadLimit.Error())
			return pageReq{}, false
		}
		p.limit = n
	}
	k, err := store.ParseCursor(q.Get("after"))
	if err != nil {
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest,
			"after must be the next_cursor of a previous page of this list")
		return pageReq{}, false
	}
	p.after = k
	return p, true
}

// store is the page to read: one row more than the limit, which tells whether a next page exists.
func (p pageReq) store() store.Page { return store.Page{Limit: p.limit + 1, After: p.after} }

// page is one page of a list as the API answers it.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// writePage answers rows (read with p.store()) converted by conv, with the cursor of the next page; key
// gives a row's position in the list.
func writePage[S, T any](w http.ResponseWriter, p pageReq, rows []S, key func(S) store.Key, conv func(S) T) {
	rows, next := store.NextPage(rows, p.limit, key)
	out := page[T]{Items: make([]T, 0, len(rows)), NextCursor: next.Cursor()}
	for _, r := range rows {
		out.Items = append(out.Items, conv(r))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// same is the identity conversion for writePage.
func same[T any](v T) T { return v }
