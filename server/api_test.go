package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/servertest"
)

// actor is one column of the authorization matrix.
type actor struct {
	name   string
	bearer string
}

var seq atomic.Int64

func uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

// oauthToken creates an OAuth client in s's portal and returns a fresh access token for it.
func oauthToken(t *testing.T, s *servertest.Server) (clientID, token string) {
	t.Helper()
	var c struct {
		ID           string `json:"id"`
		ClientSecret string `json:"client_secret"`
	}
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients", s.AdminKey, map[string]any{"description": uniq("wms ")}, http.StatusCreated, &c)
	code, body := postForm(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.ClientSecret}}, "")
	if code != http.StatusOK {
		t.Fatalf("token: %d %s", code, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 ||
		!strings.HasPrefix(tok.AccessToken, "pdt_") {
		t.Fatalf("token answer %s: %v", body, err)
	}
	return c.ID, tok.AccessToken
}

func postForm(t *testing.T, s *servertest.Server, form url.Values, basic string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != "" {
		req.Header.Set("Authorization", "Basic "+basic)
	}
	resp, err := s.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestAuthorizationMatrix calls every endpoint as anonymous, a plain user, an OAuth client, the
// administrator of another portal and the portal's administrator, and checks each status.
func TestAuthorizationMatrix(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailureBurst: 10000})
	user := s.CreateUser(t, "user@example.com", keys.RoleUser)
	_, tok := oauthToken(t, s)
	other := s.CreatePortal(t, "Other portal", "admin@other.example")

	anon := &actor{"anonymous", ""}
	plain := &actor{"user", user.APIKey}
	oauth := &actor{"oauth", tok}
	stranger := &actor{"other-portal admin", other.AdminAPIKey}
	admin := &actor{"admin", s.AdminKey}
	actors := []*actor{anon, plain, oauth, stranger, admin}

	// Fresh resources of the first portal, one per call, so that mutations don't interfere.
	key := func() string { return s.CreatePrintClient(t, uniq("matrix key ")).ID }
	dev := func() string {
		var k servertest.Key
		s.JSON(t, http.MethodPost, "/api/v1/print-client-secrets", s.AdminKey, map[string]any{"description": uniq("dev "), "use_shared_secret": true}, http.StatusCreated, &k)
		return k.ID
	}
	usr := func() string { return s.CreateUser(t, uniq("u")+"@example.com", keys.RoleUser).ID }
	oac := func() string {
		var c struct {
			ID string `json:"id"`
		}
		s.JSON(t, http.MethodPost, "/api/v1/oauth-clients", s.AdminKey, map[string]any{"description": uniq("c")}, http.StatusCreated, &c)
		return c.ID
	}
	fixed := func(p string) func() string { return func() string { return p } }
	hook := func() string {
		var w struct {
			ID string `json:"id"`
		}
		s.JSON(t, http.MethodPost, "/api/v1/webhooks", s.AdminKey, map[string]any{"url": "https://hooks.example.com/" + uniq("h")}, http.StatusCreated, &w)
		return w.ID
	}
	withID := func(f func() string, format string) func() string {
		return func() string { return fmt.Sprintf(format, f()) }
	}
	confirm := map[string]any{"confirmation": keys.SharedResetConfirmation, "reset_devices": false}

	// A printer of the first portal and fresh jobs for it. Its agent stays connected but reports the
	// printer gone, so the jobs stay queued (and cancellable).
	agentKey := s.CreatePrintClient(t, "matrix agent")
	ag := s.Connect(t, agentKey.Secret, servertest.DialOptions{Printers: []protocol.Printer{servertest.SimPrinter("matrix")}})
	printerID := s.WaitPrinter(t, ag, "sim://matrix", true).ID
	if err := ag.SendPrinters(ctx10(t)); err != nil {
		t.Fatal(err)
	}
	s.WaitPrinter(t, ag, "sim://matrix", false)
	jobBody := func() any {
		return servertest.JobRequest([]byte("^XA^FDmatrix^FS^XZ"), servertest.JobOptions{Title: uniq("matrix job ")})
	}
	job := func() string {
		return s.SubmitJob(t, printerID, []byte("^XA^XZ"), servertest.JobOptions{Title: uniq("j")}).ID
	}

	type row struct {
		method string
		path   func() string
		body   func() any
		want   [5]int // anonymous, user, oauth, other-portal admin, admin
		// selfRotate: a 200 answer carries the caller's new API key.
		selfRotate bool
	}
	const U, F, N = 401, 403, 404
	nobody := func() any { return nil }
	body := func(v any) func() any { return func() any { return v } }
	rows := []row{
		{"GET", fixed("/healthz"), nobody, [5]int{200, 200, 200, 200, 200}, false},
		{"GET", fixed("/metrics"), nobody, [5]int{200, 200, 200, 200, 200}, false},
		{"GET", fixed(protocol.Path), nobody, [5]int{U, 426, U, 426, 426}, false},
		{"POST", fixed("/api/v1/print-client-secrets"), body(map[string]any{"description": "m"}), [5]int{U, F, F, 201, 201}, false},
		{"GET", fixed("/api/v1/print-client-secrets"), nobody, [5]int{U, F, F, 200, 200}, false},
		{"GET", withID(key, "/api/v1/print-client-secrets/%s"), nobody, [5]int{U, F, F, N, 200}, false},
		{"DELETE", withID(key, "/api/v1/print-client-secrets/%s"), nobody, [5]int{U, F, F, N, 204}, false},
		{"POST", withID(key, "/api/v1/print-client-secrets/%s/rotate"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(key, "/api/v1/print-client-secrets/%s/activate"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(key, "/api/v1/print-client-secrets/%s/deactivate"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(key, "/api/v1/print-client-secrets/%s/revoke"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(key, "/api/v1/print-client-secrets/%s/use-shared-secret"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(dev, "/api/v1/print-client-secrets/%s/own-secret"), nobody, [5]int{U, F, F, N, 200}, false},
		{"PUT", withID(key, "/api/v1/keys/%s/expiry"), body(map[string]any{"expires_at": "2099-01-02T03:04:05Z"}), [5]int{U, F, F, N, 204}, false},
		{"PUT", withID(oac, "/api/v1/keys/%s/expiry"), body(map[string]any{"expires_at": nil}), [5]int{U, F, F, N, 204}, false},
		{"GET", fixed("/api/v1/me"), nobody, [5]int{U, 200, F, 200, 200}, false},
		{"GET", fixed("/api/v1/users"), nobody, [5]int{U, F, F, 200, 200}, false},
		{"POST", fixed("/api/v1/users"), func() any { return map[string]any{"email": uniq("n") + "@example.com"} }, [5]int{U, F, F, 201, 201}, false},
		{"PATCH", withID(usr, "/api/v1/users/%s"), body(map[string]any{"role": "admin"}), [5]int{U, F, F, N, 200}, false},
		{"DELETE", withID(usr, "/api/v1/users/%s"), nobody, [5]int{U, F, F, N, 204}, false},
		{"POST", withID(usr, "/api/v1/users/%s/api-key/rotate"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(usr, "/api/v1/users/%s/api-key/rotate"), body(map[string]any{"grace_seconds": 3600}), [5]int{U, F, F, N, 200}, false},
		{"POST", fixed("/api/v1/shared-secret/reset"), body(confirm), [5]int{U, F, F, 200, 200}, false},
		{"GET", fixed("/api/v1/shared-secret/devices"), nobody, [5]int{U, F, F, 200, 200}, false},
		{"GET", fixed("/api/v1/oauth-clients"), nobody, [5]int{U, F, F, 200, 200}, false},
		{"POST", fixed("/api/v1/oauth-clients"), body(map[string]any{"description": "x"}), [5]int{U, F, F, 201, 201}, false},
		{"POST", withID(oac, "/api/v1/oauth-clients/%s/revoke"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(oac, "/api/v1/oauth-clients/%s/activate"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(oac, "/api/v1/oauth-clients/%s/deactivate"), nobody, [5]int{U, F, F, N, 200}, false},
		{"DELETE", withID(oac, "/api/v1/oauth-clients/%s"), nobody, [5]int{U, F, F, N, 204}, false},
		{"POST", withID(oac, "/api/v1/oauth-clients/%s/rotate"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(oac, "/api/v1/oauth-clients/%s/rotate"), body(map[string]any{"grace_seconds": 60}), [5]int{U, F, F, N, 200}, false},
		{"GET", fixed("/api/v1/audit"), nobody, [5]int{U, F, F, 200, 200}, false},
		{"GET", fixed("/api/v1/clients"), nobody, [5]int{U, F, F, 200, 200}, false},
		{"GET", fixed("/api/v1/printers"), nobody, [5]int{U, 200, 200, 200, 200}, false},
		{"GET", fixed("/api/v1/printers/" + printerID), nobody, [5]int{U, 200, 200, N, 200}, false},
		{"POST", fixed("/api/v1/printers/" + printerID + "/jobs"), jobBody, [5]int{U, 201, 201, N, 201}, false},
		{"GET", fixed("/api/v1/jobs"), nobody, [5]int{U, 200, 200, 200, 200}, false},
		{"GET", withID(job, "/api/v1/jobs/%s"), nobody, [5]int{U, 200, 200, N, 200}, false},
		{"GET", withID(job, "/api/v1/jobs/%s/events"), nobody, [5]int{U, 200, 200, N, 200}, false},
		{"DELETE", withID(job, "/api/v1/jobs/%s"), nobody, [5]int{U, 200, 200, N, 200}, false},
		{"POST", fixed("/api/v1/webhooks"), body(map[string]any{"url": "https://hooks.example.com/m"}), [5]int{U, F, F, 201, 201}, false},
		{"GET", fixed("/api/v1/webhooks"), nobody, [5]int{U, F, F, 200, 200}, false},
		{"GET", withID(hook, "/api/v1/webhooks/%s"), nobody, [5]int{U, F, F, N, 200}, false},
		{"PATCH", withID(hook, "/api/v1/webhooks/%s"), body(map[string]any{"enabled": false}), [5]int{U, F, F, N, 200}, false},
		{"DELETE", withID(hook, "/api/v1/webhooks/%s"), nobody, [5]int{U, F, F, N, 204}, false},
		{"GET", withID(hook, "/api/v1/webhooks/%s/deliveries"), nobody, [5]int{U, F, F, N, 200}, false},
		{"POST", withID(hook, "/api/v1/webhooks/%s/deliveries/1/resend"), nobody, [5]int{U, F, F, N, N}, false},
		{"GET", fixed("/api/v1/events?types=no.such.type"), nobody, [5]int{U, 400, 400, 400, 400}, false},
		{"GET", fixed("/api/v1/no-such-thing"), nobody, [5]int{N, N, N, N, N}, false},
		{"PUT", fixed("/api/v1/me"), nobody, [5]int{405, 405, 405, 405, 405}, false},
		// Last: these change the caller's own key.
		{"POST", fixed("/api/v1/me/api-key/rotate"), body(map[string]any{"confirm": true}), [5]int{U, 200, F, 200, 200}, true},
	}
	for _, r := range rows {
		for i, a := range actors {
			path := r.path()
			code, b := s.Do(t, r.method, path, a.bearer, r.body())
			if code != r.want[i] {
				t.Errorf("%s %s as %s: %d, want %d: %s", r.method, path, a.name, code, r.want[i], b)
				continue
			}
			if code >= 400 {
				decodeError(t, fmt.Sprintf("%s %s as %s", r.method, path, a.name), b)
			} else if len(b) > 0 && !json.Valid(b) && !strings.HasPrefix(path, "/metrics") {
				t.Errorf("%s %s as %s: answer is not JSON: %q", r.method, path, a.name, b)
			}
			if r.selfRotate && code == 200 {
				var out struct {
					APIKey string `json:"api_key"`
				}
				json.Unmarshal(b, &out)
				a.bearer = out.APIKey
			}
		}
	}
	// /oauth/token authenticates with client credentials, not a bearer: nobody gets in without them.
	code, b := postForm(t, s, url.Values{"grant_type": {"client_credentials"}}, "")
	if code != http.StatusUnauthorized || !strings.Contains(string(b), `"invalid_client"`) {
		t.Errorf("token without client credentials: %d %s", code, b)
	}

	// Portals are isolated: the other admin's list holds none of this portal's keys.
	var list struct {
		Items []servertest.Key `json:"items"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/print-client-secrets", stranger.bearer, nil, http.StatusOK, &list)
	for _, k := range list.Items {
		if strings.HasPrefix(k.Description, "matrix key") {
			t.Errorf("other portal sees key %s", k.ID)
		}
	}
	// … nor any of its printers or jobs.
	var printers, jobList struct {
		Items []map[string]any `json:"items"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/printers", stranger.bearer, nil, http.StatusOK, &printers)
	s.JSON(t, http.MethodGet, "/api/v1/jobs", stranger.bearer, nil, http.StatusOK, &jobList)
	if len(printers.Items) != 0 || len(jobList.Items) != 0 {
		t.Errorf("other portal sees %d printers and %d jobs", len(printers.Items), len(jobList.Items))
	}
	s.JSON(t, http.MethodGet, "/api/v1/jobs", plain.bearer, nil, http.StatusOK, &jobList)
	if len(jobList.Items) < 5 {
		t.Errorf("the user sees %d jobs of the portal", len(jobList.Items))
	}
}

// TestJSONErrors: malformed, unknown-field, trailing, oversized and empty bodies; unknown routes and
// methods; every answer is the JSON error shape with the right status.
func TestJSONErrors(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		want   int
		code   string
	}{
		{"malformed", "POST", "/api/v1/print-client-secrets", `{"description": "x"`, 400, "bad_request"},
		{"not an object", "POST", "/api/v1/print-client-secrets", `[1,2]`, 400, "bad_request"},
		{"unknown field", "POST", "/api/v1/print-client-secrets", `{"description":"x","colour":"red"}`, 400, "bad_request"},
		{"wrong type", "POST", "/api/v1/print-client-secrets", `{"description":5}`, 400, "bad_request"},
		{"trailing data", "POST", "/api/v1/print-client-secrets", `{"description":"x"} {}`, 400, "bad_request"},
		{"empty", "POST", "/api/v1/print-client-secrets", ``, 400, "bad_request"},
		{"oversized", "POST", "/api/v1/print-client-secrets", `{"description":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "payload_too_large"},
		{"bad role", "POST", "/api/v1/users", `{"email":"r@example.com","role":"root"}`, 400, "bad_request"},
		{"bad audit time", "GET", "/api/v1/audit?since=yesterday", nil, 400, "bad_request"},
		{"unknown key", "GET", "/api/v1/print-client-secrets/key_nope", nil, 404, "not_found"},
		{"unknown route", "GET", "/api/v2/anything", nil, 404, "not_found"},
		{"wrong method", "DELETE", "/api/v1/users", nil, 405, "method_not_allowed"},
		{"unconfirmed rotate", "POST", "/api/v1/me/api-key/rotate", nil, 400, "confirmation_required"},
		{"grace too long", "POST", "/api/v1/me/api-key/rotate", map[string]any{"confirm": true, "grace_seconds": 86401}, 400, "bad_request"},
		{"negative grace", "POST", "/api/v1/users/usr_nope/api-key/rotate", map[string]any{"grace_seconds": -1}, 400, "bad_request"},
		{"duplicate user", "POST", "/api/v1/users", map[string]any{"email": "admin@example.com"}, 409, "conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := s.Do(t, tc.method, tc.path, s.AdminKey, tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %.200s", code, tc.want, b)
			}
			if e := decodeError(t, tc.name, b); e.Error.Code != tc.code {
				t.Fatalf("code %q, want %q", e.Error.Code, tc.code)
			}
		})
	}
	// A well-formed request still works afterwards.
	s.CreatePrintClient(t, "after errors")
}

// TestRESTBearerChecks: wrong kinds and malformed secrets on the REST API are 401 with a clear message.
func TestRESTBearerChecks(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailureBurst: 1000})
	k := s.CreatePrintClient(t, "agent only")
	for _, tc := range []struct {
		name, bearer, msg string
	}{
		{"print client secret", k.Secret, "personal API key"},
		{"truncated", s.AdminKey[:40], "too short"},
		{"checksum", s.AdminKey[:50] + "AAA", "checksum"},
	} {
		code, b := s.Do(t, http.MethodGet, "/api/v1/me", tc.bearer, nil)
		e := decodeError(t, tc.name, b)
		if code != http.StatusUnauthorized || !strings.Contains(e.Error.Message, tc.msg) {
			t.Errorf("%s: %d %s", tc.name, code, b)
		}
	}
	// An OAuth client's revocation takes effect on its tokens at once.
	id, tok := oauthToken(t, s)
	if code, b := s.Do(t, http.MethodGet, "/api/v1/clients", tok, nil); code != http.StatusForbidden {
		t.Fatalf("token before revoke: %d %s", code, b)
	}
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients/"+id+"/revoke", s.AdminKey, nil, http.StatusOK, nil)
	if code, b := s.Do(t, http.MethodGet, "/api/v1/clients", tok, nil); code != http.StatusUnauthorized &&
		!strings.Contains(string(b), "key_revoked") {
		t.Fatalf("token after revoke: %d %s", code, b)
	}
}

// TestOAuthToken: the client-credentials grant with form and Basic credentials, and its RFC 6749 errors.
func TestOAuthToken(t *testing.T) {
	s := servertest.New(t, servertest.Options{AuthFailureBurst: 1000})
	var c struct {
		ID           string `json:"id"`
		ClientSecret string `json:"client_secret"`
	}
	s.JSON(t, http.MethodPost, "/api/v1/oauth-clients", s.AdminKey, map[string]any{"description": "WMS"}, http.StatusCreated, &c)
	basic := func(id, secret string) string {
		return basicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	wrong, _ := protocol.NewSecret(protocol.KindOAuthClient)
	for _, tc := range []struct {
		name  string
		form  url.Values
		basic string
		want  int
		err   string
	}{
		{"form", url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.ClientSecret}}, "", 200, ""},
		{"basic", url.Values{"grant_type": {"client_credentials"}}, basic(c.ID, c.ClientSecret), 200, ""},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {wrong}}, "", 401, "invalid_client"},
		{"wrong secret basic", url.Values{"grant_type": {"client_credentials"}}, basic(c.ID, wrong), 401, "invalid_client"},
		{"malformed secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {"abc"}}, "", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"oac_x"}, "client_secret": {c.ClientSecret}}, "", 401, "invalid_client"},
		{"password grant", url.Values{"grant_type": {"password"}}, "", 400, "unsupported_grant_type"},
		{"no grant", url.Values{}, "", 400, "invalid_request"},
		{"both", url.Values{"grant_type": {"client_credentials"}, "client_secret": {c.ClientSecret}}, basic(c.ID, c.ClientSecret), 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := postForm(t, s, tc.form, tc.basic)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %s", code, tc.want, b)
			}
			var e struct {
				Error       string `json:"error"`
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatal(err)
			}
			if e.Error != tc.err || (tc.want == 200) != (e.AccessToken != "") {
				t.Fatalf("answer %s", b)
			}
			if strings.Contains(string(b), c.ClientSecret) {
				t.Fatalf("answer echoes the client secret")
			}
		})
	}
	// Credentials in the URL are refused.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oauth/token?client_id=x&client_secret=y",
		strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("credentials in URL: %d", resp.StatusCode)
	}
}

func basicAuth(user, pass string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// TestListShowsConnected: the key list shows connected live, and last access once connected.
func TestListShowsConnected(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	k := s.CreatePrintClient(t, "listed")
	idle := s.CreatePrintClient(t, "idle")
	get := func() map[string]map[string]any {
		var list struct {
			Items []map[string]any `json:"items"`
		}
		s.JSON(t, http.MethodGet, "/api/v1/print-client-secrets", s.AdminKey, nil, http.StatusOK, &list)
		out := map[string]map[string]any{}
		for _, it := range list.Items {
			for _, f := range []string{"id", "description", "prefix", "status", "created_at", "last_accessed_at", "connected"} {
				if _, ok := it[f]; !ok {
					t.Fatalf("item lacks %q: %v", f, it)
				}
			}
			if _, ok := it["secret"]; ok {
				t.Fatalf("list shows a secret")
			}
			out[it["id"].(string)] = it
		}
		return out
	}
	if l := get(); l[k.ID]["connected"] != false || l[k.ID]["last_accessed_at"] != nil {
		t.Fatalf("before connect: %v", l[k.ID])
	}
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	l := get()
	if l[k.ID]["connected"] != true || l[k.ID]["last_accessed_at"] == nil || l[idle.ID]["connected"] != false {
		t.Fatalf("after connect: %v / %v", l[k.ID], l[idle.ID])
	}
	if !strings.HasPrefix(l[k.ID]["prefix"].(string), "pdc_") || len(l[k.ID]["prefix"].(string)) != 8 {
		t.Fatalf("prefix %v", l[k.ID]["prefix"])
	}
	a.Conn.CloseNow()
	s.WaitConnected(t, k.ID, false)
	if l := get(); l[k.ID]["connected"] != false {
		t.Fatalf("after disconnect: %v", l[k.ID])
	}
}

// TestHealthAndMetrics: /healthz answers ok; /metrics exposes connected agents, auth failures, logouts,
// HTTP requests and the SQLite writer's pauses.
func TestHealthAndMetrics(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	var h map[string]string
	s.JSON(t, http.MethodGet, "/healthz", "", nil, http.StatusOK, &h)
	if h["status"] != "ok" {
		t.Fatalf("healthz %v", h)
	}
	k := s.CreatePrintClient(t, "metrics")
	a := s.Connect(t, k.Secret, servertest.DialOptions{})
	b := s.Connect(t, s.CreatePrintClient(t, "stays").Secret, servertest.DialOptions{})
	bad, _ := protocol.NewSecret(protocol.KindPrintClient)
	s.Dial(ctx10(t), bad, servertest.DialOptions{})
	s.KeyAction(t, k.ID, "revoke")
	a.ExpectLogout(t, protocol.ReasonRevoked)
	b.ExpectAlive(t)
	want := []string{
		"printdock_agents_connected 1",
		`printdock_auth_failures_total{result="unauthenticated",surface="agent"} 1`,
		`printdock_logouts_sent_total{reason="revoked"} 1`,
		`printdock_http_requests_total{code="201",method="POST",route="POST /api/v1/print-client-secrets"} 2`,
		// counted when the logged-out session's handler returns, just after the client saw the close
		`printdock_http_requests_total{code="101",method="GET",route="GET /api/v1/agent/ws"}`,
		// the SQLite store's writer pauses (servertest's store is SQLite)
		"printdock_sqlite_wal_restarts_total ",
		"printdock_sqlite_wal_restart_seconds_total ",
	}
	servertest.WaitFor(t, "metrics to show every counter", func() bool {
		code, b := s.Do(t, http.MethodGet, "/metrics", "", nil)
		if code != 200 {
			t.Fatalf("metrics %d", code)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				return false
			}
		}
		return true
	})
}
