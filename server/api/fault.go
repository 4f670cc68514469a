package api

import (
	"log/slog"
	"net/http"

	"printdock/server/httpx"
	"printdock/server/store/fault"
)

// faultRetryAfter is the Retry-After of a 503 while the database cannot be reached.
const faultRetryAfter = "5"

// writeFault answers a store fault no request can fix (package fault): 507 when the server's disk is
// full, 503 with Retry-After while the database cannot be reached. Either way nothing was stored.
func writeFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	log.ErrorContext(r.Context(), "request failed: store fault", "route", r.Pattern, "err", httpx.RedactSecrets(err.Error()))
	if fault.Of(err) == fault.DiskFull {
		httpx.WriteError(w, http.StatusInsufficientStorage, "insufficient_storage",
			"the server's disk is full: nothing was stored; try again once an operator freed space")
		return
	}
	w.Header().Set("Retry-After", faultRetryAfter)
	httpx.WriteError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable,
		"the database cannot be reached right now: nothing was stored; try again")
}
