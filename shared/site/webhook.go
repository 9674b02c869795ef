package site

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
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
	Now          func() time.Time // the clock deliveries' ages are judged by; nil: time.Now
}

// conversionTimeout bounds a conversion that outlives the delivery's own request.
const conversionTimeout = 10 * time.Second

// maxEventBytes bounds a webhook body: a login event is a few kilobytes, and the body
// is read into memory before its signature can be checked.
const maxEventBytes = 64 << 10

// maxEventAge is how old a delivery may be and still act: FusionAuth sends an event
// when it happens and does not retry (transactionType None), so an older one is a
// replay of a recorded delivery; it is acknowledged and ignored.
const maxEventAge = time.Hour

// event is the part of FusionAuth's envelope the webhook reads.
type event struct {
	Event *struct {
		ID            string `json:"id"`
		Type          string `json:"type"`
		CreateInstant int64  `json:"createInstant"`
		User          *struct {
			ID   string         `json:"id"`
			Data map[string]any `json:"data"`
		} `json:"user"`
	} `json:"event"`
}

// ServeHTTP implements POST: 401 unauthenticated, 413 too large, 400 malformed, 204
// done or nothing to do (a replayed delivery too), 503 when FusionAuth or its signing
// key could not be reached (statusOf).
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
// The shared secret, a header, is checked before a byte of the body is read, so an
// unauthenticated caller cannot make the function read (or hold) a large body; then
// the body is read, at most maxEventBytes, and its signature checked before it is
// parsed. w is only for http.MaxBytesReader, which tells the server to close an
// oversized connection; handle writes no response itself.
func (h *Webhook) handle(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if why := h.checkSecret(r); why != "" {
		h.Logger.WarnContext(ctx, "webhook call refused", "reason", why, "remoteAddr", r.RemoteAddr)
		return errUnauthenticated
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		h.Logger.WarnContext(ctx, "webhook body refused", "reason", "larger than the limit or unreadable", "limitBytes", maxEventBytes)
		return errTooLarge
	}
	if h.Signatures != nil {
		if err := h.Signatures.Verify(ctx, r.Header.Get(SignatureHeader), body); err != nil {
			if errors.Is(err, token.ErrKeyUnavailable) {
				// Our outage, not a forgery: nothing is judged or changed.
				h.Logger.ErrorContext(ctx, "webhook signing key unavailable", "error", err)
				return errKeysUnavailable
			}
			h.Logger.WarnContext(ctx, "webhook call refused", "reason", "signature: "+token.Reason(err), "remoteAddr", r.RemoteAddr)
			return errUnauthenticated
		}
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
	if e.User == nil || !anon.ValidUserID(e.User.ID) || e.CreateInstant <= 0 {
		h.Logger.WarnContext(ctx, "login event without a user id or its time", "eventId", e.ID)
		return errMalformed
	}
	if age := h.now().Sub(time.UnixMilli(e.CreateInstant)); age > maxEventAge {
		h.Logger.WarnContext(ctx, "webhook delivery too old: ignored as a replay", "eventId", e.ID, "createInstant", e.CreateInstant)
		return nil
	}
	if anonymous, _ := e.User.Data[anon.DataAnonymous].(bool); !anonymous {
		return nil
	}
	// The conversion finishes even if FusionAuth stops waiting (its readTimeout) and
	// hangs up: it sends and forgets, so nothing would ask again until prune reconciles.
	// It keeps the invocation's deadline (Lambda's timeout), if sooner.
	deadline := time.Now().Add(conversionTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	converted, err := h.Conversions.CompleteConversion(ctx, e.User.ID)
	if err != nil {
		h.Logger.ErrorContext(ctx, "conversion on login failed", "eventId", e.ID, "userId", e.User.ID, "error", err)
		return err
	}
	if converted {
		step(ctx, h.Logger, slog.LevelInfo, "anonymous user converted", MetricConverted, FunctionWebhook, "eventId", e.ID)
	}
	return nil
}

func (h *Webhook) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// checkSecret returns why the call is refused on its headers alone, or "": no
// authentication configured at all, or a configured shared secret missing or wrong.
func (h *Webhook) checkSecret(r *http.Request) string {
	if h.Secret == "" && h.Signatures == nil {
		return "no authentication configured"
	}
	if h.Secret == "" {
		return ""
	}
	header := h.SecretHeader
	if header == "" {
		header = DefaultSecretHeader
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(header)), []byte(h.Secret)) != 1 {
		return "shared secret missing or wrong"
	}
	return ""
}
