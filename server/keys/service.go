package keys

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"printdock/protocol"
	"printdock/server/store"
)

// TokenTTL is the lifetime of an OAuth access token.
const TokenTTL = time.Hour

// DefaultTouchInterval is how often Touch writes last-accessed-at for one credential at most.
const DefaultTouchInterval = time.Minute

// Service implements the key lifecycle described in keys.go. It is safe for concurrent use.
type Service struct {
	st         Store
	pepper     []byte
	now        func() time.Time
	log        *slog.Logger
	pwParams   PasswordParams
	pwSem      chan struct{}
	touchEvery time.Duration
	pepperDir  string // WithPepperDir
	dummyHash  string // verified against for unknown e-mails, so timing does not reveal which exist

	touchMu sync.Mutex
	touched map[string]time.Time

	authFails failAudit // aggregates auth.failed rows per address, target and minute

	events broker
	hooks  []ChangeHook // WithChangeHook; see change.go
	auth   authCache    // verified pdc_/pdu_ secrets (authcache.go)
	macs   sync.Pool    // of hash.Hash: HMAC-SHA256 keyed with pepper (hash)
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithPasswordParams sets the argon2id parameters for new password hashes (tests use cheap ones).
func WithPasswordParams(p PasswordParams) Option { return func(s *Service) { s.pwParams = p } }

// WithTouchInterval sets Touch's throttle interval (default one minute).
func WithTouchInterval(d time.Duration) Option { return func(s *Service) { s.touchEvery = d } }

// WithPepperDir says that the pepper given to New was loaded from dataDir with LoadOrCreatePepperInfo.
// When it is a new pepper (dataDir/pepper.new), New refuses it with ErrPepperMismatch if the store already
// has a portal (the real pepper file is lost: every secret would fail and every agent would be logged
// out), and otherwise makes it dataDir/pepper.
func WithPepperDir(dataDir string) Option { return func(s *Service) { s.pepperDir = dataDir } }

// New returns a Service over st. pepper must be PepperLen bytes (see LoadOrCreatePepperInfo and
// WithPepperDir).
func New(st Store, pepper []byte, opts ...Option) (*Service, error) {
	if st == nil {
		return nil, errors.New("keys: new: nil store")
	}
	if len(pepper) != PepperLen {
		return nil, fmt.Errorf("keys: new: pepper is %d bytes, want %d", len(pepper), PepperLen)
	}
	s := &Service{
		st:         st,
		pepper:     append([]byte(nil), pepper...),
		now:        time.Now,
		log:        slog.Default(),
		pwParams:   DefaultPasswordParams,
		pwSem:      make(chan struct{}, 2),
		touchEvery: DefaultTouchInterval,
		touched:    make(map[string]time.Time),
		auth:       authCache{ttl: DefaultAuthCacheTTL, max: DefaultAuthCacheSize},
	}
	for _, o := range opts {
		o(s)
	}
	if s.pepperDir != "" {
		// New has no context: it runs once at startup, and the check is one count query.
		if err := checkPendingPepper(context.Background(), st, s.pepperDir, s.pepper); err != nil {
			return nil, err
		}
	}
	dummy, err := hashPassword("printdock-dummy-password", s.pwParams)
	if err != nil {
		return nil, err
	}
	s.dummyHash = dummy
	s.events.log = s.log
	s.events.drop = s.auth.forget
	return s, nil
}

// hash is the stored form of a secret: hex HMAC-SHA256 keyed with the pepper. The keyed HMAC states are
// pooled (Reset restores the keyed state without re-deriving it), which halves a cached Authenticate.
func (s *Service) hash(secret string) string {
	m, _ := s.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, s.pepper)
	}
	m.Reset()
	_, _ = io.WriteString(m, secret)
	var sum [sha256.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0]))
	s.macs.Put(m)
	return out
}

// hashEqual compares two stored hashes in constant time.
func hashEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

func (s *Service) clock() time.Time { return s.now().UTC() }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ID prefixes.
const (
	idPortal       = "prt_"
	idUser         = "usr_"
	idPrintClient  = "key_"
	idSharedDevice = "dev_"
	idUserKey      = "uak_"
	idOAuthClient  = "oac_"
)

// newID returns prefix + 26 characters (128 random bits).
func newID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("keys: crypto/rand failed: %v", err)) // rand.Read does not fail on supported platforms
	}
	return prefix + idEncoding.EncodeToString(b[:])
}

// newSecret returns a secret of kind k with its hash and prefix.
func (s *Service) newSecret(k protocol.SecretKind) (secret, hash, prefix string, err error) {
	secret, err = protocol.NewSecret(k)
	if err != nil {
		return "", "", "", fmt.Errorf("keys: %w", err)
	}
	return secret, s.hash(secret), protocol.SecretPrefix(secret), nil
}

// actorName is how an actor appears in audit entries and created-by columns.
func actorName(a Actor) string {
	switch {
	case a.Email != "":
		return a.Email
	case a.CredentialID != "":
		return "key:" + a.CredentialID
	default:
		return "anonymous"
	}
}

// audit writes one audit entry through q (a transaction when the change is transactional).
func (s *Service) audit(ctx context.Context, q Store, portalID, actor, action, target, remote, detail string) error {
	_, err := q.AppendAudit(ctx, store.AuditEntry{
		PortalID: portalID, At: s.clock(), Actor: actor, Action: action, Target: target, RemoteAddr: remote, Detail: detail,
	})
	if err != nil {
		return fmt.Errorf("keys: audit: %w", err)
	}
	return s.recordKeyEvent(ctx, q, portalID, actor, action, target)
}

// requireAdmin checks that a is an administrator of a portal.
func requireAdmin(a Actor) error {
	if a.PortalID == "" || a.Role != RoleAdmin {
		return fmt.Errorf("keys: administrator role required: %w", ErrForbidden)
	}
	return nil
}

// requireUser checks that a is a signed-in user (API key or portal session) acting for themself.
func requireUser(a Actor) error {
	if a.PortalID == "" || a.UserID == "" || (a.Kind != KindUser && a.Kind != KindSession) {
		return fmt.Errorf("keys: a user's API key or sign-in is required: %w", ErrForbidden)
	}
	return nil
}

// mapStoreErr turns store errors into this package's sentinels, keeping the context.
func mapStoreErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("keys: %s: %w", op, ErrNotFound)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("keys: %s: %w", op, ErrConflict)
	default:
		return fmt.Errorf("keys: %s: %w", op, err)
	}
}

// isKeySentinel reports whether err already carries one of the package's sentinels.
func isKeySentinel(err error) bool {
	for _, e := range []error{ErrUnauthenticated, ErrInactive, ErrRevoked, ErrForbidden, ErrNotFound, ErrConflict,
		ErrInvalid, ErrConfirmationRequired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// tx runs fn in a store transaction, mapping store errors that fn returns unwrapped.
func (s *Service) tx(ctx context.Context, op string, fn func(q store.Store) error) error {
	err := s.st.InTx(ctx, fn)
	if err == nil || isKeySentinel(err) {
		return err
	}
	return mapStoreErr(op, err)
}

func normalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	at := strings.IndexByte(e, '@')
	if len(e) > 254 || at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n") {
		return "", fmt.Errorf("keys: %q is not an e-mail address: %w", e, ErrInvalid)
	}
	return e, nil
}

func checkDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if d == "" {
		return "", fmt.Errorf("keys: a description is required (say what or where the key is for): %w", ErrInvalid)
	}
	if len(d) > 200 {
		return "", fmt.Errorf("keys: description longer than 200 bytes: %w", ErrInvalid)
	}
	if containsSecretLike(d) {
		// a secret pasted into a description would be shown to everyone: refuse anything that looks like one
		return "", fmt.Errorf("keys: the description contains a secret: %w", ErrInvalid)
	}
	return d, nil
}

// minSecretLikeRun is how many base62 characters after a secret prefix make text look like a secret
// (whole or cut off): 20 characters are ~119 bits of one, far more than a displayed prefix ("pdc_7GhQ").
const minSecretLikeRun = 20

// containsSecretLike reports whether any occurrence in d of a secret prefix (in any letter case) is
// followed by minSecretLikeRun or more base62 characters. Every occurrence is checked, so a decoy such as
// "pdc_ x pdc_<secret>" does not hide the real one.
func containsSecretLike(d string) bool {
	for i := 0; i+4 <= len(d); i++ {
		if d[i+3] != '_' || !isSecretKind(d[i:i+4]) {
			continue
		}
		run := 0
		for j := i + 4; j < len(d) && isBase62(d[j]); j++ {
			run++
		}
		if run >= minSecretLikeRun {
			return true
		}
	}
	return false
}

func isSecretKind(p string) bool {
	for _, k := range protocol.Kinds {
		if strings.EqualFold(p, string(k)) {
			return true
		}
	}
	return false
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
