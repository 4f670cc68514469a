package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/keys"
	"printdock/server/store"
)

// ContentRaw is raw printer language (ZPL, EPL, TSPL, …) sent to the printer unchanged; see labels.go
// for ContentPDF and ContentPNG.
const ContentRaw = "raw"

// SubmitRequest is the body of POST /api/v1/printers/{printer_id}/jobs. Its JSON tags match the REST
// contract: encoding/json decodes "content_base64" (standard base64) straight into Content.
type SubmitRequest struct {
	ContentType string `json:"content_type"` // "raw" ("" means raw), "pdf" or "png"
	// Label describes the label stock for a pdf or png submission (optional).
	Label   *LabelSpec `json:"label,omitempty"`
	Content []byte     `json:"content_base64"`
	Title   string     `json:"title"`
	Copies  int        `json:"copies"` // 1..1000; 0 means 1
	// IdempotencyKey makes retries safe: the same key in the same portal returns the job it created.
	IdempotencyKey string `json:"idempotency_key"`
	// ExpiresInSeconds is how long the job may wait for delivery; 0 means the server's default (24 hours
	// unless Options.DefaultExpiry says otherwise).
	ExpiresInSeconds int64 `json:"expires_in_seconds"`
	// ExpiresAt is when the job stops waiting for delivery (RFC 3339), instead of ExpiresInSeconds: after
	// now and at most Options.MaxExpiry ahead.
	ExpiresAt *time.Time `json:"expires_at"`
}

// canUse authorizes the job API: users (role user or admin, by API key or portal session) and OAuth
// tokens of a portal. Print clients and shared-secret devices do not submit or read jobs.
func canUse(a keys.Actor) error {
	if a.PortalID == "" {
		return fmt.Errorf("%w: no portal", ErrForbidden)
	}
	switch a.Kind {
	case keys.KindUser, keys.KindSession:
		if a.Role == keys.RoleAdmin || a.Role == keys.RoleUser {
			return nil
		}
	case keys.KindOAuth:
		return nil
	}
	return fmt.Errorf("%w: only users and OAuth clients use print jobs", ErrForbidden)
}

func actorName(a keys.Actor) string {
	switch {
	case a.Email != "":
		return a.Email
	case a.CredentialID != "":
		return "key:" + a.CredentialID
	}
	return "anonymous"
}

// check validates req and returns the expiry time (from now) and copies to use.
func (s *Service) check(req SubmitRequest, now time.Time) (time.Time, int, error) {
	copies, err := s.checkContent(req)
	if err != nil {
		return time.Time{}, 0, err
	}
	maxSec := int64(s.o.MaxExpiry / time.Second)
	switch {
	case req.ExpiresAt != nil && req.ExpiresInSeconds != 0:
		return time.Time{}, 0, fmt.Errorf("%w: give expires_at or expires_in_seconds, not both", ErrInvalid)
	case req.ExpiresAt != nil:
		at := req.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !at.After(now) || at.Sub(now) > s.o.MaxExpiry {
			return time.Time{}, 0, fmt.Errorf("%w: expires_at must be after now and at most %d seconds ahead", ErrInvalid, maxSec)
		}
		return at, copies, nil
	case req.ExpiresInSeconds != 0:
		if req.ExpiresInSeconds < 0 || req.ExpiresInSeconds > maxSec {
			return time.Time{}, 0, fmt.Errorf("%w: expires_in_seconds must be 1..%d", ErrInvalid, maxSec)
		}
		return now.Add(time.Duration(req.ExpiresInSeconds) * time.Second), copies, nil
	}
	return now.Add(s.o.DefaultExpiry), copies, nil
}

// checkContent validates req's content, title, key and copies, and returns the copies to use.
func (s *Service) checkContent(req SubmitRequest) (int, error) {
	switch req.ContentType {
	case "", ContentRaw:
		if req.Label != nil {
			return 0, fmt.Errorf("%w: label applies to pdf and png content only", ErrInvalid)
		}
	case ContentPDF, ContentPNG:
	default:
		return 0, fmt.Errorf("%w: content_type must be %q, %q or %q", ErrInvalid, ContentRaw, ContentPDF, ContentPNG)
	}
	if len(req.Content) == 0 {
		return 0, fmt.Errorf("%w: content_base64 is empty", ErrInvalid)
	}
	if len(req.Content) > MaxContentSize {
		return 0, ErrTooLarge
	}
	copies := req.Copies
	if copies == 0 {
		copies = 1
	}
	if copies < 1 || copies > MaxCopies {
		return 0, fmt.Errorf("%w: copies must be 1..%d", ErrInvalid, MaxCopies)
	}
	if len(req.Title) > maxTextLen {
		return 0, fmt.Errorf("%w: title longer than %d bytes", ErrInvalid, maxTextLen)
	}
	if len(req.IdempotencyKey) > maxTextLen {
		return 0, fmt.Errorf("%w: idempotency_key longer than %d bytes", ErrInvalid, maxTextLen)
	}
	return copies, nil
}

// fingerprint identifies what a submitter asked for, to tell an idempotent retry from a different job
// that reuses the key: the printer, title, copies and content (not the expiry, which is relative).
func fingerprint(printerID, title string, copies int, content []byte, kind string) string {
	h := sha256.New()
	parts := [][]byte{[]byte(printerID), []byte(title), []byte(fmt.Sprint(copies)), content}
	if kind != "" { // raw keeps the fingerprints it always had
		parts = append(parts, []byte(kind))
	}
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Submit queues a print job for printerID. The job is persisted (with its submission event) in one
// transaction before Submit returns. created is false when the idempotency key matched an existing job
// with the same fingerprint, which is returned as it is now; a key reused for a different job is
// ErrIdempotencyMismatch. A printer of another portal, or an unknown one, is ErrNotFound. The job is
// accepted whether or not the printer is online: it waits until delivery or expiry.
func (s *Service) Submit(ctx context.Context, a keys.Actor, printerID string, req SubmitRequest) (Job, bool, error) {
	if err := canUse(a); err != nil {
		return Job{}, false, err
	}
	now := s.now()
	expires, copies, err := s.check(req, now)
	if err != nil {
		return Job{}, false, err
	}
	kind := req.ContentType
	if kind == ContentRaw {
		kind = ""
	}
	fp := fingerprint(printerID, req.Title, copies, req.Content, kind)
	// The printer is looked up before the transaction (one statement less on the single SQLite writer):
	// a printer's portal and client never change, and the jobs row's foreign key catches a printer
	// deleted meanwhile. A raw job needs nothing else of it but a hint (printercache.go); a pdf or png
	// is rendered for the printer's current language and resolution.
	get := s.printer
	if kind != "" {
		get = s.st.GetPrinter
	}
	p, err := get(ctx, printerID)
	if err == nil && p.PortalID != a.PortalID {
		err = store.ErrNotFound
	}
	if err != nil {
		return Job{}, false, storeErr("submit", fmt.Sprintf("printer %q not found", printerID), err)
	}
	content := req.Content
	var preview []byte
	if kind != "" {
		// Rendered before the transaction: seconds of CPU at worst, never inside the single writer.
		if content, preview, err = s.render(ctx, p, req); err != nil {
			return Job{}, false, err
		}
		if len(content) > MaxContentSize {
			return Job{}, false, fmt.Errorf("%w: the rendered label is %d bytes, more than %d", ErrUnprocessable, len(content), MaxContentSize)
		}
	}
	var claim *Subscription // the session here that may take the job as sent (claim.go)
	if p.Present {
		claim = s.claimFor(p.ClientID, len(content))
	}
	var out store.Job
	var pushed protocol.Job
	created, claimed := false, false
	err = s.st.InTx(ctx, func(q store.Store) error {
		out, created, claimed = store.Job{}, false, false // fn may run again (a store that retries serialization failures)
		if req.IdempotencyKey != "" {
			old, err := q.GetJobByIdempotencyKey(ctx, a.PortalID, req.IdempotencyKey)
			if err == nil {
				out = old
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("jobs: submit: %w", err)
			}
		}
		j := store.Job{ID: newJobID(now), PortalID: a.PortalID, PrinterID: p.ID, ClientID: p.ClientID, PrinterURI: p.URI,
			Title: req.Title, Content: content, Preview: preview, Size: int64(len(content)), Copies: copies,
			IdempotencyKey: req.IdempotencyKey, Fingerprint: fp, CreatedBy: actorName(a), State: Queued,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: expires}
		row := j
		if claim != nil {
			ok, err := claims(ctx, q, j.ClientID, claim.seq)
			if err != nil {
				return err
			}
			if claimed = ok; ok {
				applyChange(&row, sentChange(j, claim.seq), now) // as record makes j below
			}
		}
		if err := q.CreateJob(ctx, row); err != nil {
			return fmt.Errorf("jobs: submit: %w", err)
		}
		if _, err := q.AppendJobEvent(ctx, store.JobEvent{JobID: j.ID, At: now, To: Queued, Reason: "submitted", Actor: j.CreatedBy}); err != nil {
			return fmt.Errorf("jobs: submit: %w", err)
		}
		if err := recordChange(ctx, q, store.Job{ID: j.ID, PortalID: j.PortalID, PrinterID: j.PrinterID, ClientID: j.ClientID,
			Title: j.Title, IdempotencyKey: j.IdempotencyKey}, Queued, "submitted", j.CreatedBy, now); err != nil {
			return err
		}
		if claimed {
			if err := s.record(ctx, q, &j, sentChange(j, claim.seq), now); err != nil {
				return err
			}
		}
		if s.o.Queued != nil {
			if err := s.o.Queued(ctx, q, j.ClientID); err != nil {
				return fmt.Errorf("jobs: submit: announce: %w", err)
			}
		}
		pushed = pushJob(j)
		j.Content, j.Preview = nil, nil
		out, created = j, true
		return nil
	})
	if errors.Is(err, store.ErrConflict) && req.IdempotencyKey != "" {
		// A concurrent submission with the same key won (a store without serialized transactions).
		out, err = s.st.GetJobByIdempotencyKey(ctx, a.PortalID, req.IdempotencyKey)
		if err != nil {
			return Job{}, false, fmt.Errorf("jobs: submit: %w", err)
		}
		created = false
	} else if err != nil {
		return Job{}, false, err
	}
	if !created {
		if out.Fingerprint != fp {
			return Job{}, false, ErrIdempotencyMismatch
		}
		return jobOf(out), false, nil
	}
	msg := "job queued"
	if claimed {
		msg = "job queued and handed to its agent's session"
	}
	s.log.InfoContext(ctx, msg, "job_id", out.ID, "printer_id", out.PrinterID, "client_id", out.ClientID,
		"size", out.Size, "copies", out.Copies, "by", out.CreatedBy)
	switch {
	case claimed:
		s.handClaimed(out.ClientID, claim, pushed) // marked sent already: its session writes it as it is
	case p.Present:
		s.push(out.ClientID, pushed) // the client's sessions here send it without reading it back
	default:
		s.notify(out.ClientID) // it waits for its printer; PendingFor knows when
	}
	return jobOf(out), true, nil
}

// Content returns a job's content (for previews), for the actor's portal only (ErrNotFound otherwise;
// ErrContentDropped once retention has dropped it).
func (s *Service) Content(ctx context.Context, a keys.Actor, id string) ([]byte, error) {
	j, err := s.job(ctx, s.st, a, id)
	if err != nil {
		return nil, err
	}
	b, err := s.st.JobContent(ctx, id)
	if err != nil {
		return nil, storeErr("job content", fmt.Sprintf("job %q not found", id), err)
	}
	if len(b) == 0 && j.Size > 0 {
		return nil, fmt.Errorf("jobs: job %q: %w", id, ErrContentDropped)
	}
	return b, nil
}

// job reads a job of the actor's portal.
func (s *Service) job(ctx context.Context, q Queries, a keys.Actor, id string) (store.Job, error) {
	if err := canUse(a); err != nil {
		return store.Job{}, err
	}
	j, err := q.GetJob(ctx, id)
	if err == nil && j.PortalID != a.PortalID {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Job{}, storeErr("get job", fmt.Sprintf("job %q not found", id), err)
	}
	return j, nil
}

// Get returns a job of the actor's portal (ErrNotFound for another portal's).
func (s *Service) Get(ctx context.Context, a keys.Actor, id string) (Job, error) {
	j, err := s.job(ctx, s.st, a, id)
	if err != nil {
		return Job{}, err
	}
	return jobOf(j), nil
}

// Events returns a job's recorded transitions, oldest first, one page (every event when p.Limit <= 0).
func (s *Service) Events(ctx context.Context, a keys.Actor, id string, p store.Page) ([]Event, error) {
	if _, err := s.job(ctx, s.st, a, id); err != nil {
		return nil, err
	}
	evs, err := s.st.ListJobEvents(ctx, id, p)
	if err != nil {
		return nil, fmt.Errorf("jobs: events: %w", err)
	}
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, Event{Seq: e.ID, At: e.At, From: e.From, To: e.To, Reason: e.Reason, Actor: e.Actor})
	}
	return out, nil
}

// ListFilter selects jobs for List.
type ListFilter struct {
	PrinterID string
	State     State // "" for every state
	// IdempotencyKey, when set, selects the job submitted with it; CreatedAfter, jobs created after it.
	IdempotencyKey string
	CreatedAfter   time.Time
	Limit          int       // <= 0: 100; at most 1001 (a page of 1000 and the row telling there is more)
	After          store.Key // continue after the job with key store.TimeKey(created_at, id)
}

// List returns the actor's portal's jobs, newest first.
func (s *Service) List(ctx context.Context, a keys.Actor, f ListFilter) ([]Job, error) {
	if err := canUse(a); err != nil {
		return nil, err
	}
	sf := store.JobFilter{PortalID: a.PortalID, PrinterID: f.PrinterID, Limit: min(f.Limit, 1001),
		IdempotencyKey: f.IdempotencyKey, CreatedAfter: f.CreatedAfter, After: f.After}
	if f.State != "" {
		if !validState(f.State) {
			return nil, fmt.Errorf("%w: unknown state %q", ErrInvalid, f.State)
		}
		sf.States = []State{f.State}
	}
	js, err := s.st.ListJobs(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	out := make([]Job, 0, len(js))
	for _, j := range js {
		out = append(out, jobOf(j))
	}
	return out, nil
}

func validState(st State) bool {
	for _, s := range States {
		if s == st {
			return true
		}
	}
	return false
}
