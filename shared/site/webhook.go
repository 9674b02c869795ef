package site

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/token"
)

// SignatureHeader carries FusionAuth's webhook signature: a JWT whose
// request_body_sha256 claim is the standard-base64 SHA-256 of the exact body.
const SignatureHeader = "X-FusionAuth-Signature-JWT"

// DefaultSecretHeader is the header kickstart configures on the webhook to carry the
// shared secret.
const DefaultSecretHeader = "X-Webhook-Secret"

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

// conversionTimeout bounds a conversion that outlives the delivery's own request.
const conversionTimeout = 10 * time.Second

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
// to do, 503 when FusionAuth failed (statusOf).
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(statusOf(errMethod))
		return
	}
	if err := h.handle(w, r); err != nil {
		w.WriteHeader(statusOf(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handle authenticates a delivery, then acts on it. Every refusal is logged here, once.
// w is only for http.MaxBytesReader, which tells the server to close an oversized
// connection; handle writes no response itself.
func (h *Webhook) handle(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		return errTooLarge
	}
	if why := h.authenticate(ctx, r, body); why != "" {
		h.Logger.WarnContext(ctx, "webhook call refused", "reason", why, "remoteAddr", r.RemoteAddr)
		return errUnauthenticated
	}
	var ev event
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&ev); err != nil || ev.Event == nil || ev.Event.Type == "" {
		h.Logger.WarnContext(ctx, "malformed webhook body")
		return errMalformed
	}
	e := ev.Event
	if e.Type != "user.login.success" {
		return nil
	}
	if e.User == nil || !anon.ValidUserID(e.User.ID) {
		h.Logger.WarnContext(ctx, "login event without a user id", "eventId", e.ID)
		return errMalformed
	}
	if anonymous, _ := e.User.Data[anon.DataAnonymous].(bool); !anonymous {
		return nil
	}
	// The conversion finishes even if FusionAuth stops waiting (its readTimeout) and
	// hangs up: it sends and forgets, so nothing would ask again until prune reconciles.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), conversionTimeout)
	defer cancel()
	converted, err := h.Conversions.CompleteConversion(ctx, e.User.ID)
	if err != nil {
		h.Logger.ErrorContext(ctx, "conversion on login failed", "eventId", e.ID, "userId", e.User.ID, "error", err)
		return err
	}
	if converted {
		h.Logger.InfoContext(ctx, "anonymous user converted", "eventId", e.ID, "userId", e.User.ID)
	}
	return nil
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
