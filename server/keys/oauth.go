package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// Audit actions for OAuth clients.
const (
	ActionOAuthClientCreate     = "oauth_client.create"
	ActionOAuthClientRevoke     = "oauth_client.revoke"
	ActionOAuthClientActivate   = "oauth_client.activate"
	ActionOAuthClientDeactivate = "oauth_client.deactivate"
	ActionOAuthClientDelete     = "oauth_client.delete"
	ActionOAuthTokenIssue       = "oauth_token.issue"
)

func toOAuthClient(c store.Credential) OAuthClient {
	return OAuthClient{ID: c.ID, PortalID: c.PortalID, Description: c.Description, Prefix: c.Prefix, Status: Status(c.Status),
		CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, LastAccessedAt: c.LastAccessedAt, ActivatedAt: c.ActivatedAt, ExpiresAt: c.ExpiresAt,
		Grace: graceOf(c)}
}

func oauthClient(ctx context.Context, q Store, a Actor, id string) (store.Credential, error) {
	c, err := q.GetCredential(ctx, id)
	if err != nil {
		return c, mapStoreErr("get oauth client", err)
	}
	if c.PortalID != a.PortalID || c.Kind != store.CredOAuthClient {
		return store.Credential{}, fmt.Errorf("keys: get oauth client: %w", ErrNotFound)
	}
	return c, nil
}

// NewOAuthClient are the options for creating an OAuth client.
type NewOAuthClient struct {
	Description string
	// Active says whether the client may get tokens at once; nil takes the portal's "new keys start
	// inactive" setting.
	Active *bool
}

// CreateOAuthClient registers an integration (admin) with the portal's default status; see
// CreateOAuthClientWith.
func (s *Service) CreateOAuthClient(ctx context.Context, a Actor, description string) (OAuthClient, string, error) {
	return s.CreateOAuthClientWith(ctx, a, NewOAuthClient{Description: description})
}

// CreateOAuthClientWith registers an integration (admin) and returns its client secret (pdo_) once. The
// client's tokens act in the portal with role user, attributed to the creating admin. An inactive client
// gets no token until it is activated.
func (s *Service) CreateOAuthClientWith(ctx context.Context, a Actor, opts NewOAuthClient) (OAuthClient, string, error) {
	if err := requireAdmin(a); err != nil {
		return OAuthClient{}, "", err
	}
	desc, err := checkDescription(opts.Description)
	if err != nil {
		return OAuthClient{}, "", err
	}
	status, err := s.newKeyStatus(ctx, a.PortalID, opts.Active)
	if err != nil {
		return OAuthClient{}, "", err
	}
	secret, h, prefix, err := s.newSecret(protocol.KindOAuthClient)
	if err != nil {
		return OAuthClient{}, "", err
	}
	c := store.Credential{
		ID: newID(idOAuthClient), PortalID: a.PortalID, Kind: store.CredOAuthClient, CreatorID: a.UserID, Description: desc,
		Prefix: prefix, SecretHash: h, Status: string(status), Generation: 1, CreatedAt: s.clock(), CreatedBy: actorName(a),
	}
	err = s.tx(ctx, "create oauth client", func(q store.Store) error {
		if err := q.CreateCredential(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionOAuthClientCreate, c.ID, a.RemoteAddr, fmt.Sprintf("description=%q status=%s", desc, status))
	})
	if err != nil {
		return OAuthClient{}, "", err
	}
	return toOAuthClient(c), secret, nil
}

// ListOAuthClients lists the portal's OAuth clients, oldest first (admin), one page (keyset
// store.TimeKey(created_at, id)).
func (s *Service) ListOAuthClients(ctx context.Context, a Actor, p store.Page) ([]OAuthClient, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	cs, err := s.st.ListCredentials(ctx, a.PortalID, p, store.CredOAuthClient)
	if err != nil {
		return nil, mapStoreErr("list oauth clients", err)
	}
	out := make([]OAuthClient, 0, len(cs))
	for _, c := range cs {
		out = append(out, toOAuthClient(c))
	}
	return out, nil
}

// GetOAuthClient returns one OAuth client of the actor's portal (admin).
func (s *Service) GetOAuthClient(ctx context.Context, a Actor, id string) (OAuthClient, error) {
	if err := requireAdmin(a); err != nil {
		return OAuthClient{}, err
	}
	c, err := oauthClient(ctx, s.st, a, id)
	if err != nil {
		return OAuthClient{}, err
	}
	return toOAuthClient(c), nil
}

// SetOAuthClientActive activates or deactivates an OAuth client (admin). A deactivated client gets no
// token and its issued tokens are deleted (they stop working at once); activating it lets it ask for new
// ones. Activating a revoked client is ErrConflict.
func (s *Service) SetOAuthClientActive(ctx context.Context, a Actor, id string, active bool) (OAuthClient, error) {
	want := StatusInactive
	if active {
		want = StatusActive
	}
	c, err := s.setStatus(ctx, a, id, oauthClientKind, want)
	return toOAuthClient(c), err
}

// RevokeOAuthClient revokes a client for good (admin): its tokens are deleted and stop working at once.
func (s *Service) RevokeOAuthClient(ctx context.Context, a Actor, id string) (OAuthClient, error) {
	c, err := s.setStatus(ctx, a, id, oauthClientKind, StatusRevoked)
	return toOAuthClient(c), err
}

// DeleteOAuthClient deletes a client and its tokens (admin).
func (s *Service) DeleteOAuthClient(ctx context.Context, a Actor, id string) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	var c store.Credential
	err := s.tx(ctx, "delete oauth client", func(q store.Store) error {
		var err error
		c, err = oauthClient(ctx, q, a, id)
		if err != nil {
			return err
		}
		if err := q.DeleteCredential(ctx, c.ID); err != nil {
			return err
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionOAuthClientDelete, c.ID, a.RemoteAddr, fmt.Sprintf("description=%q", c.Description))
	})
	if err != nil {
		return err
	}
	s.forgetTouch(c.ID)
	s.changed(ctx, Change{PortalID: c.PortalID, Action: ActionOAuthClientDelete, CredentialIDs: []string{c.ID}, Logout: protocol.ReasonDeleted})
	return nil
}

// IssueToken is the client-credentials grant: it checks the client ID and secret (pdo_) and returns a new
// opaque access token (pdt_) valid for TokenTTL, stored only as its keyed hash. A wrong or unknown client
// is ErrUnauthenticated; an inactive or revoked one ErrInactive/ErrRevoked. Expired tokens are purged.
func (s *Service) IssueToken(ctx context.Context, clientID, clientSecret, remoteAddr string) (string, time.Duration, error) {
	clientSecret = protocol.NormalizeSecret(clientSecret)
	kind, err := protocol.ParseSecret(clientSecret)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if kind != protocol.KindOAuthClient {
		return "", 0, fmt.Errorf("%w: not an OAuth client secret", ErrUnauthenticated)
	}
	h := s.hash(clientSecret)
	c, err := s.st.GetCredential(ctx, clientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", 0, fmt.Errorf("keys: issue token: %w", err)
	}
	// previous: the old secret of a client rolled with a grace period (grace.go)
	previous := err == nil && !hashEqual(c.SecretHash, h) && c.Previous.Hash != "" && hashEqual(c.Previous.Hash, h)
	if err != nil || c.Kind != store.CredOAuthClient || !hashEqual(c.SecretHash, h) && !previous {
		portal, target := "", ""
		if err == nil && c.Kind == store.CredOAuthClient {
			portal, target = c.PortalID, c.ID
		}
		return "", 0, s.authFailed(ctx, portal, target, remoteAddr, kind, "wrong client ID or secret", ErrUnauthenticated)
	}
	if err := statusErr(c.Status); err != nil {
		return "", 0, s.authFailed(ctx, c.PortalID, c.ID, remoteAddr, kind, "client is "+c.Status, err)
	}
	if expired(c, s.clock()) {
		return "", 0, s.authFailed(ctx, c.PortalID, c.ID, remoteAddr, kind, "client expired", ErrExpired)
	}
	if previous {
		if err := s.usePrevious(ctx, c, remoteAddr); err != nil {
			return "", 0, s.authFailed(ctx, c.PortalID, c.ID, remoteAddr, kind, "client secret rotated", err)
		}
	}
	token, th, _, err := s.newSecret(protocol.KindOAuthToken)
	if err != nil {
		return "", 0, err
	}
	now := s.clock()
	err = s.tx(ctx, "issue token", func(q store.Store) error {
		if _, err := q.DeleteExpiredOAuthTokens(ctx, now); err != nil {
			return err
		}
		if err := q.CreateOAuthToken(ctx, store.OAuthToken{TokenHash: th, ClientID: c.ID, PortalID: c.PortalID, CreatedAt: now, ExpiresAt: now.Add(TokenTTL)}); err != nil {
			return err
		}
		if err := q.TouchCredential(ctx, c.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, q, c.PortalID, "key:"+c.ID, ActionOAuthTokenIssue, c.ID, remoteAddr, "expires_in=3600")
	})
	if err != nil {
		return "", 0, err
	}
	return token, TokenTTL, nil
}
