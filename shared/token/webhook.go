package token

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
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
	RefreshMin time.Duration // least time between JWKS refreshes for a missing key; default 5 min
	Now        func() time.Time
}

// Webhook checks FusionAuth's webhook signatures against its JWKS, fetched once and
// cached. It is safe for concurrent use.
type Webhook struct {
	kid     string
	keyfunc keyfunc.Keyfunc
	parser  *jwt.Parser
}

// NewWebhook fetches the JWKS once. If FusionAuth cannot be reached now, it starts
// anyway and fetches when the first signature needs the key (at a bounded rate). The
// kid comes from configuration: no Key API call is needed, or allowed, to learn it.
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
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	// Every JWKS fetch has at most fetchTimeout: the one at start and a refresh for a
	// missing key alike.
	fetchTimeout := 5 * time.Second
	store, err := jwkset.NewStorageFromHTTP(o.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    client,
		Ctx:                       ctx,
		HTTPTimeout:               fetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		// No RefreshInterval: a Lambda environment is frozen between invocations, so
		// a ticker goroutine would fire at random. Refresh on a missing key instead.
	})
	if err != nil {
		return nil, fmt.Errorf("webhook verifier: jwks %s: %w", o.JWKSURL, err)
	}
	storage, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{o.JWKSURL: store},
		// A missing key refreshes at most once per RefreshMin. jwkset fetches under the
		// limiter's wait context, so its bound is the refresh's deadline too: it is the
		// fetch timeout (a bound of 1 ms left no refresh time to reach FusionAuth). When
		// the next refresh is further off than that, the wait fails at once.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(o.RefreshMin), 1),
		RateLimitWaitMax:  fetchTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook verifier: jwks client: %w", err)
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: storage})
	if err != nil {
		return nil, fmt.Errorf("webhook verifier: keyfunc: %w", err)
	}
	// FusionAuth's signature JWT carries iat; per its docs no exp is promised.
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{o.Algorithm}),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30 * time.Second),
	}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	return &Webhook{kid: o.KID, keyfunc: kf, parser: jwt.NewParser(opts...)}, nil
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
	keyFn := v.keyfunc.KeyfuncCtx(ctx)
	_, err := v.parser.ParseWithClaims(signature, claims, func(t *jwt.Token) (any, error) {
		// Pin the key id before asking the key set: an attacker-chosen kid must
		// neither select another published key nor trigger a JWKS refresh.
		if kid, _ := t.Header["kid"].(string); kid != v.kid {
			return nil, errUnknownKID
		}
		return keyFn(t)
	})
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
