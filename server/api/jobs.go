package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"printdock/server/httpx"
	"printdock/server/hub"
	"printdock/server/jobs"
	"printdock/server/keys"
	"printdock/server/store"
)

// Print jobs, printers and clients: thin handlers over jobs.Service (docs/jobs.md).

// MaxJobBodySize bounds the body of a job submission: the largest content in base64 plus room for the
// other fields. Every other endpoint keeps httpx.MaxBodySize.
const MaxJobBodySize = (jobs.MaxContentSize+2)/3*4 + 64<<10

// jobsReady answers 503 when the server runs without a job queue.
func (a *API) jobsReady(w http.ResponseWriter) bool {
	if a.jobs == nil {
		httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "print jobs are not available on this server")
		return false
	}
	return true
}

// jobFail answers an error from jobs.Service: like fail, but 404 and 413 say what was not found or too
// large (the texts of jobs errors name IDs, never secrets or content).
func (a *API) jobFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, jobs.ErrTooLarge):
		httpx.WriteError(w, http.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
			fmt.Sprintf("the content is larger than %d bytes", jobs.MaxContentSize))
	case errors.Is(err, jobs.ErrUnprocessable):
		// The reason names the document's problem or the printer's language, never content.
		msg := strings.TrimPrefix(clientMessage(err), keys.ErrInvalid.Error()+": ")
		httpx.WriteError(w, http.StatusUnprocessableEntity, codeUnprocessable, msg)
	case errors.Is(err, jobs.ErrRendererUnavailable):
		w.Header().Set("Retry-After", "30")
		httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "the PDF renderer is not available right now; try again")
	case errors.Is(err, keys.ErrNotFound):
		msg := strings.TrimPrefix(clientMessage(err), keys.ErrNotFound.Error()+": ")
		httpx.WriteError(w, http.StatusNotFound, httpx.CodeNotFound, msg)
	default:
		a.fail(w, r, err)
	}
}

// codeUnprocessable is the error code of a PDF or PNG label that cannot be printed (422).
const codeUnprocessable = "unprocessable_label"

var jobFieldName = regexp.MustCompile(`^[a-z_]{1,40}$`)

// decodeJobRequest reads a job submission: like httpx.DecodeJSON (one object, no unknown fields, no
// trailing data) but up to MaxJobBodySize, and with a clear answer for content that is not base64.
func decodeJobRequest(w http.ResponseWriter, r *http.Request, req *jobs.SubmitRequest) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJobBodySize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpx.WriteError(w, http.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
				fmt.Sprintf("the body is larger than %d bytes (a job's content is at most %d bytes before base64)",
					MaxJobBodySize, jobs.MaxContentSize))
			return false
		}
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, "could not read the request body")
		return false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, "the request body is empty; a JSON object is required")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		var ce base64.CorruptInputError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		msg := "malformed JSON: not a valid JSON object"
		switch {
		case errors.As(err, &ce):
			msg = fmt.Sprintf("content_base64 is not valid base64 (standard alphabet, padded): bad data at byte %d", int64(ce))
		case errors.As(err, &se):
			msg = fmt.Sprintf("malformed JSON: syntax error at byte %d", se.Offset)
		case errors.As(err, &te):
			msg = "malformed JSON: wrong type of value"
			if te.Field != "" && jobFieldName.MatchString(te.Field) {
				msg = fmt.Sprintf("malformed JSON: field %q must be %s", te.Field, te.Type.String())
			}
		case errors.Is(err, io.ErrUnexpectedEOF):
			msg = "malformed JSON: the JSON is truncated"
		default:
			if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				name := strings.Trim(f, `"`)
				msg = "malformed JSON: unknown field"
				if jobFieldName.MatchString(name) {
					msg += " " + strconv.Quote(name)
				}
			}
		}
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, msg)
		return false
	}
	if dec.More() {
		httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, "malformed JSON: unexpected data after the object")
		return false
	}
	return true
}

// submitJob is POST /api/v1/printers/{printer_id}/jobs: 201 with the new job, 200 with the existing one
// when the idempotency key was used before for the same job, 409 when it was used for another.
func (a *API) submitJob(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !a.jobsReady(w) {
		return
	}
	var req jobs.SubmitRequest
	if !decodeJobRequest(w, r, &req) {
		return
	}
	j, created, err := a.jobs.Submit(r.Context(), act, r.PathValue("printer_id"), req)
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	status, result := http.StatusCreated, "created"
	if !created {
		status, result = http.StatusOK, "duplicate"
	}
	a.metrics.jobsSubmit.WithLabelValues(result).Inc()
	w.Header().Set("Location", "/api/v1/jobs/"+j.ID)
	httpx.WriteJSON(w, status, j)
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !a.jobsReady(w) {
		return
	}
	j, err := a.jobs.Get(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, j)
}

func (a *API) jobEvents(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !a.jobsReady(w) {
		return
	}
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	evs, err := a.jobs.Events(r.Context(), act, r.PathValue("id"), p.store())
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	writePage(w, p, evs, jobs.Event.Key, same)
}

// listJobs is GET /api/v1/jobs?printer=&state=&created_after=&idempotency_key=&limit=&after= (newest
// first, one page).
func (a *API) listJobs(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !a.jobsReady(w) {
		return
	}
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	sp := p.store()
	f := jobs.ListFilter{PrinterID: q.Get("printer"), State: jobs.State(q.Get("state")),
		IdempotencyKey: q.Get("idempotency_key"), Limit: sp.Limit, After: sp.After}
	if v := q.Get("created_after"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			httpx.WriteError(w, http.StatusBadRequest, httpx.CodeBadRequest, "created_after must be an RFC 3339 time")
			return
		}
		f.CreatedAfter = t
	}
	js, err := a.jobs.List(r.Context(), act, f)
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	writePage(w, p, js, jobs.Job.Key, same)
}

// cancelJob is DELETE /api/v1/jobs/{id}: 200 with the cancelled job (it was still queued); 202 with the
// job when it was already sent to an agent that can cancel (the agent's answer decides: GET shows
// `cancelled`, or `printing`/`done` with the reason it came too late); 409 once printing or finished,
// or for an agent too old to cancel.
func (a *API) cancelJob(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !a.jobsReady(w) {
		return
	}
	j, err := a.jobs.Cancel(r.Context(), act, r.PathValue("id"))
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	code := http.StatusOK
	if j.State != jobs.Cancelled {
		code = http.StatusAccepted // the agent has been asked to discard it
	}
	httpx.WriteJSON(w, code, j)
}

// listPrinters is GET /api/v1/printers: every printer of the portal, online or not (any user or OAuth
// client of the portal: they need the IDs to submit jobs).
func (a *API) listPrinters(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !a.jobsReady(w) {
		return
	}
	p, ok := parsePage(w, r)
	if !ok {
		return
	}
	ps, err := a.jobs.ListPrinters(r.Context(), act.PortalID, p.store())
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	writePage(w, p, ps, jobs.Printer.Key, a.printerAlert(r.Context(), act))
}

func (a *API) getPrinter(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !a.jobsReady(w) {
		return
	}
	p, err := a.jobs.GetPrinter(r.Context(), act.PortalID, r.PathValue("printer_id"))
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a.printerAlert(r.Context(), act)(p))
}

// ClientJSON is one agent installation the server knows, online or not.
type ClientJSON struct {
	ID             string `json:"id"`
	CredentialID   string `json:"credential_id"`
	KeyKind        string `json:"key_kind,omitempty"`
	Description    string `json:"description"`
	Hostname       string `json:"hostname"`
	OS             string `json:"os"`
	AgentVersion   string `json:"agent_version"`
	InstallationID string `json:"installation_id"`
	Online         bool   `json:"online"`
	// RemoteAddr and ConnectedAt describe the live session (newest, when several); absent offline.
	RemoteAddr  string        `json:"remote_addr,omitempty"`
	ConnectedAt *time.Time    `json:"connected_at,omitempty"`
	FirstSeenAt time.Time     `json:"first_seen_at"`
	LastSeenAt  time.Time     `json:"last_seen_at"` // last connect or disconnect
	Printers    []PrinterJSON `json:"printers"`     // every printer it reported, with its last status
}

// clients is GET /api/v1/clients (administrators): every agent of the portal the server has seen, with
// its printers and their last reported status, and the live session's details when it is online.
func (a *API) clients(w http.ResponseWriter, r *http.Request, act keys.Actor) {
	if !act.IsAdmin() {
		a.fail(w, r, keys.ErrForbidden)
		return
	}
	if !a.jobsReady(w) {
		return
	}
	pg, ok := parsePage(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cs, err := a.jobs.ListClients(ctx, act.PortalID, pg.store())
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	ps, err := a.jobs.ListPrinters(ctx, act.PortalID, store.Page{})
	if err != nil {
		a.jobFail(w, r, err)
		return
	}
	ks, err := a.keys.ListClientKeys(ctx, act, store.Page{})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	descriptions := make(map[string]string, len(ks))
	for _, k := range ks {
		descriptions[k.ID] = k.Description
	}
	live := map[string]hub.ClientInfo{}
	if a.hub != nil {
		for _, c := range a.hub.Clients(act.PortalID) { // oldest first: the newest session wins
			live[c.ClientID] = c
		}
	}
	printers, alert := map[string][]PrinterJSON{}, a.printerAlert(ctx, act)
	for _, p := range ps {
		printers[p.ClientID] = append(printers[p.ClientID], alert(p))
	}
	writePage(w, pg, cs, jobs.Client.Key, func(c jobs.Client) ClientJSON {
		cj := ClientJSON{ID: c.ID, CredentialID: c.CredentialID, Description: descriptions[c.CredentialID],
			Hostname: c.Hostname, OS: c.OS, AgentVersion: c.AgentVersion, InstallationID: c.InstallationID,
			Online: c.Online, FirstSeenAt: c.FirstSeenAt, LastSeenAt: c.LastSeenAt, Printers: printers[c.ID]}
		if l, ok := live[c.ID]; ok {
			at := l.ConnectedAt.UTC()
			cj.KeyKind, cj.Description, cj.RemoteAddr, cj.ConnectedAt = string(l.KeyKind), l.Description, l.RemoteAddr, &at
		}
		if cj.Printers == nil {
			cj.Printers = []PrinterJSON{}
		}
		return cj
	})
}
