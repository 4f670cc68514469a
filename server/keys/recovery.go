package keys

import (
	"context"

	"printdock/server/store"
)

// UserByEmail finds a user in any portal by e-mail. It authorizes nobody: it exists for the offline
// recovery commands (`printdock-server users …`), whose caller already reads the server's data directory
// and database, to name a portal by one of its users. Handlers reached over the network must not call it.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := s.st.GetUserByEmail(ctx, normalizeEmailLoose(email))
	if err != nil {
		return User{}, mapStoreErr("find user", err)
	}
	return toUser(u, store.Credential{}), nil
}
