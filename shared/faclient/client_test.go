package faclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// rotatingKeys is a KeySource whose key changes on refresh, like a rotated secret.
type rotatingKeys struct {
	mu        sync.Mutex
	key, next string
	refreshes int
}

func (k *rotatingKeys) APIKey(context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key, nil
}

func (k *rotatingKeys) RefreshAPIKey(_ context.Context, stale string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshes++
	if k.key == stale && k.next != "" {
		k.key = k.next
	}
	return k.key, nil
}

func newClient(tb testing.TB, h http.HandlerFunc, keys faclient.KeySource) *faclient.Client {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	c, err := faclient.New(faclient.Options{BaseURL: srv.URL, TenantID: "tenant-1", Keys: keys, Backoff: time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestSafeCallsRetriedWritesNot(t *testing.T) {
	tests := map[string]struct {
		call      func(*faclient.Client) error
		wantCalls int32
	}{
		"GET retried twice after 503": {
			call:      func(c *faclient.Client) error { _, err := c.RetrieveUser(context.Background(), "u1"); return err },
			wantCalls: 3,
		},
		"PATCH never retried": {
			call: func(c *faclient.Client) error {
				_, err := c.PatchUser(context.Background(), "u1", map[string]any{"user": map[string]any{}})
				return err
			},
			wantCalls: 1,
		},
		"POST never retried": {
			call: func(c *faclient.Client) error {
				_, err := c.ForgotPassword(context.Background(), faclient.ForgotPasswordRequest{LoginID: "a@example.com"})
				return err
			},
			wantCalls: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"generalErrors":[{"code":"[SearchIndexUnavailable]","message":"x"}]}`)
			}, faclient.StaticKey("k"))
			err := tc.call(c)
			if got := faclient.StatusCode(err); got != http.StatusServiceUnavailable {
				t.Fatalf("status=%d (err %v), want 503", got, err)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("calls=%d, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestRotatedKeyPickedUpAfter401(t *testing.T) {
	keys := &rotatingKeys{key: "old", next: "new"}
	var seen []string
	var mu sync.Mutex
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") != "new" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"user":{"id":"u1","data":{"watchCount":2}}}`)
	}, keys)
	resp, err := c.PatchUser(context.Background(), "u1", map[string]any{"user": map[string]any{"data": map[string]any{"watchCount": 2}}})
	if err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	if resp.User.ID != "u1" {
		t.Errorf("user id=%q, want u1", resp.User.ID)
	}
	if len(seen) != 2 || seen[0] != "old" || seen[1] != "new" {
		t.Errorf("keys sent=%v, want [old new]", seen)
	}
	if got := c.Counter().Count("PATCH /api/user/{userId}"); got != 2 {
		t.Errorf("counted %d PATCH calls, want 2", got)
	}
}

func TestPersistent401IsAnError(t *testing.T) {
	keys := &rotatingKeys{key: "bad"}
	var calls atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}, keys)
	_, err := c.RetrieveUser(context.Background(), "u1")
	if !faclient.IsUnauthorized(err) {
		t.Fatalf("err=%v, want 401", err)
	}
	if calls.Load() != 1 || keys.refreshes != 1 {
		t.Errorf("calls=%d refreshes=%d, want 1 and 1", calls.Load(), keys.refreshes)
	}
}

func TestErrorsDecodedAndMatched(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-FusionAuth-TenantId"); got != "tenant-1" {
			t.Errorf("tenant header=%q, want tenant-1", got)
		}
		if got := r.Header.Get("Authorization"); got != "k" {
			t.Errorf("Authorization=%q, want the raw key", got)
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"fieldErrors":{"user.email":[{"code":"[duplicate]user.email","message":"A User with email = [a@example.com] already exists."}]}}`)
	}, faclient.StaticKey("k"))
	_, err := c.PatchUser(context.Background(), "u1", map[string]any{"user": map[string]any{"email": "a@example.com"}})
	if !faclient.IsDuplicate(err, "user.email") {
		t.Fatalf("IsDuplicate(user.email)=false for %v", err)
	}
	if faclient.IsDuplicate(err, "user.username") {
		t.Errorf("IsDuplicate(user.username)=true, want false")
	}
	if msg := err.Error(); strings.Contains(msg, "a@example.com") {
		t.Errorf("error text %q leaks the email address", msg)
	}
	var fe *faclient.Error
	if !errors.As(err, &fe) || fe.Endpoint != "/api/user/{userId}" || fe.Method != "PATCH" {
		t.Errorf("error=%#v, want PATCH /api/user/{userId}", fe)
	}
}

func TestNotFoundHasNoBody(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }, faclient.StaticKey("k"))
	_, err := c.RetrieveUserByEmail(context.Background(), "nobody@example.com")
	if !faclient.IsNotFound(err) {
		t.Fatalf("err=%v, want 404", err)
	}
	if got := c.Counter().Count("GET /api/user"); got != 1 {
		t.Errorf("404 counted %d times, want 1 (a 404 is not retried)", got)
	}
}

func TestTimeoutOnSafeCallRetriedThenFails(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	c, err := faclient.New(faclient.Options{BaseURL: srv.URL, HTTPClient: &http.Client{Timeout: 20 * time.Millisecond}, Backoff: time.Millisecond, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveJsonWebKeySet(context.Background()); err == nil || faclient.StatusCode(err) != 0 {
		t.Fatalf("err=%v, want a transport error", err)
	}
	// Count attempts where the client makes them: under load a 20 ms timeout can expire
	// before the server sees the request.
	if got := c.Counter().Count("GET /.well-known/jwks.json"); got != 2 {
		t.Errorf("attempts=%d, want 2 (one retry)", got)
	}
	if got := calls.Load(); got > 2 {
		t.Errorf("server saw %d calls, want at most 2", got)
	}
}

func TestLoginKeepsTwoHundredVariants(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"token":"t","user":{"id":"u1"}}`)
	}, faclient.StaticKey("k"))
	resp, err := c.Login(context.Background(), faclient.LoginRequest{LoginID: "a", Password: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || resp.User.ID != "u1" {
		t.Errorf("got status %d user %q, want 202 u1", resp.StatusCode, resp.User.ID)
	}
}

func TestNewRejectsRelativeURL(t *testing.T) {
	if _, err := faclient.New(faclient.Options{BaseURL: "localhost:9011"}); err == nil {
		t.Fatal("New accepted a URL without scheme")
	}
}

func TestTenantHeaderOnlyOnTenantAPIs(t *testing.T) {
	got := map[string]string{}
	var mu sync.Mutex
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = r.Header.Get("X-FusionAuth-TenantId")
		mu.Unlock()
		io.WriteString(w, `{"key":{"id":"k","kid":"x"},"keys":[],"user":{"id":"u1"}}`)
	}, faclient.StaticKey("k"))
	ctx := context.Background()
	if _, err := c.RetrieveKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveJsonWebKeySet(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/api/key/k": "", "/.well-known/jwks.json": "", "/api/user/u1": "tenant-1"}
	for path, w := range want {
		if got[path] != w {
			t.Errorf("%s: tenant header %q, want %q", path, got[path], w)
		}
	}
}
