package fatest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// resp is a decoded HTTP response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // nil when the body is empty or not a JSON object
}

// do sends a request to the server. body may be nil, a string (sent as is) or any JSON value.
// headers come in name, value pairs. With the project kickstart's global key, a request
// to a tenant-scoped API acts in the visitors' tenant (X-FusionAuth-TenantId), as the
// functions' tenant-locked keys do; pass the header with "" to send it without one.
func do(tb testing.TB, s *fatest.Server, method, path, key string, body any, headers ...string) resp {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if visitors := s.Variable("visitorTenantId"); visitors != "" && key == s.Variable("apiKey") && !globalAPI(path) {
		req.Header.Set("X-FusionAuth-TenantId", visitors)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.body)
	}
	return r
}

// wantStatus fails the test unless r has the status.
func wantStatus(tb testing.TB, r resp, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("status = %d, want %d; body %s", r.status, want, r.raw)
	}
}

// wantEmpty fails unless the body is empty.
func wantEmpty(tb testing.TB, r resp) {
	tb.Helper()
	if len(r.raw) != 0 {
		tb.Fatalf("body = %q, want empty", r.raw)
	}
}

// fieldCodes returns the codes of fieldErrors[path].
func fieldCodes(r resp, path string) []string {
	fe, _ := r.body["fieldErrors"].(map[string]any)
	list, _ := fe[path].([]any)
	var out []string
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, asString(m["code"]))
	}
	return out
}

// generalCodes returns the codes of generalErrors.
func generalCodes(r resp) []string {
	list, _ := r.body["generalErrors"].([]any)
	var out []string
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, asString(m["code"]))
	}
	return out
}

// wantFieldError fails unless fieldErrors[path] holds code.
func wantFieldError(tb testing.TB, r resp, path, code string) {
	tb.Helper()
	for _, c := range fieldCodes(r, path) {
		if c == code {
			return
		}
	}
	tb.Fatalf("fieldErrors[%q] = %v, want it to contain %q; body %s", path, fieldCodes(r, path), code, r.raw)
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

// path reads a dotted path out of a decoded JSON object.
func path(m map[string]any, p string) any {
	var cur any = m
	for _, part := range strings.Split(p, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

// clock is a movable test clock.
type clock = clocktest.Clock

func newClock() *clock { return clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// newServer starts a server from the project's kickstart with a movable clock.
func newServer(tb testing.TB, opts fatest.Options) (*fatest.Server, *clock) {
	tb.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	return fatest.NewTestServer(tb, opts), c
}

// keys of the project's kickstart.
type kickKeys struct{ admin, video, register, webhook, prune string }

func keysOf(s *fatest.Server) kickKeys {
	return kickKeys{
		admin:    s.Variable("apiKey"),
		video:    s.Variable("videoApiKey"),
		register: s.Variable("registerApiKey"),
		webhook:  s.Variable("webhookApiKey"),
		prune:    s.Variable("pruneApiKey"),
	}
}

// createUser creates a user through the API and returns its id.
func createUser(tb testing.TB, s *fatest.Server, key string, user map[string]any) string {
	tb.Helper()
	r := do(tb, s, http.MethodPost, "/api/user", key, map[string]any{"user": user})
	wantStatus(tb, r, http.StatusOK)
	id := asString(path(r.body, "user.id"))
	if id == "" {
		tb.Fatalf("created user has no id: %s", r.raw)
	}
	return id
}

// must encodes v as JSON for messages.
func must(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// jsonReader encodes v as a request body.
func jsonReader(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// globalAPI reports whether path is one of FusionAuth's global APIs, which refuse the
// tenant header.
func globalAPI(path string) bool {
	return strings.HasPrefix(path, "/api/key") || strings.HasPrefix(path, "/api/email/template")
}
