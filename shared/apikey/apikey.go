package apikey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/changebank/anonuser/shared/secrets"
)

// DefaultRefreshInterval is the least time Load allows between two re-reads of the secret.
const DefaultRefreshInterval = 30 * time.Second

// apiKeyField is the field of a JSON secret that holds the API key.
const apiKeyField = "apiKey"

// SecretReader reads a secret's current value (*secrets.Client).
type SecretReader interface {
	// GetSecretValue returns the current value of a secret. A secret that does not exist
	// gives an error matching secrets.ErrNotFound.
	GetSecretValue(ctx context.Context, secretID string) (secrets.Value, error)
}

var _ SecretReader = (*secrets.Client)(nil)

// Source holds the key read from one secret. Its methods are safe for concurrent use; its
// exported fields are configuration, to be set right after Load and before the Source is
// shared.
type Source struct {
	// RefreshInterval is the least time between two re-reads by RefreshAPIKey, so that a key
	// FusionAuth keeps rejecting does not hammer Secrets Manager. The first re-read after Load
	// is always allowed. Load sets DefaultRefreshInterval; zero means no limit.
	RefreshInterval time.Duration
	// Now returns the current time; Load sets time.Now. Tests inject a clock.
	Now func() time.Time
	// Logger receives a record per re-read (never the value); Load sets slog.Default().
	Logger *slog.Logger

	api      SecretReader
	secretID string
	reads    atomic.Int64
	// refreshing holds one token: having put it in is the right to re-read, so at most one
	// re-read is in flight and waiters can give up when their context ends.
	refreshing chan struct{}

	mu          sync.RWMutex
	current     secret
	lastRefresh time.Time // zero until the first re-read
}

// secret is one parsed secret value.
type secret struct {
	apiKey string
	fields map[string]string // string fields of a JSON secret; nil for a plain one
}

// Load reads the secret secretID now and returns a Source caching its API key.
//
// A secret that does not exist gives an error naming secretID and saying it was not found
// (matching secrets.ErrNotFound). An empty value, a SecretBinary value, or a JSON object
// without a non-empty "apiKey" string also fail. Errors never contain the value.
func Load(ctx context.Context, api SecretReader, secretID string) (*Source, error) {
	if api == nil {
		return nil, errors.New("load API key: no Secrets Manager client")
	}
	if secretID == "" {
		return nil, errors.New("load API key: empty secret id")
	}
	s := &Source{
		RefreshInterval: DefaultRefreshInterval,
		Now:             time.Now,
		Logger:          slog.Default(),
		api:             api,
		secretID:        secretID,
		refreshing:      make(chan struct{}, 1),
	}
	sec, err := s.read(ctx)
	if err != nil {
		return nil, fmt.Errorf("load API key: %w", err)
	}
	s.current = sec
	return s, nil
}

// APIKey returns the cached key. It does no I/O and fails only on a nil Source.
func (s *Source) APIKey(ctx context.Context) (string, error) {
	if s == nil {
		return "", errors.New("API key: nil apikey.Source")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current.apiKey, nil
}

// RefreshAPIKey is called after FusionAuth answered 401 to a request made with the key stale.
// It returns the key to retry with.
//
// If the cached key is no longer stale (another caller already refreshed), it returns the
// cached key without I/O. Otherwise it re-reads the secret, unless another re-read is in flight
// (it waits for that one and uses its result) or the last re-read was less than
// RefreshInterval ago. When the re-read is suppressed, or the secret still holds stale, the
// result equals stale: the caller should then give up instead of retrying. A failed re-read
// returns an error and keeps the cached key.
func (s *Source) RefreshAPIKey(ctx context.Context, stale string) (string, error) {
	if s == nil {
		return "", errors.New("refresh API key: nil apikey.Source")
	}
	if key, _ := s.APIKey(ctx); key != stale {
		return key, nil
	}
	select {
	case s.refreshing <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("refresh API key from secret %q: wait for re-read in flight: %w", s.secretID, context.Cause(ctx))
	}
	defer func() { <-s.refreshing }()

	// The re-read this caller waited for may have replaced the key.
	if key, _ := s.APIKey(ctx); key != stale {
		return key, nil
	}

	now := s.Now()
	s.mu.Lock()
	last := s.lastRefresh
	limited := !last.IsZero() && now.Sub(last) < s.RefreshInterval
	if !limited {
		// Counted even if the read fails: a failing Secrets Manager must not be hammered either.
		s.lastRefresh = now
	}
	s.mu.Unlock()
	if limited {
		s.Logger.DebugContext(ctx, "API key re-read suppressed by rate limit",
			"secret", s.secretID, "lastReRead", last, "interval", s.RefreshInterval)
		return stale, nil
	}

	sec, err := s.read(ctx)
	if err != nil {
		s.Logger.WarnContext(ctx, "API key re-read failed", "secret", s.secretID, "error", err)
		return "", fmt.Errorf("refresh API key: %w", err)
	}
	s.mu.Lock()
	s.current = sec
	s.mu.Unlock()
	s.Logger.InfoContext(ctx, "API key re-read after rejection", "secret", s.secretID, "changed", sec.apiKey != stale)
	return sec.apiKey, nil
}

// Value returns the string field name of a JSON secret (for example "webhookSecret") as of the
// last successful read. It reports false for a plain-string secret, a missing field or a field
// that is not a string.
func (s *Source) Value(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.current.fields[name]
	return v, ok
}

// Reads returns how many GetSecretValue calls the Source made, including failed ones.
func (s *Source) Reads() int {
	if s == nil {
		return 0
	}
	return int(s.reads.Load())
}

// String names the secret but not its value, so printing a Source cannot leak the key.
func (s *Source) String() string {
	if s == nil {
		return "apikey.Source(nil)"
	}
	return fmt.Sprintf("apikey.Source(secret %q)", s.secretID)
}

// read fetches and parses the current secret value.
func (s *Source) read(ctx context.Context) (secret, error) {
	s.reads.Add(1)
	out, err := s.api.GetSecretValue(ctx, s.secretID)
	if err != nil {
		if errors.Is(err, secrets.ErrNotFound) {
			return secret{}, fmt.Errorf("secret %q not found: %w", s.secretID, err)
		}
		return secret{}, fmt.Errorf("read secret %q: %w", s.secretID, err)
	}
	sec, err := parse(out)
	if err != nil {
		return secret{}, fmt.Errorf("secret %q: %w", s.secretID, err)
	}
	return sec, nil
}

// parse reads the API key out of a secret value. Its errors describe the shape of the value,
// never its content: even encoding/json's messages can quote a character of it.
func parse(out secrets.Value) (secret, error) {
	if out.String == nil {
		if out.Binary != nil {
			return secret{}, errors.New("value is SecretBinary; store the API key as SecretString")
		}
		return secret{}, errors.New("value is empty")
	}
	v := strings.TrimSpace(*out.String)
	if v == "" {
		return secret{}, errors.New("value is empty")
	}
	if !strings.HasPrefix(v, "{") {
		if err := checkKey(v); err != nil {
			return secret{}, err
		}
		return secret{apiKey: v}, nil
	}

	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return secret{}, errors.New("value starts with '{' but is not a valid JSON object")
	}
	fields := make(map[string]string, len(raw))
	for name, rv := range raw {
		var str string
		if json.Unmarshal(rv, &str) == nil {
			fields[name] = str
		}
	}
	key := strings.TrimSpace(fields[apiKeyField])
	if key == "" {
		return secret{}, fmt.Errorf("JSON value has no non-empty string field %q", apiKeyField)
	}
	if err := checkKey(key); err != nil {
		return secret{}, fmt.Errorf("JSON field %q: %w", apiKeyField, err)
	}
	fields[apiKeyField] = key
	return secret{apiKey: key, fields: fields}, nil
}

// checkKey rejects keys that cannot be an Authorization header value, which usually means the
// wrong thing was stored (a multi-line file, a half-written JSON document).
func checkKey(key string) error {
	if strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return errors.New("API key contains whitespace or control characters")
	}
	return nil
}
