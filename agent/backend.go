package agent

import (
	"context"
	"errors"
	"net/http"

	"printdock/agent/localapi"
	"printdock/printer"
	"printdock/protocol"
)

// backend adapts the Agent to localapi.Backend, turning its errors into *localapi.APIError.
type backend struct{ a *Agent }

func (b backend) Status(context.Context) localapi.Status { return b.a.Status() }

func (b backend) Subscribe() (<-chan localapi.Status, func()) { return b.a.Subscribe() }

func (b backend) Login(ctx context.Context, req localapi.LoginRequest) (localapi.Status, error) {
	st, err := b.a.Login(ctx, req.ServerURL, req.Secret, req.DeviceID)
	return st, apiError(err)
}

func (b backend) Logout(ctx context.Context) (localapi.Status, error) {
	st, err := b.a.Logout(ctx)
	return st, apiError(err)
}

func (b backend) Printers(ctx context.Context) ([]localapi.Printer, error) {
	return b.a.Printers(ctx), nil
}

func (b backend) TestPrint(ctx context.Context, req localapi.TestPrintRequest) (localapi.TestPrintResult, error) {
	res, err := b.a.TestPrint(ctx, req.PrinterID)
	return res, apiError(err)
}

func (b backend) Jobs(context.Context) ([]localapi.Job, error) { return b.a.Jobs(), nil }

func (b backend) JobPreview(ctx context.Context, id string) (localapi.JobPreview, error) {
	res, err := b.a.JobPreview(ctx, id)
	return res, apiError(err)
}

func (b backend) DiscardJob(ctx context.Context, id string) (localapi.Job, error) {
	res, err := b.a.DiscardJob(ctx, id)
	return res, apiError(err)
}

func (b backend) Logs(_ context.Context, n int) ([]localapi.LogEntry, error) {
	return b.a.ring.last(n), nil
}

// apiError maps the agent's errors to local API answers. The message is the error's text, which is
// plain language and never holds a secret.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	code, status := localapi.CodeInternal, http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalidSecret), isSecretFormatError(err):
		code, status = localapi.CodeInvalidSecret, http.StatusBadRequest
	case errors.Is(err, ErrDeviceIDRequired):
		code, status = localapi.CodeDeviceIDRequired, http.StatusBadRequest
	case errors.Is(err, ErrInsecureURL):
		code, status = localapi.CodeInsecureURL, http.StatusBadRequest
	case errors.Is(err, ErrBadURL):
		code, status = localapi.CodeInvalidRequest, http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		code, status = localapi.CodeUnauthorized, http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		code, status = localapi.CodeForbidden, http.StatusForbidden
	case errors.Is(err, ErrServerUnreachable):
		code, status = localapi.CodeServerUnreachable, http.StatusBadGateway
	case errors.Is(err, ErrNotLoggedIn):
		code, status = localapi.CodeNotLoggedIn, http.StatusConflict
	case errors.Is(err, ErrJobNotFound):
		code, status = localapi.CodeNotFound, http.StatusNotFound
	case errors.Is(err, ErrTooLate), errors.Is(err, ErrNotWaiting):
		code, status = localapi.CodeTooLate, http.StatusConflict
	case errors.Is(err, ErrNoPreview):
		code, status = localapi.CodeNoPreview, http.StatusUnprocessableEntity
	case errors.Is(err, ErrPrinterNotFound):
		code, status = localapi.CodePrinterNotFound, http.StatusNotFound
	case isPrinterError(err):
		code, status = localapi.CodePrinterError, http.StatusBadGateway
	}
	return localapi.NewError(status, code, err.Error(), err)
}

func isSecretFormatError(err error) bool {
	for _, e := range []error{protocol.ErrSecretEmpty, protocol.ErrSecretPrefix, protocol.ErrSecretTruncated, protocol.ErrSecretTooLong, protocol.ErrSecretCharset, protocol.ErrSecretChecksum} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func isPrinterError(err error) bool {
	for _, e := range []error{printer.ErrDisconnected, printer.ErrMediaOut, printer.ErrHeadOpen, printer.ErrPaused, printer.ErrRibbonOut, printer.ErrNotFound, printer.ErrNoStatus} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
