package keys

import (
	"context"
	"fmt"

	"printdock/internal/clip"
	"printdock/server/events"
	"printdock/server/httpx"
)

// ActionClientKeyInstallations is the audit action of a print client secret seen live from a second
// installation.
const ActionClientKeyInstallations = "print_client_secret.second_installation"

// InUseMessage is what an agent refused under the one-installation policy shows: usedOn is the
// hostname of the installation that already uses the secret.
func InUseMessage(usedOn string) string {
	return "this secret is already used on " + usedOn + "; ask your admin for a new one"
}

// SecondInstallation records that p's print client secret connects from a second installation
// (hostname newHost) while the installation on usedOn is live: an audit entry and a Change (webhooks).
// It reports whether the portal's policy "one installation per secret" refuses the newcomer. Errors are
// logged: a refusal then falls back on the policy being off.
func (s *Service) SecondInstallation(ctx context.Context, p Principal, usedOn, newHost string) (refuse bool) {
	if p.Kind != KindPrintClient {
		return false
	}
	set, err := s.portalSettings(ctx, s.st, p.PortalID)
	if err != nil {
		s.log.Warn("keys: second installation: settings", "err", err)
	}
	// Hostnames come from agents: clipped and redacted like everything agent-supplied.
	usedOn, newHost = httpx.RedactSecrets(clip.String(usedOn, 128)), httpx.RedactSecrets(clip.String(newHost, 128))
	detail := fmt.Sprintf("used_on=%q new=%q refused=%t", usedOn, newHost, set.OneInstallationPerSecret)
	if err := s.audit(ctx, s.st, p.PortalID, "key:"+p.CredentialID, ActionClientKeyInstallations, p.CredentialID, "", detail); err != nil {
		s.log.Warn("keys: second installation: audit", "err", err)
	}
	refused := set.OneInstallationPerSecret
	ev := events.Key(p.PortalID, events.KeySecondInstallation, s.clock(), events.KeyData{CredentialID: p.CredentialID,
		Kind: "print_client_secret", UsedOn: usedOn, NewHost: newHost, Refused: &refused})
	if err := events.Record(ctx, s.st, ev); err != nil {
		s.log.Warn("keys: second installation: event", "err", err)
	}
	s.changed(ctx, Change{PortalID: p.PortalID, Action: ActionClientKeyInstallations, CredentialIDs: []string{p.CredentialID}, Detail: detail})
	return refused
}
