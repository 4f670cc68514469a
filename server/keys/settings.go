package keys

import (
	"context"
	"fmt"
	"strconv"

	"printdock/server/store"
)

// ActionSettingsUpdate is the audit action of a change of a portal's settings.
const ActionSettingsUpdate = "portal.settings"

// Settings are a portal's key policies. The zero value is the default of a new portal.
type Settings struct {
	// NewKeysInactive makes new print client secrets and OAuth clients start inactive unless their
	// creator says otherwise, so an admin activates them once the installation or integration is ready.
	NewKeysInactive bool
	// OneInstallationPerSecret refuses a print client secret's second installation while the first is
	// connected (the agent shows InUseMessage); without it the second is only audited and flagged.
	OneInstallationPerSecret bool
}

// Setting names in the store.
const (
	settingNewKeysInactive          = "new_keys_inactive"
	settingOneInstallationPerSecret = "one_installation_per_secret"
)

func settingsFrom(m map[string]string) Settings {
	var s Settings
	s.NewKeysInactive, _ = strconv.ParseBool(m[settingNewKeysInactive])
	s.OneInstallationPerSecret, _ = strconv.ParseBool(m[settingOneInstallationPerSecret])
	return s
}

func (s *Service) portalSettings(ctx context.Context, q Store, portalID string) (Settings, error) {
	m, err := q.PortalSettings(ctx, portalID)
	if err != nil {
		return Settings{}, mapStoreErr("portal settings", err)
	}
	return settingsFrom(m), nil
}

// Settings returns the actor's portal settings (admin).
func (s *Service) Settings(ctx context.Context, a Actor) (Settings, error) {
	if err := requireAdmin(a); err != nil {
		return Settings{}, err
	}
	return s.portalSettings(ctx, s.st, a.PortalID)
}

// UpdateSettings replaces the actor's portal settings (admin) and audits what changed.
func (s *Service) UpdateSettings(ctx context.Context, a Actor, next Settings) (Settings, error) {
	if err := requireAdmin(a); err != nil {
		return Settings{}, err
	}
	err := s.tx(ctx, "update settings", func(q store.Store) error {
		old, err := s.portalSettings(ctx, q, a.PortalID)
		if err != nil || old == next {
			return err
		}
		for name, v := range map[string]bool{settingNewKeysInactive: next.NewKeysInactive,
			settingOneInstallationPerSecret: next.OneInstallationPerSecret} {
			if err := q.SetPortalSetting(ctx, a.PortalID, name, strconv.FormatBool(v)); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionSettingsUpdate, a.PortalID, a.RemoteAddr,
			fmt.Sprintf("new_keys_inactive=%t one_installation_per_secret=%t", next.NewKeysInactive, next.OneInstallationPerSecret))
	})
	if err != nil {
		return Settings{}, err
	}
	return next, nil
}

// newKeyStatus is the status of a new print client secret or OAuth client: active as asked, or else the
// portal's default.
func (s *Service) newKeyStatus(ctx context.Context, portalID string, active *bool) (Status, error) {
	if active == nil {
		set, err := s.portalSettings(ctx, s.st, portalID)
		if err != nil {
			return "", err
		}
		active = new(!set.NewKeysInactive)
	}
	if *active {
		return StatusActive, nil
	}
	return StatusInactive, nil
}
