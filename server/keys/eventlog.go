package keys

import (
	"context"
	"fmt"
	"time"

	"printdock/server/events"
	"printdock/server/store"
)

// keyEvents maps the audited actions that integrations hear of (package events) to their event type and
// the kind of credential. key.expiring is recorded by the expiry sweep (recordExpiring).
var keyEvents = map[string]struct{ typ, kind string }{
	ActionClientKeyRotate:   {events.KeyRotated, "print_client_secret"},
	ActionClientKeyRevoke:   {events.KeyRevoked, "print_client_secret"},
	ActionSharedSecretReset: {events.KeyRotated, "shared_secret"},
	ActionAPIKeyRotate:      {events.KeyRotated, "api_key"},
	ActionOAuthClientRevoke: {events.KeyRevoked, "oauth_client"},
	ActionOAuthClientRotate: {events.KeyRotated, "oauth_client"},
}

// recordKeyEvent writes the event of an audited action, if it has one, through q: the change's
// transaction, as the audit entry.
func (s *Service) recordKeyEvent(ctx context.Context, q Store, portalID, actor, action, target string) error {
	k, ok := keyEvents[action]
	if !ok || portalID == "" {
		return nil
	}
	d := events.KeyData{Kind: k.kind, Actor: actor}
	switch k.kind {
	case "api_key":
		d.UserID = target
	case "shared_secret":
	default:
		d.CredentialID = target
	}
	if err := events.Record(ctx, q, events.Key(portalID, k.typ, s.clock(), d)); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}

// eventKinds names credential kinds as events do.
var eventKinds = map[store.CredentialKind]string{
	store.CredPrintClient:  "print_client_secret",
	store.CredUserKey:      "api_key",
	store.CredSharedDevice: "shared_secret",
	store.CredOAuthClient:  "oauth_client",
}

// recordExpiring writes the key.expiring event of a credential reaching an expiry warning.
func (s *Service) recordExpiring(ctx context.Context, c store.Credential, now time.Time) error {
	d := events.KeyData{CredentialID: c.ID, Kind: eventKinds[c.Kind], ExpiresAt: c.ExpiresAt}
	if c.Kind == store.CredUserKey {
		d.UserID, d.CredentialID = c.UserID, ""
	}
	if err := events.Record(ctx, s.st, events.Key(c.PortalID, events.KeyExpiring, now, d)); err != nil {
		return fmt.Errorf("keys: record key.expiring: %w", err)
	}
	return nil
}

// ActorName is how an actor appears in audit entries and created-by columns (for packages that record
// who did something, e.g. webhooks).
func ActorName(a Actor) string { return actorName(a) }
