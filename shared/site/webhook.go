package site

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/token"
)

// SignatureHeader carries FusionAuth's webhook signature: a JWT whose
// request_body_sha256 claim is the standard-base64 SHA-256 of the exact body.
const SignatureHeader = "X-FusionAuth-Signature-JWT"

// DefaultSecretHeader is the header kickstart configures on the webhook to carry the
// shared secret.
const DefaultSecretHeader = "X-Webhook-Secret"

// SignatureVerifier checks FusionAuth's signature of a webhook body (*token.Webhook).
type SignatureVerifier interface {
	// Verify checks that signature (the SignatureHeader's value) signs exactly body.
	// Errors are *token.Error.
	Verify(ctx context.Context, signature string, body []byte) error
}

// Finisher completes a conversion on first login (*anon.Converter).
type Finisher interface {
	// CompleteConversion converts the user if it is still a stub; it reports whether it did.
	CompleteConversion(ctx context.Context, userID string) (bool, error)
}

// Webhook serves FusionAuth's webhook: it acts only on calls proven to come from
// FusionAuth (a valid signature, a shared secret, or both when both are configured)
// and converts a stub user on its first login.
type Webhook struct {
	Signatures   SignatureVerifier // nil: no signature check
	Secret       string            // "": no shared-secret check
	SecretHeader string            // default DefaultSecretHeader
	Conversions  Finisher
	Logger       *slog.Logger
}

// maxEventBytes bounds a webhook body; a login event is a few kilobytes.
const maxEventBytes = 1 << 20

// event is the part of FusionAuth's envelope the webhook reads.
type event struct {
	Event *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		User *struct {
			ID   string         `json:"id"`
			Data map[string]any `json:"data"`
		} `json:"user"`
	} `json:"event"`
}

// ServeHTTP implements POST: 401 unauthenticated, 400 malformed, 204 done or nothing
// to do, 5xx when FusionAuth failed so that FusionAuth retries.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if why := h.authenticate(ctx, r, body); why != "" {
		h.Logger.WarnContext(ctx, "webhook call refused", "reason", why, "remoteAddr", r.RemoteAddr)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil || ev.Event == nil || ev.Event.Type == "" {
		h.Logger.WarnContext(ctx, "malformed webhook body")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	e := ev.Event
	if e.Type != "user.login.success" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if e.User == nil || !anon.ValidUserID(e.User.ID) {
		h.Logger.WarnContext(ctx, "login event without a user id", "eventId", e.ID)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if anonymous, _ := e.User.Data[anon.DataAnonymous].(bool); !anonymous {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	converted, err := h.Conversions.CompleteConversion(ctx, e.User.ID)
	if err != nil {
		h.Logger.ErrorContext(ctx, "conversion on login failed", "eventId", e.ID, "userId", e.User.ID, "error", err)
		w.WriteHeader(statusFor(err))
		return
	}
	if converted {
		h.Logger.InfoContext(ctx, "anonymous user converted", "eventId", e.ID, "userId", e.User.ID)
	}
	w.WriteHeader(http.StatusNoContent)
}

// authenticate returns why the call is refused, or "" when it is authentic. It runs
// before the body is parsed at all.
func (h *Webhook) authenticate(ctx context.Context, r *http.Request, body []byte) string {
	if h.Secret == "" && h.Signatures == nil {
		return "no authentication configured"
	}
	if h.Secret != "" {
		header := h.SecretHeader
		if header == "" {
			header = DefaultSecretHeader
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(header)), []byte(h.Secret)) != 1 {
			return "shared secret missing or wrong"
		}
	}
	if h.Signatures != nil {
		if err := h.Signatures.Verify(ctx, r.Header.Get(SignatureHeader), body); err != nil {
			return "signature: " + token.Reason(err)
		}
	}
	return ""
}
