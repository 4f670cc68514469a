package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"printdock/internal/clip"
	"printdock/printer"
	"printdock/protocol"
	"printdock/server/store"
)

// ClientID is the server's stable ID of an agent installation: derived from the portal, the credential
// it authenticates with and the installation ID from hello. The credential is part of it so that another
// key of the portal cannot claim an installation ID it copied and receive that installation's jobs;
// rotating a key keeps its credential ID, so reconnects after a rotation keep the client ID.
func ClientID(portalID, credentialID, installationID string) string {
	return derivedID("cli_", "client", portalID, credentialID, installationID)
}

// PrinterID is the server's stable ID of a printer: derived from the portal, the client and the
// printer's URI as the agent reports it (usb://VID:PID/SERIAL, tcp://host:port, sim://name).
func PrinterID(portalID, clientID, uri string) string {
	return derivedID("prn_", "printer", portalID, clientID, uri)
}

// Client is an agent installation the server has seen.
type Client struct {
	ID             string    `json:"id"`
	CredentialID   string    `json:"credential_id"`
	InstallationID string    `json:"installation_id"`
	Hostname       string    `json:"hostname"`
	AgentVersion   string    `json:"agent_version"`
	OS             string    `json:"os"`
	FirstSeenAt    time.Time `json:"first_seen_at"`
	LastSeenAt     time.Time `json:"last_seen_at"` // last connect or disconnect
	Online         bool      `json:"online"`
}

func clientOf(c store.Client) Client {
	return Client{ID: c.ID, CredentialID: c.CredentialID, InstallationID: c.InstallationID, Hostname: c.Hostname,
		AgentVersion: c.AgentVersion, OS: c.OS, FirstSeenAt: c.FirstSeenAt, LastSeenAt: c.LastSeenAt, Online: c.Sessions > 0}
}

// Printer is a printer of an agent, as GET /api/v1/printers lists it.
type Printer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	URI      string `json:"uri"`
	ClientID string `json:"client_id"`
	// Online: the agent is connected and reported this printer in its latest list.
	Online bool   `json:"online"`
	Status string `json:"status"` // the agent's last report: ready, media_out, head_open, paused, offline, …
	Reason string `json:"reason,omitempty"`
	Make   string `json:"make,omitempty"`
	Model  string `json:"model,omitempty"`
	// Language (zpl, epl, tspl, dpl, escpos, unknown), DPI and StatusMode (auto, zpl, none) are what the
	// agent reports of the printer; "" and 0 when it does not say (an older agent).
	Language   string `json:"language"`
	DPI        int    `json:"dpi"`
	StatusMode string `json:"status_mode"`
	// Present: in the agent's latest printer list (an unplugged printer keeps its ID and history).
	Present     bool      `json:"present"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	UpdatedAt   time.Time `json:"updated_at"` // last report
	// StatusSince is when Status or Present last changed (printer alerts measure from it).
	StatusSince time.Time `json:"status_since"`
	// ClientOnline and ClientSeenAt (not in the JSON): whether the printer's agent has a live session, and
	// its last connect or disconnect (printer alerts: printer.Seen).
	ClientOnline bool      `json:"-"`
	ClientSeenAt time.Time `json:"-"`
}

// Seen is what printer alerts know of p.
func (p Printer) Seen() printer.Seen {
	return printer.Seen{State: printer.State(p.Status), Present: p.Present, Since: p.StatusSince,
		AgentOnline: p.ClientOnline, AgentSeen: p.ClientSeenAt}
}

func printerOf(p store.Printer) Printer {
	return Printer{ID: p.ID, Name: p.Name, URI: p.URI, ClientID: p.ClientID, Online: p.ClientOnline && p.Present,
		Status: p.Status, Reason: p.Reason, Make: p.Make, Model: p.Model, Present: p.Present,
		Language: p.Language, DPI: p.DPI, StatusMode: p.StatusMode,
		FirstSeenAt: p.FirstSeenAt, UpdatedAt: p.UpdatedAt, StatusSince: p.StatusSince,
		ClientOnline: p.ClientOnline, ClientSeenAt: p.ClientSeenAt}
}

// ClientConnected records a session of an agent (after hello) and returns its client ID, to send in
// welcome and to pass to the other delivery methods, and the session's number (the client's sessions are
// numbered 1, 2, …; the newest has the highest; see SubscribeFunc). Every ClientConnected is paired with
// one ClientDisconnected when the session ends; a client with a live session is online.
func (s *Service) ClientConnected(ctx context.Context, portalID, credentialID string, hello protocol.Hello) (id string, session int64, err error) {
	if portalID == "" || credentialID == "" || hello.InstallationID == "" {
		return "", 0, fmt.Errorf("%w: portal, credential and installation ID are required", ErrInvalid)
	}
	id = ClientID(portalID, credentialID, hello.InstallationID)
	var c store.Client
	err = s.st.InTx(ctx, func(q store.Store) error {
		if err := s.checkNewClient(ctx, q, id, portalID, credentialID); err != nil {
			return err
		}
		var err error
		c, err = q.ConnectClient(ctx, store.Client{ID: id, PortalID: portalID, CredentialID: credentialID,
			InstallationID: clip.String(hello.InstallationID, maxTextLen), Hostname: clip.String(hello.Hostname, maxTextLen),
			AgentVersion: clip.String(hello.AgentVersion, maxTextLen), OS: clip.String(hello.OS, maxTextLen), LastSeenAt: s.now(),
			Features: features(hello.Features)})
		return err
	})
	if errors.Is(err, ErrTooManyClients) {
		s.auditOnce(ctx, "clients "+credentialID, store.AuditEntry{PortalID: portalID, Actor: "key:" + credentialID,
			Action: ActionClientRefused, Target: credentialID, Detail: fmt.Sprintf("installation_id=%q hostname=%q: %v",
				clip.String(hello.InstallationID, 64), clip.String(hello.Hostname, 64), err)})
		return "", 0, err
	}
	if err != nil {
		return "", 0, fmt.Errorf("jobs: client connected: %w", err)
	}
	s.recordClient(ctx, c, true)
	s.log.DebugContext(ctx, "client connected", "client_id", id, "sessions", c.Sessions, "session", c.SessionSeq)
	return id, c.SessionSeq, nil
}

// features is the hello's features as the store keeps them: space-separated, each without blanks (at
// most protocol.MaxFeatures of protocol.MaxFeatureLen, checked by protocol.Decode).
func features(fs []string) string {
	keep := make([]string, 0, len(fs))
	for _, f := range fs {
		if f != "" && !strings.ContainsFunc(f, unicode.IsSpace) {
			keep = append(keep, clip.String(f, protocol.MaxFeatureLen))
		}
	}
	return strings.Join(keep, " ")
}

// ClientDisconnected records the end of one session of the client.
func (s *Service) ClientDisconnected(ctx context.Context, clientID string) error {
	if err := s.st.DisconnectClient(ctx, clientID, s.now()); err != nil {
		return storeErr("client disconnected", fmt.Sprintf("client %q not found", clientID), err)
	}
	if c, err := s.st.GetClient(ctx, clientID); err == nil {
		s.recordClient(ctx, c, false)
	}
	return nil
}

// OtherInstallation returns the hostname of a client of the credential that is online (on any replica)
// from another installation than installationID (one secret per installation). A store error is logged
// and reports none.
func (s *Service) OtherInstallation(ctx context.Context, portalID, credentialID, installationID string) (string, bool) {
	c, err := s.st.OtherLiveInstallation(ctx, portalID, credentialID, installationID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "other installation", "credential_id", credentialID, "err", err)
		}
		return "", false
	}
	return c.Hostname, true
}

// ResetPresence marks every client offline. Call it once when a server starts, before the hub accepts
// connections (sessions of a previous process did not disconnect cleanly). On a store shared by replicas
// (PostgreSQL) presence is counted per replica, and this forgets only the sessions of this replica and of
// replicas that are gone; agents held by the other replicas stay online (docs/postgres.md).
func (s *Service) ResetPresence(ctx context.Context) error {
	n, err := s.st.ResetClientSessions(ctx)
	if err != nil {
		return fmt.Errorf("jobs: reset presence: %w", err)
	}
	if n > 0 {
		s.log.InfoContext(ctx, "clients marked offline at start", "count", n)
	}
	return nil
}

// UpdatePrinters records the agent's full printer list (a `printers` message). Printers keep their IDs
// across reconnects; a printer missing from the list stays known with Present false, and its jobs wait.
// A client keeps at most MaxPrintersPerClient printers (present or not): printers with URIs beyond that
// are not recorded and UpdatePrinters returns an error wrapping ErrTooManyPrinters after recording the
// rest. It wakes the client's subscribers, since jobs for printers that came back may now be deliverable.
func (s *Service) UpdatePrinters(ctx context.Context, clientID string, ps []protocol.Printer) error {
	now := s.now()
	skipped, portalFull := 0, false
	var c store.Client
	err := s.st.InTx(ctx, func(q store.Store) error {
		skipped, portalFull = 0, false // the transaction may be retried
		var err error
		c, err = q.GetClient(ctx, clientID)
		if err != nil {
			return storeErr("update printers", fmt.Sprintf("client %q not found", clientID), err)
		}
		room, err := s.printerRoom(ctx, q, c.PortalID)
		if err != nil {
			return fmt.Errorf("jobs: update printers: %w", err)
		}
		known, err := q.ListPrinters(ctx, store.PrinterFilter{PortalID: c.PortalID, ClientID: c.ID})
		if err != nil {
			return fmt.Errorf("jobs: update printers: %w", err)
		}
		stored := make(map[string]store.Printer, len(known))
		for _, k := range known {
			stored[k.URI] = k
		}
		total := len(known)
		seen := make(map[string]bool, len(ps))
		for _, p := range ps {
			if p.ID == "" || len(p.ID) > maxTextLen || seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			old, ok := stored[p.ID]
			if !ok {
				if total >= MaxPrintersPerClient || room == 0 {
					portalFull = portalFull || total < MaxPrintersPerClient
					skipped++
					continue
				}
				total++
				room--
			}
			sp := store.Printer{ID: PrinterID(c.PortalID, c.ID, p.ID), PortalID: c.PortalID, ClientID: c.ID, URI: p.ID,
				Name: clip.String(p.Name, maxTextLen), Make: clip.String(p.Make, maxTextLen), Model: clip.String(p.Model, maxTextLen),
				Status: clip.String(p.Status, maxTextLen), Reason: clip.String(p.Reason, maxReasonLen), Present: true,
				Language: clip.String(p.Language, maxTextLen), DPI: max(p.DPI, 0), StatusMode: clip.String(p.StatusMode, maxTextLen),
				FirstSeenAt: now, UpdatedAt: now}
			if err := q.UpsertPrinter(ctx, sp); err != nil {
				return fmt.Errorf("jobs: update printers: %w", err)
			}
			if err := recordPrinter(ctx, q, old, sp, now); err != nil {
				return err
			}
		}
		for _, k := range known {
			if seen[k.URI] || !k.Present {
				continue
			}
			old := k
			k.Present, k.UpdatedAt = false, now
			if err := q.UpsertPrinter(ctx, k); err != nil {
				return fmt.Errorf("jobs: update printers: %w", err)
			}
			if err := recordPrinter(ctx, q, old, k, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.forgetPrinters(clientID)
	s.notify(clientID)
	if portalFull {
		_, limit := s.o.limits()
		err := fmt.Errorf("%w: %d printers not recorded: the portal keeps at most %d printers, the server's limit "+
			"(--max-printers): ask the administrator to raise the limit", ErrTooManyPrinters, skipped, limit)
		s.auditOnce(ctx, "printers "+c.PortalID, store.AuditEntry{PortalID: c.PortalID, Actor: "key:" + c.CredentialID,
			Action: ActionPrinterRefused, Target: clientID, Detail: err.Error()})
		return err
	}
	if skipped > 0 {
		return fmt.Errorf("%w: %d printers not recorded: a client keeps at most %d printers",
			ErrTooManyPrinters, skipped, MaxPrintersPerClient)
	}
	return nil
}

// ListPrinters lists a portal's printers (by name), online or not, one page (keyset store.NameKey(name,
// id); every printer when p.Limit <= 0). The caller authorizes (any member).
func (s *Service) ListPrinters(ctx context.Context, portalID string, p store.Page) ([]Printer, error) {
	ps, err := s.st.ListPrinters(ctx, store.PrinterFilter{PortalID: portalID, Limit: p.Limit, After: p.After})
	if err != nil {
		return nil, fmt.Errorf("jobs: list printers: %w", err)
	}
	out := make([]Printer, 0, len(ps))
	for _, p := range ps {
		out = append(out, printerOf(p))
	}
	return out, nil
}

// GetPrinter returns a printer of the portal (ErrNotFound for another portal's).
func (s *Service) GetPrinter(ctx context.Context, portalID, printerID string) (Printer, error) {
	p, err := s.st.GetPrinter(ctx, printerID)
	if err == nil && p.PortalID != portalID {
		err = store.ErrNotFound
	}
	if err != nil {
		return Printer{}, storeErr("get printer", fmt.Sprintf("printer %q not found", printerID), err)
	}
	return printerOf(p), nil
}

// ListClients lists a portal's agents (first seen first), online or not, one page (keyset
// store.TimeKey(first_seen_at, id); every client when p.Limit <= 0). The caller authorizes (admin).
func (s *Service) ListClients(ctx context.Context, portalID string, p store.Page) ([]Client, error) {
	cs, err := s.st.ListClients(ctx, portalID, p)
	if err != nil {
		return nil, fmt.Errorf("jobs: list clients: %w", err)
	}
	out := make([]Client, 0, len(cs))
	for _, c := range cs {
		out = append(out, clientOf(c))
	}
	return out, nil
}
