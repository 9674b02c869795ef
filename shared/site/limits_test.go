package site_test

// The per-client limits through the real handlers: a flood from one client creates at
// most its limit while everyone else is served; the limit keys IPv6 clients by /64,
// believes no header, has a ceiling over all clients, covers POST /register, and a
// limiter that is down creates nothing.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/limit"
)

// visitFrom sends a browser's first visit (no cookie) to GET /video from addr.
func (e *env) visitFrom(addr string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, origin+"/video", nil)
	r.RemoteAddr = addr
	override(r.Header, chromeNavigation)
	override(r.Header, header)
	w := httptest.NewRecorder()
	e.video.ServeHTTP(w, r)
	return w
}

// flooded is what a flood of first visits got.
type flooded struct {
	stubs, notKept, other atomic.Int64
}

func (f *flooded) add(w *httptest.ResponseRecorder) {
	switch {
	case w.Code != http.StatusOK:
		f.other.Add(1)
	case visitorCookie(w.Result()) != nil:
		f.stubs.Add(1)
	case strings.Contains(w.Body.String(), `id="not-kept"`) && !strings.Contains(w.Body.String(), `id="watch-count"`):
		f.notKept.Add(1)
	default:
		f.other.Add(1)
	}
}

// TestOneClientsFloodCreatesAtMostItsLimit sends 1,000 browser-like first visits from
// one address on four connections while 100 returning visitors and 20 people signing in
// come from others: the flood makes exactly 30 stubs (the default limit) and gets the
// page, uncounted and without a cookie, 970 times; every returning visit and sign-in
// succeeds and counts.
func TestOneClientsFloodCreatesAtMostItsLimit(t *testing.T) {
	e := newEnv(t)
	returning := make([]string, 100)
	ids := make([]string, 100)
	for i := range returning {
		returning[i], ids[i] = e.newVisitor(t)
	}
	richard, email, password := e.regular()
	before := watchCount(e.user(t, richard))
	users := e.fa.UserCount()

	const flood = 1000
	var got flooded
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				got.add(e.visitFrom(fmt.Sprintf("198.51.100.7:%d", 1024+i), nil))
			}
		})
	}
	wg.Go(func() {
		for i := range flood {
			next <- i
		}
		close(next)
	})
	// Meanwhile, on this goroutine: everyone else.
	for i, cookie := range returning {
		page := body(t, e.visit(t, http.MethodGet, cookie, nil))
		if !strings.Contains(page, "<strong>2</strong>") || strings.Contains(page, `id="not-kept"`) {
			t.Fatalf("returning visitor %d during the flood: want the count 2, got\n%s", i, page)
		}
	}
	for i := range 20 {
		b := e.newBrowser(t)
		wantSignedIn(t, b.signIn(t, email, password))
		b.watch(t) // the landing after sign-in is not a watch
		if page := b.watch(t); !strings.Contains(page, `id="welcome"`) {
			t.Fatalf("sign-in %d during the flood: want the signed-in page, got\n%s", i, page)
		}
	}
	wg.Wait()

	if s, n, o := got.stubs.Load(), got.notKept.Load(), got.other.Load(); s != config.DefaultStubsPerClientHour || n != flood-s || o != 0 {
		t.Errorf("flood of %d: %d stubs, %d pages not kept, %d other answers; want %d, %d, 0", flood, s, n, o, config.DefaultStubsPerClientHour, flood-config.DefaultStubsPerClientHour)
	}
	if made := e.fa.UserCount() - users; made != config.DefaultStubsPerClientHour {
		t.Errorf("FusionAuth users created: %d, want %d", made, config.DefaultStubsPerClientHour)
	}
	for i, id := range ids {
		if n := watchCount(e.user(t, id)); n != 2 {
			t.Errorf("returning visitor %d: count %d, want 2", i, n)
		}
	}
	if n := watchCount(e.user(t, richard)); n != before+20 {
		t.Errorf("signed-in count %d, want %d (each of the 20 counted once)", n, before+20)
	}
	if n := strings.Count(e.logText(), `"ClientOverLimit":1`); n != flood-config.DefaultStubsPerClientHour {
		t.Errorf("ClientOverLimit metric lines: %d, want %d", n, flood-config.DefaultStubsPerClientHour)
	}
	if !strings.Contains(e.logText(), `"Limit":"stub"`) || !strings.Contains(e.logText(), `"client":"198.51.100.7"`) {
		t.Errorf("the refusals' log does not name the limit and the client:\n%.2000s", e.logText())
	}
	// Once over, a first visit from the client costs no FusionAuth call at all.
	e.client.Counter().Reset()
	for range 50 {
		got.add(e.visitFrom("198.51.100.7:9", nil))
	}
	if n := e.client.Counter().Total(); n != 0 {
		t.Errorf("50 more flood visits: %d FusionAuth calls, want 0", n)
	}
}

// TestLimitWindowsEnd: the client's hour ends and it may start profiles again; the
// hour before it, a visit with a cookie of a deleted profile counts as a new one.
func TestLimitWindowsEnd(t *testing.T) {
	e := newEnv(t)
	e.video.NewProfiles.Now = e.clock.Now
	const client = "198.51.100.8:1"
	for range config.DefaultStubsPerClientHour {
		if visitorCookie(e.visitFrom(client, nil).Result()) == nil {
			t.Fatal("a visit within the limit set no cookie")
		}
	}
	if visitorCookie(e.visitFrom(client, nil).Result()) != nil {
		t.Fatal("the visit over the limit set a cookie")
	}
	e.clock.Advance(time.Hour)
	if visitorCookie(e.visitFrom(client, nil).Result()) == nil {
		t.Fatal("the next hour, the client still refused")
	}
}

// TestIPv6ClientIsItsSlash64: every address of one /64 is one client, and the next
// /64 is another.
func TestIPv6ClientIsItsSlash64(t *testing.T) {
	e := newEnv(t)
	for i := range config.DefaultStubsPerClientHour {
		if visitorCookie(e.visitFrom(fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), nil).Result()) == nil {
			t.Fatalf("visit %d from the /64: no cookie, want a stub", i)
		}
	}
	if visitorCookie(e.visitFrom("[2001:db8:1:2:ffff:ffff:ffff:fffe]:443", nil).Result()) != nil {
		t.Error("another address of the same /64 got a stub past the limit")
	}
	if visitorCookie(e.visitFrom("[2001:db8:1:3::1]:443", nil).Result()) == nil {
		t.Error("the next /64 was refused: it is another client")
	}
}

// TestForgedForwardedForIsIgnored: with no trusted proxy configured, a client that
// writes a fresh X-Forwarded-For on every request is still one client.
func TestForgedForwardedForIsIgnored(t *testing.T) {
	e := newEnv(t)
	var got flooded
	for i := range 40 {
		got.add(e.visitFrom("198.51.100.9:1", map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i)}))
	}
	if got.stubs.Load() != config.DefaultStubsPerClientHour {
		t.Errorf("40 visits with forged X-Forwarded-For: %d stubs, want %d", got.stubs.Load(), config.DefaultStubsPerClientHour)
	}
}

// TestDailyCeilingOverAllClients: past the ceiling over all clients, no client starts
// a profile until the next UTC day, and returning visitors still count.
func TestDailyCeilingOverAllClients(t *testing.T) {
	e := newEnv(t)
	e.video.NewProfiles.Now = e.clock.Now
	e.video.NewProfiles.Total.Max = 5
	cookie, id := e.newVisitor(t) // 1 of 5
	for i := range 4 {
		if visitorCookie(e.visitFrom(fmt.Sprintf("192.0.2.%d:1", i+1), nil).Result()) == nil {
			t.Fatalf("client %d under the ceiling got no stub", i)
		}
	}
	users := e.fa.UserCount()
	w := e.visitFrom("192.0.2.200:1", nil)
	if visitorCookie(w.Result()) != nil || !strings.Contains(w.Body.String(), `id="not-kept"`) {
		t.Fatalf("a fresh client past the daily ceiling: want the page not kept, got cookie %v\n%s", visitorCookie(w.Result()), w.Body.String())
	}
	if e.fa.UserCount() != users {
		t.Error("a user was created past the ceiling")
	}
	if !strings.Contains(e.logText(), `"Limit":"stub-total"`) {
		t.Error("the ceiling's refusal is not logged under its limit's name")
	}
	if page := body(t, e.visit(t, http.MethodGet, cookie, nil)); !strings.Contains(page, "<strong>2</strong>") || watchCount(e.user(t, id)) != 2 {
		t.Errorf("a returning visitor past the ceiling: want counted, got\n%s", page)
	}
	e.clock.Advance(24 * time.Hour)
	if visitorCookie(e.visitFrom("192.0.2.201:1", nil).Result()) == nil {
		t.Error("the next day, a new client still refused")
	}
}

// TestRegisterLimitPerClient: a client that makes a fresh stub for every POST
// /register (each stub's own email limit untouched) sends at most 10 emails an hour;
// the 11th is answered 429 with the form and sends nothing, and another client is
// served.
func TestRegisterLimitPerClient(t *testing.T) {
	e := newEnv(t)
	const client = "203.0.113.5:1"
	postFrom := func(addr, cookie, email string) *http.Response {
		r := httptest.NewRequest(http.MethodPost, origin+"/register", strings.NewReader(url.Values{"email": {email}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		r.RemoteAddr = addr
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
		w := httptest.NewRecorder()
		e.register.ServeHTTP(w, r)
		return w.Result()
	}
	sent := len(e.fa.Outbox())
	for i := range config.DefaultRegistersPerClientHour {
		cookie, _ := e.newVisitor(t)
		if resp := postFrom(client, cookie, fmt.Sprintf("flood-%d@example.com", i)); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("request %d within the limit: %d, want 303", i, resp.StatusCode)
		}
	}
	cookie, id := e.newVisitor(t)
	resp := postFrom(client, cookie, "flood-over@example.com")
	page := body(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many sign-up requests") || !strings.Contains(page, `value="flood-over@example.com"`) {
		t.Fatalf("request over the limit: %d, want 429 with the form kept and the reason:\n%s", resp.StatusCode, page)
	}
	if n := len(e.fa.Outbox()) - sent; n != config.DefaultRegistersPerClientHour {
		t.Errorf("emails sent: %d, want %d", n, config.DefaultRegistersPerClientHour)
	}
	if u := e.user(t, id); u.Email != "" {
		t.Errorf("the refused request gave the stub the address %q", u.Email)
	}
	if !strings.Contains(e.logText(), `"Limit":"register"`) {
		t.Error("the refusal is not logged under the register limit")
	}
	if resp := postFrom("203.0.113.6:1", cookie, "another@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another client's request: %d, want 303", resp.StatusCode)
	}
}

// failing is a limits store that cannot be reached.
type failing struct{ calls atomic.Int64 }

func (f *failing) Allow(context.Context, limit.Rule, string, time.Time) (bool, error) {
	f.calls.Add(1)
	return false, errors.New("dynamodb limits: UpdateItem: 500 InternalServerError")
}

// TestLimitUnavailableCreatesNothing: a limit that cannot count fails closed for what it
// guards (no stub, no email) and open for nobody else: returning visitors count.
func TestLimitUnavailableCreatesNothing(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	down := &failing{}
	e.video.NewProfiles.Limits = down
	e.register.Register.Requests.Limits = down
	users := e.fa.UserCount()
	w := e.visitFrom("198.51.100.10:1", nil)
	if w.Code != http.StatusOK || visitorCookie(w.Result()) != nil || !strings.Contains(w.Body.String(), `id="not-kept"`) {
		t.Errorf("first visit with the limits down: %d cookie %v, want the page not kept", w.Code, visitorCookie(w.Result()))
	}
	if e.fa.UserCount() != users {
		t.Error("a stub was created with the limits down")
	}
	if page := body(t, e.visit(t, http.MethodGet, cookie, nil)); !strings.Contains(page, "<strong>2</strong>") {
		t.Errorf("returning visit with the limits down: want counted, got\n%s", page)
	}
	sent := len(e.fa.Outbox())
	resp := e.post(t, cookie, "down@example.com", nil)
	if page := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "could not send the email") {
		t.Errorf("POST /register with the limits down: %d, want 503 and the try-again form:\n%s", resp.StatusCode, page)
	}
	if len(e.fa.Outbox()) != sent || e.user(t, id).Email != "" {
		t.Error("an email was sent, or the address recorded, with the limits down")
	}
	if down.calls.Load() != 2 || strings.Count(e.logText(), `"ClientLimitUnavailable":1`) != 2 {
		t.Errorf("limits asked %d times, %d unavailable metric lines; want 2 and 2", down.calls.Load(), strings.Count(e.logText(), `"ClientLimitUnavailable":1`))
	}
}

// BenchmarkFloodedFirstVisit is a first visit from a client over its limit: the page,
// no FusionAuth call (reported per op), and the allocations of refusing.
func BenchmarkFloodedFirstVisit(b *testing.B) {
	e := newEnv(b)
	const client = "198.51.100.11:1"
	for range config.DefaultStubsPerClientHour {
		e.visitFrom(client, nil)
	}
	e.client.Counter().Reset()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if w := e.visitFrom(client, nil); w.Code != http.StatusOK || visitorCookie(w.Result()) != nil {
			b.Fatalf("flooded visit: %d cookie %v", w.Code, visitorCookie(w.Result()))
		}
	}
	b.ReportMetric(float64(e.client.Counter().Total())/float64(b.N), "fa-calls/op")
}

// BenchmarkReturningVisitDuringFlood is one op of a flood from one client over its limit
// and one returning visit from another address: every FusionAuth call of the op is the
// returning visit's (2), none the flood's, and the returning visit counts.
func BenchmarkReturningVisitDuringFlood(b *testing.B) {
	e := newEnv(b)
	const flooder = "198.51.100.12:1"
	for range config.DefaultStubsPerClientHour {
		e.visitFrom(flooder, nil)
	}
	cookie, id := e.newVisitor(b)
	before := watchCount(e.user(b, id))
	e.client.Counter().Reset()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if w := e.visitFrom(flooder, nil); visitorCookie(w.Result()) != nil {
			b.Fatal("the flood got a profile past its limit")
		}
		if resp := e.visit(b, http.MethodGet, cookie, nil); resp.StatusCode != http.StatusOK {
			b.Fatalf("returning visit: %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	if got := watchCount(e.user(b, id)); got != before+b.N {
		b.Fatalf("returning visitor counted %d, want %d", got-before, b.N)
	}
	b.ReportMetric(float64(e.client.Counter().Total())/float64(b.N), "fa-calls/op")
}
