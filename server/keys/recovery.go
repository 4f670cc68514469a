package keys

import (
	"context"
	"fmt"
)

// UserByEmail finds a user in any portal by e-mail. It authorizes nobody: it exists for the offline
// recovery commands (`printdock-server users …`), whose caller already reads the server's data directory
// and database, to name a portal by one of its users. Handlers reached over the network must not call it.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := s.st.GetUserByEmail(ctx, normalizeEmailLoose(email))
	if err != nil {
		return User{}, mapStoreErr("find user", err)
	}
	return toUser(u, ""), nil
}

// ResetPassword is ResetUserPassword for callers that need only the new password (the offline
// recovery command prints it once).
func (s *Service) ResetPassword(ctx context.Context, a Actor, userID string) (string, error) {
	_, pw, err := s.ResetUserPassword(ctx, a, userID)
	if err != nil {
		return "", fmt.Errorf("keys: reset password: %w", err)
	}
	return pw, nil
}
