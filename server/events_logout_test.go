package server_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"printdock/server/events"
	"printdock/server/servertest"
)

// streamLogout reads the stream until it ends and returns its last `logout` event's data ("" for none).
func streamLogout(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var logout, typ string
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			return logout
		}
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = line[7:]
		case strings.HasPrefix(line, "data: ") && typ == "logout":
			logout = line[6:]
		case line == "":
			typ = ""
		}
	}
}

// TestEventStreamLogout: an open event stream ends with a `logout` event naming the reason when its key
// is rotated, its OAuth client revoked or its user deleted; other callers' streams stay open.
func TestEventStreamLogout(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	bystander := s.CreateUser(t, "stays@example.com", "user")
	bbr, bstop := openStream(t, s, bystander.APIKey, "", "")
	defer bstop()
	for _, tc := range []struct {
		name, want string
		open       func(t *testing.T) (bearer string, change func())
	}{
		{"api key rotated", `{"reason":"rotated"}`, func(t *testing.T) (string, func()) {
			u := s.CreateUser(t, "rotate@example.com", "user")
			return u.APIKey, func() {
				s.JSON(t, http.MethodPost, "/api/v1/users/"+u.ID+"/api-key/rotate", s.AdminKey, nil, http.StatusOK, nil)
			}
		}},
		{"user deleted", `{"reason":"deleted"}`, func(t *testing.T) (string, func()) {
			u := s.CreateUser(t, "gone@example.com", "admin")
			return u.APIKey, func() {
				s.JSON(t, http.MethodDelete, "/api/v1/users/"+u.ID, s.AdminKey, nil, http.StatusNoContent, nil)
			}
		}},
		{"oauth client revoked", `{"reason":"revoked"}`, func(t *testing.T) (string, func()) {
			id, tok := oauthToken(t, s)
			return tok, func() {
				s.JSON(t, http.MethodPost, "/api/v1/oauth-clients/"+id+"/revoke", s.AdminKey, nil, http.StatusOK, nil)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bearer, change := tc.open(t)
			br, stop := openStream(t, s, bearer, "", "")
			defer stop()
			change()
			if got := streamLogout(t, br); got != tc.want {
				t.Errorf("stream ended with logout %q, want %q", got, tc.want)
			}
			if code, _ := s.Do(t, http.MethodGet, "/api/v1/events", bearer, nil); code != http.StatusUnauthorized {
				t.Errorf("reopening: %d, want 401", code)
			}
		})
	}
	// The bystander's stream is still open: it gets the next event.
	s.JSON(t, http.MethodPost, "/api/v1/users/"+bystander.ID+"/api-key/rotate", s.AdminKey, nil, http.StatusOK, nil)
	if got := streamLogout(t, bbr); got != `{"reason":"rotated"}` {
		t.Errorf("bystander's stream: logout %q", got)
	}
}

// TestEventStreamSlowSubscriber: a stream whose live buffer overflows (one event here) falls back to the
// store after its last event and goes on: every event arrives once, in order, none skipped.
func TestEventStreamSlowSubscriber(t *testing.T) {
	old := events.SubBuffer
	events.SubBuffer = 1
	defer func() { events.SubBuffer = old }()
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "desk")
	br, stop := openStream(t, s, s.AdminKey, "types=key.rotated", "")
	defer stop()
	const n = 30
	var wg sync.WaitGroup
	for range n { // concurrently, so that one tail pass reads several
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.KeyAction(t, k.ID, "rotate")
		}()
	}
	wg.Wait()
	last := 0
	for range n {
		e := nextEvent(t, br)
		id, err := strconv.Atoi(e.ID)
		if err != nil || id <= last || e.Type != "key.rotated" {
			t.Fatalf("event %+v after %d", e, last)
		}
		last = id
	}
}
