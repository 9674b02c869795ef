package anon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/changebank/anonuser/shared/faclient"
)

// Claims of the cookie token. FusionAuth's vend adds no issuer, so ClaimPurpose marks
// the token as ours: an access token FusionAuth issued at login, signed by the same
// key, never passes as a visitor cookie.
const (
	ClaimUserID    = "userId"
	ClaimPurpose   = "purpose"
	PurposeVisitor = "anonymous-visitor"
)

// maxTokenLen bounds what is parsed at all; a vended RS256 token is about 600 bytes.
const maxTokenLen = 4096

// TokenError says why a cookie token was refused. Reason is safe to log; the token
// itself never is.
type TokenError struct {
	Reason string
	Err    error
}

func (e *TokenError) Error() string {
	if e.Err != nil {
		return "cookie token refused: " + e.Reason + ": " + e.Err.Error()
	}
	return "cookie token refused: " + e.Reason
}

func (e *TokenError) Unwrap() error { return e.Err }

// KeyRetriever reads a Key Master key (faclient.Client.RetrieveKey).
type KeyRetriever interface {
	// RetrieveKey reads a key by its Key Master id. Errors: 404, 401.
	RetrieveKey(ctx context.Context, keyID string) (*faclient.KeyResponse, error)
}

// SigningKey learns the JWT kid and algorithm of a Key Master key: FusionAuth signs with
// kid = the certificate thumbprint, not the key's id, so it must be looked up once.
func SigningKey(ctx context.Context, keys KeyRetriever, keyID string) (kid, alg string, err error) {
	resp, err := keys.RetrieveKey(ctx, keyID)
	if err != nil {
		return "", "", fmt.Errorf("look up signing key %s: %w", keyID, err)
	}
	if resp.Key.KID == "" || resp.Key.Algorithm == "" {
		return "", "", fmt.Errorf("signing key %s has no kid or algorithm", keyID)
	}
	switch resp.Key.Algorithm {
	case "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519":
	default:
		return "", "", fmt.Errorf("signing key %s: algorithm %s is not asymmetric; FusionAuth does not publish it in JWKS", keyID, resp.Key.Algorithm)
	}
	if resp.Key.Algorithm == "Ed25519" {
		alg = "EdDSA"
	} else {
		alg = resp.Key.Algorithm
	}
	return resp.Key.KID, alg, nil
}

// VerifierOptions configure a Verifier.
type VerifierOptions struct {
	JWKSURL    string        // FusionAuth's /.well-known/jwks.json
	KID        string        // the only kid accepted
	Algorithm  string        // the only alg accepted, e.g. "RS256"
	Purpose    string        // required value of the purpose claim (Verify); empty for Claims-only use
	RequireExp bool          // refuse tokens without exp
	HTTPClient *http.Client  // for JWKS fetches
	RefreshMin time.Duration // minimum time between JWKS refreshes for a missing key; default 5 min
	Now        func() time.Time
}

// Verifier checks signed tokens against FusionAuth's JWKS, fetched once and cached.
// It is safe for concurrent use.
type Verifier struct {
	kid, purpose string
	keyfunc      keyfunc.Keyfunc
	parser       *jwt.Parser
}

// NewVerifier fetches the JWKS once. If FusionAuth cannot be reached now, it starts
// anyway and fetches when the first token needs the key (at a bounded rate).
func NewVerifier(ctx context.Context, o VerifierOptions) (*Verifier, error) {
	if o.KID == "" || o.Algorithm == "" {
		return nil, errors.New("verifier: kid and algorithm are required")
	}
	if o.RefreshMin <= 0 {
		o.RefreshMin = 5 * time.Minute
	}
	client := o.HTTPClient
	if client == nil {
		client = faclient.DefaultHTTPClient()
	}
	store, err := jwkset.NewStorageFromHTTP(o.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    client,
		Ctx:                       ctx,
		HTTPTimeout:               5 * time.Second,
		NoErrorReturnFirstHTTPReq: true,
		// No RefreshInterval: a Lambda environment is frozen between invocations, so
		// a ticker goroutine would fire at random. Refresh on a missing key instead.
	})
	if err != nil {
		return nil, fmt.Errorf("verifier: jwks %s: %w", o.JWKSURL, err)
	}
	storage, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{o.JWKSURL: store},
		// A missing key refreshes at most once per RefreshMin, and a request never
		// waits for the limiter: it fails fast instead.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(o.RefreshMin), 1),
		RateLimitWaitMax:  time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("verifier: jwks client: %w", err)
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: storage})
	if err != nil {
		return nil, fmt.Errorf("verifier: keyfunc: %w", err)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{o.Algorithm}),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30 * time.Second),
	}
	if o.RequireExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	return &Verifier{kid: o.KID, purpose: o.Purpose, keyfunc: kf, parser: jwt.NewParser(opts...)}, nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Verify checks a cookie token and returns the user id it names. Errors are
// *TokenError with a loggable reason.
func (v *Verifier) Verify(ctx context.Context, token string) (string, error) {
	claims, err := v.Claims(ctx, token)
	if err != nil {
		return "", err
	}
	if p, _ := claims[ClaimPurpose].(string); v.purpose == "" || p != v.purpose {
		return "", &TokenError{Reason: "wrong purpose claim"}
	}
	userID, _ := claims[ClaimUserID].(string)
	if !uuidPattern.MatchString(userID) {
		return "", &TokenError{Reason: "missing or malformed userId"}
	}
	return userID, nil
}

// Claims checks a token's signature (pinned kid and algorithm) and time claims and
// returns its claims. Errors are *TokenError.
func (v *Verifier) Claims(ctx context.Context, token string) (jwt.MapClaims, error) {
	if len(token) > maxTokenLen {
		return nil, &TokenError{Reason: "too long"}
	}
	claims := jwt.MapClaims{}
	keyFn := v.keyfunc.KeyfuncCtx(ctx)
	_, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		// Pin the key id before asking the key set: an attacker-chosen kid must
		// neither select another published key nor trigger a JWKS refresh.
		if kid, _ := t.Header["kid"].(string); kid != v.kid {
			return nil, errWrongKID
		}
		return keyFn(t)
	})
	if err != nil {
		return nil, &TokenError{Reason: reason(err), Err: err}
	}
	return claims, nil
}

var errWrongKID = errors.New("kid is not the configured signing key")

func reason(err error) string {
	switch {
	case errors.Is(err, errWrongKID):
		return "wrong kid"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "required claim missing"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature or algorithm"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signing key unavailable"
	}
	return "invalid"
}
