package token

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultWebhookAlgorithm is the algorithm of FusionAuth's generated RSA keys.
const DefaultWebhookAlgorithm = "RS256"

// maxSignatureLen bounds what is parsed at all; an RS256 signature JWT is about 600 bytes.
const maxSignatureLen = 4096

// WebhookOptions configure a Webhook verifier.
type WebhookOptions struct {
	JWKSURL    string        // FusionAuth's /.well-known/jwks.json
	KID        string        // the only kid accepted: the webhook signing key's, from configuration
	Algorithm  string        // the only alg accepted; default DefaultWebhookAlgorithm
	HTTPClient *http.Client  // for JWKS fetches; default a client with a 10 s timeout
	RefreshMin time.Duration // least time between JWKS refetches for a key the set lacked; default 5 min
	Now        func() time.Time
}

// ErrKeyUnavailable: the signing key could not be obtained (FusionAuth's JWKS did not
// answer, or did not hold the pinned kid). The signature was not judged: this is an
// outage of ours, not a forged call (Verify's *Error wraps it).
var ErrKeyUnavailable = errors.New("webhook signing key unavailable")

// maxJWKSBytes bounds a JWKS answer; FusionAuth's holds a few keys of about 1 KB each.
const maxJWKSBytes = 1 << 20

// Webhook checks FusionAuth's webhook signatures against its JWKS, fetched at start and
// cached. It is safe for concurrent use.
//
// The key set is fetched again only for the pinned kid, so an attacker's kid never
// causes a fetch: at once when the last fetch failed (FusionAuth was down: the first
// delivery after it is back finds the key, instead of every delivery failing for
// minutes), and when a key set that answered lacks the kid (a key not yet published,
// or a wrong kid) at most once per RefreshMin, so a stream of signatures under that
// kid cannot hammer FusionAuth.
type Webhook struct {
	kid, jwksURL string
	client       *http.Client
	refreshMin   time.Duration
	fetchTimeout time.Duration // bounds every JWKS fetch, at start and on a delivery alike
	now          func() time.Time
	parser       *jwt.Parser

	mu          sync.Mutex
	keys        keyfunc.Keyfunc // nil until a fetch succeeded
	hasKID      bool            // keys holds the pinned kid
	fetchOK     bool            // the last fetch succeeded
	refreshedAt time.Time       // the last refetch for the missing kid; zero: none yet
}

// NewWebhook fetches the JWKS once. If FusionAuth cannot be reached now, it starts
// anyway and fetches when the first signature needs the key. The kid comes from
// configuration: no Key API call is needed, or allowed, to learn it.
func NewWebhook(ctx context.Context, o WebhookOptions) (*Webhook, error) {
	if o.KID == "" {
		return nil, errors.New("webhook verifier: the signing key's kid is required")
	}
	if o.Algorithm == "" {
		o.Algorithm = DefaultWebhookAlgorithm
	}
	if o.RefreshMin <= 0 {
		o.RefreshMin = 5 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// FusionAuth's signature JWT carries iat; per its docs no exp is promised.
	v := &Webhook{
		kid: o.KID, jwksURL: o.JWKSURL, client: o.HTTPClient, refreshMin: o.RefreshMin, now: o.Now,
		// Long enough for a real round trip, short enough to leave the invocation its budget.
		fetchTimeout: 5 * time.Second,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{o.Algorithm}),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(30*time.Second),
			jwt.WithTimeFunc(o.Now),
		),
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	_ = v.fetchLocked(ctx) // a failure now is retried when a signature needs the key
	return v, nil
}

// key returns the pinned kid's key for t, fetching the key set first when the rules of
// Webhook allow. Errors wrap ErrKeyUnavailable.
func (v *Webhook) key(ctx context.Context, t *jwt.Token) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.hasKID {
		now := v.now()
		if !v.fetchOK || v.refreshedAt.IsZero() || !now.Before(v.refreshedAt.Add(v.refreshMin)) {
			v.refreshedAt = now
			if err := v.fetchLocked(ctx); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrKeyUnavailable, err)
			}
		}
		if !v.hasKID {
			return nil, fmt.Errorf("%w: the JWKS holds no key %q", ErrKeyUnavailable, v.kid)
		}
	}
	return v.keys.KeyfuncCtx(ctx)(t)
}

// fetchLocked fetches the key set, in at most fetchTimeout. Callers hold v.mu.
func (v *Webhook) fetchLocked(ctx context.Context) error {
	v.fetchOK = false
	ctx, cancel := context.WithTimeout(ctx, v.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return fmt.Errorf("jwks %s: %w", v.jwksURL, err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks %s: %w", v.jwksURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return fmt.Errorf("jwks %s: read: %w", v.jwksURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks %s: status %d", v.jwksURL, resp.StatusCode)
	}
	keys, err := keyfunc.NewJWKSetJSON(body)
	if err != nil {
		return fmt.Errorf("jwks %s: %w", v.jwksURL, err)
	}
	_, err = keys.Storage().KeyRead(ctx, v.kid)
	v.keys, v.hasKID, v.fetchOK = keys, err == nil, true
	return nil
}

// Verify checks that signature is FusionAuth's signature of exactly body: a JWT whose
// request_body_sha256 claim is the standard-base64 SHA-256 of the body (FusionAuth
// docs, "Signing Webhooks"). Errors are *Error with a loggable reason.
func (v *Webhook) Verify(ctx context.Context, signature string, body []byte) error {
	if signature == "" {
		return &Error{Reason: "signature missing"}
	}
	if len(signature) > maxSignatureLen {
		return &Error{Reason: "too long"}
	}
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(signature, claims, func(t *jwt.Token) (any, error) {
		// Pin the key id before asking the key set: an attacker-chosen kid must
		// neither select another published key nor trigger a JWKS fetch.
		if kid, _ := t.Header["kid"].(string); kid != v.kid {
			return nil, errUnknownKID
		}
		return v.key(ctx, t)
	})
	if errors.Is(err, ErrKeyUnavailable) {
		return &Error{Reason: "signing key unavailable", Err: err}
	}
	if err != nil {
		return refused(err)
	}
	sum := sha256.Sum256(body)
	want := base64.StdEncoding.EncodeToString(sum[:])
	got, _ := claims["request_body_sha256"].(string)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &Error{Reason: "body does not match its signature"}
	}
	return nil
}
