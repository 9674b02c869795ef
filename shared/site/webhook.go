package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/anon"
)

// SignatureHeader carries FusionAuth's webhook signature: a JWT whose
// request_body_sha256 claim is the standard-base64 SHA-256 of the exact body.
const SignatureHeader = "X-FusionAuth-Signature-JWT"

// DefaultSecretHeader is the header kickstart configures on the webhook to carry the
// shared secret.
const DefaultSecretHeader = "X-Webhook-Secret"

// ClaimsVerifier checks a JWT's signature with a pinned key and returns its claims
// (*anon.Verifier).
type ClaimsVerifier interface {
	Claims(ctx context.Context, token string) (jwt.MapClaims, error)
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
	Signatures   ClaimsVerifier // nil: no signature check
	Secret       string         // "": no shared-secret check
	SecretHeader string         // default DefaultSecretHeader
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
	if e.User == nil || !validUserID(e.User.ID) {
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
		token := r.Header.Get(SignatureHeader)
		if token == "" {
			return "signature missing"
		}
		claims, err := h.Signatures.Claims(ctx, token)
		if err != nil {
			var te *anon.TokenError
			if errors.As(err, &te) {
				return "signature " + te.Reason
			}
			return "signature invalid"
		}
		sum := sha256.Sum256(body)
		want := base64.StdEncoding.EncodeToString(sum[:])
		got, _ := claims["request_body_sha256"].(string)
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return "body does not match its signature"
		}
	}
	return ""
}

func validUserID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F'):
			return false
		}
	}
	return true
}
