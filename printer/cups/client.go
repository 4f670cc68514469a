package cups

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/user"
	"strings"
	"sync/atomic"

	"printdock/printer"
)

// client posts IPP requests to one cupsd over HTTP/1.1.
type client struct {
	base string // http://host:port
	hc   *http.Client
	tr   *http.Transport
}

// newClient returns a client for server: a unix socket path (starting with '/') or host[:port].
func newClient(server string) *client {
	tr := &http.Transport{MaxIdleConns: 2, DisableCompression: true}
	base := "http://localhost"
	if strings.HasPrefix(server, "/") {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", server)
		}
	} else {
		host := server
		if _, _, err := net.SplitHostPort(server); err != nil {
			host = net.JoinHostPort(server, "631")
		}
		base = "http://" + host
	}
	return &client{base: base, hc: &http.Client{Transport: tr}, tr: tr}
}

func (c *client) close() { c.tr.CloseIdleConnections() }

// countingReader counts the document bytes the HTTP transport took.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// post sends an IPP request (hdr) followed by doc to the queue's resource and decodes the answer. sent
// is how many bytes of doc the transport took.
func (c *client) post(ctx context.Context, queue string, hdr, doc []byte) (resp *response, sent int, err error) {
	cr := &countingReader{r: bytes.NewReader(doc)}
	body := io.MultiReader(bytes.NewReader(hdr), cr)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/printers/"+url.PathEscape(queue), body)
	if err != nil {
		return nil, 0, fmt.Errorf("ipp request: %w", err)
	}
	req.ContentLength = int64(len(hdr) + len(doc))
	req.Header.Set("Content-Type", "application/ipp")
	hr, err := c.hc.Do(req)
	sent = int(cr.n.Load())
	if err != nil {
		if ctx.Err() != nil {
			return nil, sent, ctx.Err()
		}
		return nil, sent, fmt.Errorf("%w: cupsd: %v", printer.ErrDisconnected, err)
	}
	defer hr.Body.Close()
	b, err := io.ReadAll(io.LimitReader(hr.Body, maxResponse+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, sent, ctx.Err()
	case err != nil:
		return nil, sent, fmt.Errorf("%w: cupsd: reading the answer: %v", printer.ErrDisconnected, err)
	case hr.StatusCode != http.StatusOK:
		return nil, sent, fmt.Errorf("cupsd answered HTTP %s: %w", hr.Status, printer.ErrFault)
	case len(b) > maxResponse:
		return nil, sent, fmt.Errorf("cupsd answer longer than %d bytes: %w", maxResponse, printer.ErrFault)
	}
	resp, err = parseResponse(b)
	if err != nil {
		return nil, sent, fmt.Errorf("%w: %w", err, printer.ErrFault)
	}
	return resp, sent, nil
}

// currentUser is the requesting-user-name: the login name, else "printdock".
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "printdock"
}
