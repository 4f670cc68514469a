package keys

import (
	"context"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// ActionOAuthClientRotate is the audit action of rolling an OAuth client's secret.
const ActionOAuthClientRotate = "oauth_client.rotate"

// RotateOAuthClient replaces an OAuth client's secret (admin) and returns the new one once. With grace 0
// the old secret stops at once and the client's tokens are deleted (its connections end, reason
// rotated); with a grace (up to MaxGrace, ErrGraceRange outside) the old secret keeps getting tokens until
// the grace ends, and tokens already issued run out by themselves.
func (s *Service) RotateOAuthClient(ctx context.Context, a Actor, id string, grace time.Duration) (OAuthClient, Rolled, error) {
	if err := requireAdmin(a); err != nil {
		return OAuthClient{}, Rolled{}, err
	}
	if err := checkGrace(grace); err != nil {
		return OAuthClient{}, Rolled{}, err
	}
	secret, h, prefix, err := s.newSecret(protocol.KindOAuthClient)
	if err != nil {
		return OAuthClient{}, Rolled{}, err
	}
	var c store.Credential
	var until *time.Time
	err = s.tx(ctx, "rotate oauth client", func(q store.Store) error {
		var err error
		if c, err = oauthClient(ctx, q, a, id); err != nil {
			return err
		}
		if err := q.ReplaceSecret(ctx, c.ID, h, prefix, c.Generation); err != nil {
			return err
		}
		if until, err = s.keepPrevious(ctx, q, c.ID, c.SecretHash, grace); err != nil {
			return err
		}
		if until == nil {
			if _, err := q.DeleteOAuthTokens(ctx, c.ID); err != nil {
				return err
			}
		}
		c.Previous = store.PreviousSecret{}
		if until != nil {
			c.Previous = store.PreviousSecret{Hash: c.SecretHash, ExpiresAt: until}
		}
		c.Generation++
		c.Prefix, c.SecretHash = prefix, h
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionOAuthClientRotate, c.ID, a.RemoteAddr,
			fmt.Sprintf("generation=%d", c.Generation)+graceDetail(grace))
	})
	if err != nil {
		return OAuthClient{}, Rolled{}, err
	}
	s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionOAuthClientRotate, CredentialIDs: []string{c.ID},
		Logout: rollLogout(until, protocol.ReasonRotated), BeforeGeneration: c.Generation})
	return toOAuthClient(c), Rolled{Secret: secret, PreviousValidUntil: until}, nil
}
