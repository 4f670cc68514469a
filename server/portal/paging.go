package portal

import (
	"errors"
	"net/http"
	"net/url"

	"printdock/server/store"
)

// pageSize is the rows a list page of the portal shows; "Next page" continues after the last one.
const pageSize = 50

// pager links a list page to the next one and back to the first, keeping the page's filters.
type pager struct {
	Next  string // the next page's URL ("" on the last page)
	First string // the first page's URL ("" on the first page)
}

// Paged reports whether the list has more than one page.
func (pg pager) Paged() bool { return pg.Next != "" || pg.First != "" }

// errBadPage is a page link with a cursor the server did not make.
var errBadPage = errors.New("portal: bad page link")

// pageFrom reads the page r asks for (its after parameter): one row more than pageSize, which tells
// whether a next page exists.
func pageFrom(r *http.Request) (store.Page, error) {
	k, err := store.ParseCursor(r.URL.Query().Get("after"))
	if err != nil {
		return store.Page{}, errBadPage
	}
	return store.Page{Limit: pageSize + 1, After: k}, nil
}

// cutPage cuts rows (read with pageFrom) to pageSize and returns the links to the next and first pages
// of r's list, with r's other query parameters (the filters).
func cutPage[T any](r *http.Request, rows []T, key func(T) store.Key) ([]T, pager) {
	rows, next := store.NextPage(rows, pageSize, key)
	link := func(after string) string {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "after" {
				q[k] = v
			}
		}
		if after != "" {
			q.Set("after", after)
		}
		if len(q) == 0 {
			return r.URL.Path
		}
		return r.URL.Path + "?" + q.Encode()
	}
	var pg pager
	if !next.IsZero() {
		pg.Next = link(next.Cursor())
	}
	if r.URL.Query().Get("after") != "" {
		pg.First = link("")
	}
	return rows, pg
}

// badPage answers a page link whose cursor the server did not make.
func (p *portal) badPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p.errorPage(w, r, c, http.StatusBadRequest, "This page link is not valid",
		"The list's page link was changed or cut short. Start again from the first page.")
}

// listPage reads the page of a list that r asks for with list and cuts it; on a bad page link or a failed
// read it answers the error page and returns ok false.
func listPage[T any](p *portal, w http.ResponseWriter, r *http.Request, c *reqCtx,
	list func(store.Page) ([]T, error), key func(T) store.Key) (rows []T, pg pager, ok bool) {
	sp, err := pageFrom(r)
	if err != nil {
		p.badPage(w, r, c)
		return nil, pager{}, false
	}
	rows, err = list(sp)
	if err != nil {
		p.fail(w, r, c, err)
		return nil, pager{}, false
	}
	rows, pg = cutPage(r, rows, key)
	return rows, pg, true
}
