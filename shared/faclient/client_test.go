package faclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// answering returns a server that answers every request with status and body, and counts
// the requests it sees.
func answering(t *testing.T, status int, body string) (string, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &calls
}

// recordWaits makes c record its waits before retries instead of sleeping.
func recordWaits(c *faclient.Client) *[]time.Duration {
	var waits []time.Duration
	var mu sync.Mutex
	faclient.SetSleep(c, func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return nil
	})
	return &waits
}

// TestSafeCallRetriedOnlyOnServerErrors: FusionAuth's 5xx (an unavailable search index, a
// restart behind a load balancer) may pass, so a GET is tried three times; a 4xx is its
// answer about the request and is returned at once.
func TestSafeCallRetriedOnlyOnServerErrors(t *testing.T) {
	for status, want := range map[int]int32{400: 1, 404: 1, 409: 1, 422: 1, 499: 1, 500: 3, 502: 3, 503: 3, 504: 3} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			url, calls := answering(t, status, `{}`)
			c, err := faclient.New(faclient.Options{BaseURL: url, Keys: faclient.StaticKey("k")})
			if err != nil {
				t.Fatal(err)
			}
			recordWaits(c)
			_, err = c.RetrieveUser(context.Background(), "u1")
			if got := faclient.StatusCode(err); got != status {
				t.Errorf("status=%d (err %v), want %d", got, err, status)
			}
			if got := calls.Load(); got != want {
				t.Errorf("attempts=%d, want %d", got, want)
			}
		})
	}
}

// TestWriteNotRetriedAfterATransportError: a write whose connection broke may have been
// applied, so it is not sent again; a read is.
func TestWriteNotRetriedAfterATransportError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close() // the connection breaks before any answer
	}))
	t.Cleanup(srv.Close)
	c, err := faclient.New(faclient.Options{BaseURL: srv.URL, Keys: faclient.StaticKey("k")})
	if err != nil {
		t.Fatal(err)
	}
	recordWaits(c)
	ctx := context.Background()
	if _, err := c.PatchUser(ctx, "u1", map[string]any{"user": map[string]any{}}); err == nil || faclient.StatusCode(err) != 0 {
		t.Fatalf("PatchUser err=%v, want a transport error", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("PATCH sent %d times, want 1", got)
	}
	calls.Store(0)
	if _, err := c.RetrieveUser(ctx, "u1"); err == nil {
		t.Fatal("RetrieveUser succeeded on a broken connection")
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("GET sent %d times, want 3", got)
	}
}

// TestBackoffGrowsAndIsCapped: each wait before a retry is the backoff doubled per retry
// and capped at 1 s, plus at most half of that as jitter; the default backoff is 50 ms,
// and no number of retries makes a wait longer.
func TestBackoffGrowsAndIsCapped(t *testing.T) {
	tests := map[string]struct {
		backoff, first time.Duration // first: the first wait before jitter
		retries        int
	}{
		"default":               {0, 50 * time.Millisecond, 5},
		"negative is default":   {-time.Second, 50 * time.Millisecond, 2},
		"least positive":        {time.Nanosecond, time.Nanosecond, 6},
		"reaches the cap":       {300 * time.Millisecond, 300 * time.Millisecond, 5},
		"above the cap":         {time.Minute, time.Second, 2},
		"many retries, no more": {50 * time.Millisecond, 50 * time.Millisecond, 40},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			url, calls := answering(t, http.StatusServiceUnavailable, `{}`)
			c, err := faclient.New(faclient.Options{BaseURL: url, MaxRetries: tc.retries, Backoff: tc.backoff})
			if err != nil {
				t.Fatal(err)
			}
			waits := recordWaits(c)
			if _, err := c.RetrieveJsonWebKeySet(context.Background()); faclient.StatusCode(err) != http.StatusServiceUnavailable {
				t.Fatalf("err=%v, want 503", err)
			}
			if got := int(calls.Load()); got != tc.retries+1 || len(*waits) != tc.retries {
				t.Fatalf("attempts=%d waits=%d, want %d and %d", got, len(*waits), tc.retries+1, tc.retries)
			}
			base := tc.first
			for i, w := range *waits {
				if w < base || w > base+base/2 {
					t.Errorf("wait %d = %v, want between %v and %v", i+1, w, base, base+base/2)
				}
				base = min(2*base, time.Second)
			}
		})
	}
}

// TestRetryWaitEndsWithTheContext: a call whose context ends while it waits to retry
// returns at once with what it has, without another attempt.
func TestRetryWaitEndsWithTheContext(t *testing.T) {
	url, calls := answering(t, http.StatusServiceUnavailable, `{}`)
	c, err := faclient.New(faclient.Options{BaseURL: url, Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := c.RetrieveJsonWebKeySet(ctx); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a call canceled before its retry succeeded")
		}
	case <-time.After(time.Minute):
		t.Fatal("still waiting to retry a minute after its context ended")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("attempts=%d, want 1", got)
	}
}

// TestDefaultHTTPClientGivesUpBeforeAPIGateway: API Gateway answers 504 after 30 s. With
// the default client and retries, every attempt of a safe call to a FusionAuth that does
// not accept the connection, or accepts it and never answers, ends before that; a body
// that never ends is cut off too.
func TestDefaultHTTPClientGivesUpBeforeAPIGateway(t *testing.T) {
	const gateway = 30 * time.Second
	const attempts = 3                                  // the default MaxRetries, 2, plus the first
	waits := 75*time.Millisecond + 150*time.Millisecond // the default backoff's longest waits
	c := faclient.DefaultHTTPClient()
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T, want *http.Transport", c.Transport)
	}
	if c.Timeout <= 0 || c.Timeout >= gateway {
		t.Errorf("overall timeout %v, want one below %v", c.Timeout, gateway)
	}
	if d := tr.ResponseHeaderTimeout; d <= 0 || attempts*d+waits >= gateway {
		t.Errorf("response header timeout %v: %d attempts at a silent FusionAuth would not end before %v", d, attempts, gateway)
	}
	if d := faclient.Dialer().Timeout; d <= 0 || attempts*d+waits >= gateway {
		t.Errorf("dial timeout %v: %d attempts at an unreachable FusionAuth would not end before %v", d, attempts, gateway)
	}
}

// TestErrorTextNamesTheStatusAndCodes: the error text is what the logs show: the call,
// the status and FusionAuth's error codes, nothing after a status without codes.
func TestErrorTextNamesTheStatusAndCodes(t *testing.T) {
	url, _ := answering(t, http.StatusBadRequest, `{"fieldErrors":{"user.email":[{"code":"[duplicate]user.email","message":"A User with email = [a@example.com] already exists."}]}}`)
	c, err := faclient.New(faclient.Options{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PatchUser(context.Background(), "u1", map[string]any{})
	if got, want := err.Error(), "fusionauth: PATCH /api/user/{userId}: 400 Bad Request: [duplicate]user.email"; got != want {
		t.Errorf("error text %q, want %q", got, want)
	}
	url, _ = answering(t, http.StatusNotFound, ``)
	if c, err = faclient.New(faclient.Options{BaseURL: url}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RetrieveUserByEmail(context.Background(), "a@example.com")
	if got, want := err.Error(), "fusionauth: GET /api/user: 404 Not Found"; got != want {
		t.Errorf("error text %q, want %q", got, want)
	}
}
