package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// Audit actions for authentication.
const (
	ActionAuthFailed = "auth.failed"
	ActionAuthLogin  = "auth.login"
)

var kindNames = map[protocol.SecretKind]string{
	protocol.KindPrintClient: "print client secret",
	protocol.KindUser:        "personal API key",
	protocol.KindShared:      "shared secret",
	protocol.KindOAuthClient: "OAuth client secret",
	protocol.KindOAuthToken:  "OAuth access token",
}

// Authenticate verifies a bearer secret: a print client secret (pdc_), a personal API key (pdu_), the
// portal's shared secret (pds_) together with the device ID, or an OAuth access token (pdt_).
//
// A malformed secret fails with ErrUnauthenticated wrapping the protocol.ParseSecret reason, without
// touching the store (and without an audit entry: nothing identifies a portal and writing would let
// garbage flood the log). An unknown, deleted, rotated-away or expired secret fails with
// ErrUnauthenticated; an inactive or revoked one with ErrInactive or ErrRevoked. Failures of well-formed
// secrets are audited as auth.failed without any part of the secret.
func (s *Service) Authenticate(ctx context.Context, secret, deviceID, remoteAddr string) (Principal, error) {
	secret = protocol.NormalizeSecret(secret)
	kind, err := protocol.ParseSecret(secret)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	h := s.hash(secret)
	switch kind {
	case protocol.KindPrintClient, protocol.KindUser:
		return s.cachedAuthKey(ctx, kind, h, remoteAddr) // authcache.go
	case protocol.KindShared:
		return s.authShared(ctx, h, deviceID, remoteAddr)
	case protocol.KindOAuthToken:
		return s.authToken(ctx, h, remoteAddr)
	default:
		return Principal{}, s.authFailed(ctx, "", "", remoteAddr, kind, "an OAuth client secret is not a bearer token", ErrUnauthenticated)
	}
}

// authFailed audits a failed authentication and returns err wrapped with a safe reason.
func (s *Service) authFailed(ctx context.Context, portalID, target, remote string, kind protocol.SecretKind, reason string, err error) error {
	actor := "anonymous"
	if target != "" {
		actor = "key:" + target
	}
	s.auditFailure(ctx, portalID, actor, target, remote, kindNames[kind]+": "+reason)
	return fmt.Errorf("%w: %s", err, reason)
}

// auditFailure writes an auth.failed row unless this address already failed against this target in the
// current minute (failAudit), so guessing cannot flood the audit log.
func (s *Service) auditFailure(ctx context.Context, portalID, actor, target, remote, detail string) {
	write, note := s.authFails.admit(remote, portalID+"/"+target, s.clock())
	if !write {
		return
	}
	if err := s.audit(ctx, s.st, portalID, actor, ActionAuthFailed, target, remote, detail+note); err != nil {
		s.log.Error("keys: audit failed authentication", "err", err)
	}
}

func statusErr(status string) error {
	switch Status(status) {
	case StatusActive:
		return nil
	case StatusInactive:
		return ErrInactive
	case StatusRevoked:
		return ErrRevoked
	default:
		return ErrUnauthenticated
	}
}

func (s *Service) authKey(ctx context.Context, kind protocol.SecretKind, h, remote string) (Principal, error) {
	c, err := s.st.GetCredentialByHash(ctx, h)
	previous := false // h is the old secret of a rolled key (grace.go)
	if errors.Is(err, store.ErrNotFound) {
		c, previous, err = s.byPreviousHash(ctx, h)
	}
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, s.authFailed(ctx, "", "", remote, kind, "unknown secret", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("keys: authenticate: %w", err)
	}
	want := store.CredPrintClient
	if kind == protocol.KindUser {
		want = store.CredUserKey
	}
	stored := c.SecretHash
	if previous {
		stored = c.Previous.Hash
	}
	if c.Kind != want || !hashEqual(stored, h) {
		return Principal{}, s.authFailed(ctx, "", "", remote, kind, "unknown secret", ErrUnauthenticated)
	}
	if err := statusErr(c.Status); err != nil {
		return Principal{}, s.authFailed(ctx, c.PortalID, c.ID, remote, kind, "key is "+c.Status, err)
	}
	if expired(c, s.clock()) {
		return Principal{}, s.authFailed(ctx, c.PortalID, c.ID, remote, kind, "key expired", ErrExpired)
	}
	p := Principal{
		PortalID: c.PortalID, Kind: KindPrintClient, CredentialID: c.ID, Generation: c.Generation,
		Description: c.Description,
	}
	if c.ExpiresAt != nil {
		p.ExpiresAt = *c.ExpiresAt // and so a cached verification ends with the key (authcache.go)
	}
	if previous {
		if err := s.usePrevious(ctx, c, remote); err != nil {
			return Principal{}, s.authFailed(ctx, c.PortalID, c.ID, remote, kind, "key rotated", err)
		}
		p.Generation-- // the old secret's generation: StillValid accepts it during the grace
		if end := c.Previous.ExpiresAt; end != nil {
			p.graceEnd = *end // a cached verification of the old secret ends with the grace
		}
	}
	if kind == protocol.KindUser {
		u, err := s.st.GetUser(ctx, c.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return Principal{}, s.authFailed(ctx, c.PortalID, c.ID, remote, kind, "user deleted", ErrUnauthenticated)
		}
		if err != nil {
			return Principal{}, fmt.Errorf("keys: authenticate: %w", err)
		}
		p.Kind, p.UserID, p.Email, p.Role = KindUser, u.ID, u.Email, Role(u.Role)
	}
	return p, nil
}

func (s *Service) authShared(ctx context.Context, h, deviceID, remote string) (Principal, error) {
	const kind = protocol.KindShared
	if deviceID == "" {
		return Principal{}, s.authFailed(ctx, "", "", remote, kind, "a device ID is required with the shared secret", ErrUnauthenticated)
	}
	sh, err := s.st.GetSharedSecretByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, s.authFailed(ctx, "", "", remote, kind, "unknown secret", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("keys: authenticate: %w", err)
	}
	if !hashEqual(sh.SecretHash, h) {
		return Principal{}, s.authFailed(ctx, "", "", remote, kind, "unknown secret", ErrUnauthenticated)
	}
	dev, err := s.st.GetCredential(ctx, deviceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("keys: authenticate: %w", err)
	}
	// The device ID is not a secret, but an unknown one is not echoed into the log either (it is
	// attacker-controlled); a known device of this portal is named.
	if err != nil || dev.Kind != store.CredSharedDevice || dev.PortalID != sh.PortalID {
		return Principal{}, s.authFailed(ctx, sh.PortalID, "", remote, kind, "unknown device", ErrUnauthenticated)
	}
	if dev.SharedVersion != sh.Version {
		return Principal{}, s.authFailed(ctx, sh.PortalID, dev.ID, remote, kind, "the device uses a different shared secret", ErrUnauthenticated)
	}
	if err := statusErr(dev.Status); err != nil {
		return Principal{}, s.authFailed(ctx, dev.PortalID, dev.ID, remote, kind, "device is "+dev.Status, err)
	}
	if expired(dev, s.clock()) {
		return Principal{}, s.authFailed(ctx, dev.PortalID, dev.ID, remote, kind, "device expired", ErrExpired)
	}
	return Principal{
		PortalID: dev.PortalID, Kind: KindSharedDev, CredentialID: dev.ID, Generation: dev.SharedVersion,
		Description: dev.Description,
	}, nil
}

func (s *Service) authToken(ctx context.Context, h, remote string) (Principal, error) {
	const kind = protocol.KindOAuthToken
	t, err := s.st.GetOAuthToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, s.authFailed(ctx, "", "", remote, kind, "unknown token", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("keys: authenticate: %w", err)
	}
	if !hashEqual(t.TokenHash, h) {
		return Principal{}, s.authFailed(ctx, "", "", remote, kind, "unknown token", ErrUnauthenticated)
	}
	if !s.clock().Before(t.ExpiresAt) {
		return Principal{}, s.authFailed(ctx, t.PortalID, t.ClientID, remote, kind, "token expired", ErrUnauthenticated)
	}
	c, err := s.st.GetCredential(ctx, t.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, s.authFailed(ctx, t.PortalID, t.ClientID, remote, kind, "client deleted", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("keys: authenticate: %w", err)
	}
	if err := statusErr(c.Status); err != nil {
		return Principal{}, s.authFailed(ctx, c.PortalID, c.ID, remote, kind, "client is "+c.Status, err)
	}
	if expired(c, s.clock()) {
		return Principal{}, s.authFailed(ctx, c.PortalID, c.ID, remote, kind, "client expired", ErrExpired)
	}
	return oauthPrincipal(c, t.ExpiresAt), nil
}

// oauthPrincipal: an OAuth client acts in its portal with role user (least privilege: enough to print and
// read printers and jobs, not to administer keys), attributed to the admin who created it.
func oauthPrincipal(c store.Credential, exp time.Time) Principal {
	return Principal{
		PortalID: c.PortalID, UserID: c.CreatorID, Email: "oauth:" + c.ID, Role: RoleUser, Kind: KindOAuth,
		CredentialID: c.ID, Generation: c.Generation, Description: c.Description, ExpiresAt: exp,
	}
}

// PasswordLogin signs a user in to the web portal. The Principal's Kind is KindSession and its
// CredentialID the user's ID (events for a deleted user name it). Unknown e-mails cost the same
// argon2id work as wrong passwords.
func (s *Service) PasswordLogin(ctx context.Context, email, password, remoteAddr string) (Principal, error) {
	email = normalizeEmailLoose(email)
	u, err := s.st.GetUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("keys: password login: %w", err)
	}
	found := err == nil
	encoded := s.dummyHash
	if found && u.PasswordHash != "" { // a user who signs in with OpenID Connect has no password
		encoded = u.PasswordHash
	}
	ok, verr := s.verifyPassword(ctx, password, encoded)
	ok = ok && found && u.PasswordHash != ""
	if verr != nil && found {
		s.log.Error("keys: stored password hash unusable", "user", u.ID, "err", verr)
	}
	if !found || !ok {
		portal, target := "", ""
		if found {
			portal, target = u.PortalID, u.ID
		}
		s.auditFailure(ctx, portal, "anonymous", target, remoteAddr, "password sign-in")
		return Principal{}, fmt.Errorf("%w: wrong e-mail or password", ErrUnauthenticated)
	}
	if err := s.audit(ctx, s.st, u.PortalID, u.Email, ActionAuthLogin, u.ID, remoteAddr, "password sign-in"); err != nil {
		return Principal{}, err
	}
	return Principal{PortalID: u.PortalID, UserID: u.ID, Email: u.Email, Role: Role(u.Role), Kind: KindSession, CredentialID: u.ID}, nil
}

func normalizeEmailLoose(e string) string {
	if n, err := normalizeEmail(e); err == nil {
		return n
	}
	return e
}

// verifyPassword runs argon2id under the concurrency semaphore.
func (s *Service) verifyPassword(ctx context.Context, pw, encoded string) (bool, error) {
	select {
	case s.pwSem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.pwSem }()
	return verifyPassword(pw, encoded)
}

func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	select {
	case s.pwSem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.pwSem }()
	return hashPassword(pw, s.pwParams)
}

// StillValid re-checks a principal against the store: the credential still exists, is active and has
// the same generation (shared devices: still the same shared secret version), the token has not expired,
// the signed-in user still exists. It returns nil, ErrDeleted, ErrRotated or ErrExpired (each an
// ErrUnauthenticated), ErrInactive, ErrRevoked, or a store error.
func (s *Service) StillValid(ctx context.Context, p Principal) error {
	if !p.ExpiresAt.IsZero() && !s.clock().Before(p.ExpiresAt) {
		return ErrExpired
	}
	if p.Kind == KindSession {
		u, err := s.st.GetUser(ctx, p.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.PortalID != p.PortalID) {
			return fmt.Errorf("user: %w", ErrDeleted)
		}
		if err != nil {
			return fmt.Errorf("keys: still valid: %w", err)
		}
		return nil
	}
	c, err := s.st.GetCredential(ctx, p.CredentialID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.PortalID != p.PortalID) {
		return ErrDeleted
	}
	if err != nil {
		return fmt.Errorf("keys: still valid: %w", err)
	}
	if err := statusErr(c.Status); err != nil {
		return err
	}
	if expired(c, s.clock()) {
		return ErrExpired
	}
	switch {
	case p.Kind == KindSharedDev && c.Kind == store.CredPrintClient:
		return ErrOwnSecret
	case p.Kind == KindPrintClient && c.Kind == store.CredSharedDevice:
		return ErrSharedSecret
	}
	gen := c.Generation
	if c.Kind == store.CredSharedDevice {
		gen = c.SharedVersion
	}
	if gen != p.Generation && !(p.Generation == gen-1 && inGrace(c, s.clock())) {
		return ErrRotated
	}
	return nil
}

// Touch records that p's credential was used, writing at most once per touch interval per credential
// (an in-memory throttle; the first Touch after a restart writes). Errors are logged, not returned.
func (s *Service) Touch(ctx context.Context, p Principal) { s.touch(ctx, p, false) }

// TouchNow records the access immediately (at connect) and restarts the throttle interval.
func (s *Service) TouchNow(ctx context.Context, p Principal) { s.touch(ctx, p, true) }

func (s *Service) touch(ctx context.Context, p Principal, force bool) {
	if p.CredentialID == "" || p.Kind == KindSession {
		return
	}
	now := s.clock()
	if !s.admitTouch(p.CredentialID, now, force) {
		return
	}
	if err := s.st.TouchCredential(ctx, p.CredentialID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("keys: record last access", "credential", p.CredentialID, "err", err)
	}
}

// admitTouch reports whether a use of key (a credential ID, or "previous/"+ID for a rolled key's old
// secret) at now is to be written: at most once per touch interval unless force.
func (s *Service) admitTouch(key string, now time.Time, force bool) bool {
	s.touchMu.Lock()
	defer s.touchMu.Unlock()
	if last, ok := s.touched[key]; ok && !force && now.Sub(last) < s.touchEvery {
		return false
	}
	s.touched[key] = now
	if len(s.touched) > 100_000 {
		for id, t := range s.touched {
			if now.Sub(t) >= s.touchEvery {
				delete(s.touched, id)
			}
		}
	}
	return true
}

func (s *Service) forgetTouch(ids ...string) {
	s.touchMu.Lock()
	for _, id := range ids {
		delete(s.touched, id)
	}
	s.touchMu.Unlock()
}
