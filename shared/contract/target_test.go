package contract_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/kickstart"
)

// Target names, also the subtest names.
const (
	compatTarget = "compat"
	realTarget   = "real"
)

// Environment variables of the real target.
const (
	envURL            = "FUSIONAUTH_URL"
	envAPIKey         = "FUSIONAUTH_API_KEY"
	envLimitedAPIKey  = "FUSIONAUTH_LIMITED_API_KEY" // the kickstart's videoApiKey
	envPruneAPIKey    = "FUSIONAUTH_PRUNE_API_KEY"
	envWebhookAPIKey  = "FUSIONAUTH_WEBHOOK_API_KEY"
	envRegisterAPIKey = "FUSIONAUTH_REGISTER_API_KEY"
)

// realKeyEnv maps the kickstart's limited-key variables to the environment variables
// that give their values on the real target.
var realKeyEnv = map[string]string{
	"videoApiKey":    envLimitedAPIKey,
	"pruneApiKey":    envPruneAPIKey,
	"webhookApiKey":  envWebhookAPIKey,
	"registerApiKey": envRegisterAPIKey,
}

// target is where a contract test runs: the compatible server or a real FusionAuth.
type target struct{ name string }

// eachTarget runs fn once per target as subtest "compat" and "real". A target that is
// not available skips its subtest with the reason.
func eachTarget(t *testing.T, fn func(t *testing.T, tg target)) {
	t.Helper()
	for _, name := range []string{compatTarget, realTarget} {
		t.Run(name, func(t *testing.T) {
			tg := target{name: name}
			tg.requireAvailable(t)
			fn(t, tg)
		})
	}
}

// requireAvailable skips (or, for a missing OpenAPI file under CI, fails) when the
// target cannot run.
func (tg target) requireAvailable(t testing.TB) {
	t.Helper()
	switch tg.name {
	case compatTarget:
		requireSpec(t) // the compat target exists to be validated against the file
	case realTarget:
		if os.Getenv(envURL) == "" || os.Getenv(envAPIKey) == "" {
			t.Skipf("%s and %s not set: no real FusionAuth to run the contract against (set them to a FusionAuth configured from kickstart/kickstart.json)", envURL, envAPIKey)
		}
	}
}

// env is one test's connection to a target: a fresh compatible server per test on
// compat, the shared real FusionAuth on real.
type env struct {
	target   string
	baseURL  string
	adminKey string
	srv      *fatest.Server // nil on the real target
	clock    *fakeClock     // nil on the real target
	vars     map[string]string
	spec     *apiSpec // nil when the OpenAPI file is absent (real target only)
	http     *http.Client
	admin    *faclient.Client

	mu         sync.Mutex
	violations []string   // OpenAPI violations of requests and responses
	exchanges  []exchange // every request the test's clients made, in order
}

// exchange is one request/response pair seen by the test's HTTP client.
type exchange struct {
	Method, Path string
	Status       int
	Body         []byte // response body
}

// open connects t to the target. On compat it starts a compatible server whose every
// response is validated against the OpenAPI file; violations fail t when it ends.
func (tg target) open(t testing.TB) *env {
	t.Helper()
	e := &env{target: tg.name}
	// Registered first so it runs last: after the compatible server has shut down,
	// which waits for in-flight handlers and so for their OnResponse calls.
	t.Cleanup(func() { e.reportViolations(t) })
	switch tg.name {
	case compatTarget:
		e.spec = requireSpec(t)
		e.clock = newFakeClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		e.srv = fatest.NewTestServer(t, fatest.Options{
			Now: e.clock.Now,
			OnResponse: func(r *http.Request, status int, header http.Header, body []byte) {
				if err := e.spec.checkResponse(r, status, header, body); err != nil {
					e.violation("response: %v", err)
				}
			},
		})
		e.baseURL = e.srv.URL()
		e.adminKey = e.srv.Variable("apiKey")
		e.vars = map[string]string{}
	case realTarget:
		tg.requireAvailable(t)
		e.spec, _ = optionalSpec(t)
		e.baseURL = strings.TrimRight(os.Getenv(envURL), "/")
		e.adminKey = os.Getenv(envAPIKey)
		vars, err := kickstart.RepoVariables()
		if err != nil {
			t.Fatalf("real target: %v", err)
		}
		e.vars = vars
	default:
		t.Fatalf("unknown target %q", tg.name)
	}
	e.http = &http.Client{Timeout: 15 * time.Second, Transport: &checkingTransport{env: e, next: http.DefaultTransport}}
	e.admin = e.client(t, e.adminKey)
	return e
}

func (e *env) compat() bool { return e.target == compatTarget }

// requireCompat skips the test on the real target, saying why it needs the
// compatible server.
func (e *env) requireCompat(t testing.TB, why string) {
	t.Helper()
	if !e.compat() {
		t.Skipf("needs the compatible server: %s", why)
	}
}

// variable returns a kickstart variable: resolved by the compatible server, or read
// from kickstart/kickstart.json for a real FusionAuth configured from it.
func (e *env) variable(t testing.TB, name string) string {
	t.Helper()
	var v string
	if e.compat() {
		v = e.srv.Variable(name)
	} else {
		v = e.vars[name]
	}
	if v == "" {
		t.Fatalf("kickstart variable %q is not set", name)
	}
	return v
}

// apiKey returns the value of a kickstart API key variable ("apiKey", "videoApiKey",
// …). On the real target a limited key comes from its environment variable, else from
// kickstart/kickstart.json, which configured that FusionAuth.
func (e *env) apiKey(t testing.TB, name string) string {
	t.Helper()
	if name == "apiKey" {
		return e.adminKey
	}
	if e.compat() {
		return e.variable(t, name)
	}
	envName, ok := realKeyEnv[name]
	if !ok {
		t.Fatalf("no environment variable for API key %q on the real target", name)
	}
	if k := os.Getenv(envName); k != "" {
		return k
	}
	return e.variable(t, name) // a FusionAuth configured from the kickstart has its keys
}

// client returns a typed client authenticating with key ("" for none) in the visitors'
// tenant (X-FusionAuth-TenantId on tenant-scoped APIs, as the functions send it).
// Retries wait only a millisecond so that fault tests stay fast.
func (e *env) client(t testing.TB, key string) *faclient.Client {
	t.Helper()
	opts := faclient.Options{BaseURL: e.baseURL, HTTPClient: e.http, Backoff: time.Millisecond, TenantID: e.variable(t, "visitorTenantId")}
	if key != "" {
		opts.Keys = faclient.StaticKey(key)
	}
	c, err := faclient.New(opts)
	if err != nil {
		t.Fatalf("faclient.New: %v", err)
	}
	return c
}

// clientIn returns a typed client with key acting in the tenant named by the kickstart
// variable tenantVar (e.g. "defaultTenantId", where the administrators are).
func (e *env) clientIn(t testing.TB, key, tenantVar string) *faclient.Client {
	t.Helper()
	c, err := faclient.New(faclient.Options{BaseURL: e.baseURL, HTTPClient: e.http, Backoff: time.Millisecond,
		Keys: faclient.StaticKey(key), TenantID: e.variable(t, tenantVar)})
	if err != nil {
		t.Fatalf("faclient.New: %v", err)
	}
	return c
}

// now is the target's clock.
func (e *env) now() time.Time {
	if e.clock != nil {
		return e.clock.Now()
	}
	return time.Now()
}

// advance moves the compatible server's clock; on the real target time passes by
// itself, and tests that need a jump call requireCompat first.
func (e *env) advance(d time.Duration) {
	if e.clock != nil {
		e.clock.Advance(d)
	}
}

// violation records an OpenAPI violation; it is reported when the test ends.
func (e *env) violation(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.violations = append(e.violations, fmt.Sprintf(format, args...))
}

func (e *env) reportViolations(t testing.TB) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range e.violations {
		t.Errorf("OpenAPI contract (%s): %s", e.target, v)
	}
}

// lastExchange returns the latest exchange with the method whose path starts with
// prefix.
func (e *env) lastExchange(t testing.TB, method, prefix string) exchange {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.exchanges) - 1; i >= 0; i-- {
		x := e.exchanges[i]
		if x.Method == method && strings.HasPrefix(x.Path, prefix) {
			return x
		}
	}
	t.Fatalf("no %s %s* request was made", method, prefix)
	return exchange{}
}

// checkingTransport validates each request against the OpenAPI file and records each
// exchange, for tests that need the raw response (absent keys, empty bodies).
type checkingTransport struct {
	env  *env
	next http.RoundTripper
}

func (c *checkingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		reqBody = b
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	if c.env.spec != nil {
		if err := c.env.spec.checkRequest(r, reqBody); err != nil {
			c.env.violation("client request: %v", err)
		}
	}
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c.env.mu.Lock()
	c.env.exchanges = append(c.env.exchanges, exchange{Method: r.Method, Path: r.URL.RequestURI(), Status: resp.StatusCode, Body: body})
	c.env.mu.Unlock()
	return resp, nil
}

// rawResponse is an answer to a hand-made request.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// raw sends a hand-made request, for what the typed client cannot express (no key, a
// query-string form, checking that a key is absent). body is JSON-encoded unless it is
// a string or nil.
func (e *env) raw(t testing.TB, method, path, key string, body any) rawResponse {
	t.Helper()
	var h http.Header
	if strings.HasPrefix(path, "/api/user") {
		// The users' APIs act in the visitors' tenant, as the typed clients do.
		h = http.Header{"X-Fusionauth-Tenantid": {e.variable(t, "visitorTenantId")}}
	}
	return e.rawWith(t, method, path, key, body, h)
}

// rawWith is raw with the given extra request headers and nothing else added.
func (e *env) rawWith(t testing.TB, method, path, key string, body any, header http.Header) rawResponse {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode %s %s body: %v", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.baseURL+path, rd)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// createUser creates a user with the admin key and deletes it when the test ends.
func (e *env) createUser(t testing.TB, req faclient.UserRequest) *faclient.UserResponse {
	t.Helper()
	resp, err := e.admin.CreateUser(context.Background(), "", req)
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	e.cleanupUser(t, resp.User.ID)
	return resp
}

// cleanupUser hard-deletes the user when the test ends (already gone is fine), so that
// the suite leaves a real FusionAuth as it found it.
func (e *env) cleanupUser(t testing.TB, id string) {
	t.Helper()
	if id == "" {
		return
	}
	t.Cleanup(func() {
		if err := e.admin.DeleteUser(context.Background(), id); err != nil && !faclient.IsNotFound(err) {
			t.Errorf("clean up user %s: %v", id, err)
		}
	})
}

// uniqueEmail returns a fresh address at example.com (never delivered) with the given
// local-part prefix.
func uniqueEmail(prefix string) string { return prefix + "-" + randomHex(6) + "@example.com" }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// testPassword is long enough for FusionAuth's default password rules.
const testPassword = "contract-test-password-1"

// fakeClock is the compatible server's clock, moved by tests: the one fake clock.
type fakeClock = clocktest.Clock

func newFakeClock(start time.Time) *fakeClock { return clocktest.New(start) }

// asFAError returns the FusionAuth error answer inside err.
func asFAError(err error) (*faclient.Error, bool) {
	var fe *faclient.Error
	ok := errors.As(err, &fe)
	return fe, ok
}

// errorCodes returns every code in a FusionAuth error answer, for assertions and
// failure messages.
func errorCodes(err error) []string {
	fe, ok := asFAError(err)
	if !ok {
		return nil
	}
	var codes []string
	for _, list := range fe.Errors.FieldErrors {
		for _, d := range list {
			codes = append(codes, d.Code)
		}
	}
	for _, d := range fe.Errors.GeneralErrors {
		codes = append(codes, d.Code)
	}
	return codes
}
