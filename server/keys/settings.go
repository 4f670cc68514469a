package keys

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"printdock/printer"
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
	// PrinterAlertAfter is how long a printer may be out of media, head open, offline… before the portal
	// shows it as an alert (printer.InAlert); 0 takes printer.DefaultAlertAfter. Whole seconds.
	PrinterAlertAfter time.Duration
}

// AlertAfter is s.PrinterAlertAfter, or printer.DefaultAlertAfter when not set.
func (s Settings) AlertAfter() time.Duration {
	if s.PrinterAlertAfter <= 0 {
		return printer.DefaultAlertAfter
	}
	return s.PrinterAlertAfter
}

// Setting names in the store.
const (
	settingNewKeysInactive          = "new_keys_inactive"
	settingOneInstallationPerSecret = "one_installation_per_secret"
	settingPrinterAlertAfter        = "printer_alert_after_seconds"
)

func settingsFrom(m map[string]string) Settings {
	var s Settings
	s.NewKeysInactive, _ = strconv.ParseBool(m[settingNewKeysInactive])
	s.OneInstallationPerSecret, _ = strconv.ParseBool(m[settingOneInstallationPerSecret])
	if n, err := strconv.Atoi(m[settingPrinterAlertAfter]); err == nil && n > 0 {
		s.PrinterAlertAfter = time.Duration(n) * time.Second
	}
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

// PrinterAlertAfter returns the actor's portal's printer alert threshold (any signed-in role: every
// user sees the alerts).
func (s *Service) PrinterAlertAfter(ctx context.Context, a Actor) (time.Duration, error) {
	set, err := s.portalSettings(ctx, s.st, a.PortalID)
	if err != nil {
		return 0, err
	}
	return set.AlertAfter(), nil
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
		secs := int(next.AlertAfter() / time.Second)
		if err := q.SetPortalSetting(ctx, a.PortalID, settingPrinterAlertAfter, strconv.Itoa(secs)); err != nil {
			return err
		}
		return s.audit(ctx, q, a.PortalID, actorName(a), ActionSettingsUpdate, a.PortalID, a.RemoteAddr,
			fmt.Sprintf("new_keys_inactive=%t one_installation_per_secret=%t printer_alert_after_seconds=%d",
				next.NewKeysInactive, next.OneInstallationPerSecret, secs))
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
