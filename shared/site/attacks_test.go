package site_test

// The attacks of issue 12 ("Only the email's owner can complete a conversion; nothing
// tells a free address from a taken one"), each through the real handlers against the
// stand-in. Each test names the numbered finding it closes; each fails on the code
// before the fix.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/app/webhookapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/site"
)

const day = 24 * time.Hour

// outboxTo returns the emails sent to address, oldest first.
func (e *env) outboxTo(address string) []fatest.Email {
	var out []fatest.Email
	for _, m := range e.fa.Outbox() {
		if strings.EqualFold(m.To, address) {
			out = append(out, m)
		}
	}
	return out
}

// lastLink is the change-password id of the newest set-password email to address.
func (e *env) lastLink(tb testing.TB, address string) string {
	tb.Helper()
	out := e.outboxTo(address)
	if len(out) == 0 || out[len(out)-1].ChangePasswordID == "" {
		tb.Fatalf("no set-password email to %s", address)
	}
	return out[len(out)-1].ChangePasswordID
}

// login logs in as FusionAuth's login page would, reporting only success.
func (e *env) login(address, password string) (faclient.User, error) {
	resp, err := e.admin.Login(context.Background(), faclient.LoginRequest{LoginID: address, Password: password, ApplicationID: e.fa.Variable("applicationId")})
	if err != nil {
		return faclient.User{}, err
	}
	return resp.User, nil
}

// wantNoProvenHolder fails if any account holds address as proven: converted, or a
// stub whose password was set through a link. (FusionAuth's own "verified" flag proves
// nothing here: with the visitors' tenant's verifyEmail off, FusionAuth marks every user
// verified when it is created.)
func (e *env) wantNoProvenHolder(tb testing.TB, address string) {
	tb.Helper()
	admin, err := faclient.New(faclient.Options{BaseURL: e.fa.URL(), TenantID: e.fa.Variable("visitorTenantId"), Keys: faclient.StaticKey(e.fa.Variable("apiKey"))})
	if err != nil {
		tb.Fatal(err)
	}
	got, err := admin.RetrieveUserByEmail(context.Background(), address)
	if faclient.IsNotFound(err) {
		return
	}
	if err != nil {
		tb.Fatal(err)
	}
	u := got.User
	if anonymous, _ := u.Data["anonymousUser"].(bool); !anonymous || anon.PasswordSet(u) || u.Data["convertedAt"] != nil {
		tb.Errorf("user %s holds %s as proven: data %v, passwordLastUpdateInstant %d after insertInstant %d",
			u.ID, address, u.Data, u.PasswordLastUpdateInstant, u.InsertInstant)
	}
}

// (1) Converting a stub onto someone else's address, first variant: the attacker sets a
// password through the link for their own address, then asks for the victim's. Before:
// the stub took the victim's address with the attacker's password, the login as the
// victim succeeded and the webhook converted it.
func TestTakeoverSetPasswordThenSwitch(t *testing.T) {
	e := newEnv(t)
	const attacker, victim = "a@attacker.example", "victim@example.com"
	cookie, id := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, cookie, attacker, nil))
	password := e.setPasswordFromEmail(t, attacker)

	resp := e.post(t, cookie, victim, nil)
	if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "already a ChangeBank account") || !strings.Contains(b, `href="/login"`) || strings.Contains(b, `id="email"`) {
		t.Errorf("asking for another address after proving one: status %d, want the account page offering sign-in, no form:\n%s", resp.StatusCode, b)
	}
	if u := e.user(t, id); u.Email != attacker {
		t.Errorf("the proven stub's address changed to %q", u.Email)
	}
	if _, err := e.login(victim, password); err == nil {
		t.Error("the attacker logged in as the victim")
	}
	e.wantNoProvenHolder(t, victim)
	if n := len(e.outboxTo(victim)); n != 0 {
		t.Errorf("%d emails to the victim", n)
	}
	// The attacker's own address is theirs: that login works and converts their stub.
	if u, err := e.login(attacker, password); err != nil || u.ID != id {
		t.Errorf("login with the attacker's own address: %v", err)
	}
	if u := e.user(t, id); u.Data["anonymousUser"] != false || u.Email != attacker {
		t.Errorf("the attacker's own stub: email %q data %v, want converted with their address", u.Email, u.Data)
	}
}

// (1) Second variant: ask for your own address, switch to the victim's, then use the
// first link. Before: the link set the password of the stub now holding the victim's
// address. Now the switch moved the profile and deleted the stub the link was for.
func TestTakeoverSwitchThenOldLink(t *testing.T) {
	e := newEnv(t)
	const attacker, victim = "a@attacker.example", "victim@example.com"
	cookie, id := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, cookie, attacker, nil))
	link := e.lastLink(t, attacker)
	resp := e.post(t, cookie, victim, nil)
	wantRedirectToRegister(t, resp)
	if c := visitorCookie(resp); c == nil || mustVerify(t, e, c.Value) != anon.MovedID(id, victim) {
		t.Fatalf("the change of address did not move the profile and re-issue the cookie")
	}

	e.clock.Advance(2 * time.Second)
	const password = "attacker chosen password 1"
	anonymous, err := faclient.New(faclient.Options{BaseURL: e.fa.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anonymous.ChangePassword(context.Background(), link, faclient.ChangePasswordRequest{Password: password}); !faclient.IsNotFound(err) {
		t.Errorf("the link for the first address still works after the switch: err=%v, want 404", err)
	}
	if _, err := e.login(victim, password); err == nil {
		t.Error("the attacker logged in as the victim")
	}
	e.wantNoProvenHolder(t, victim)
	// The victim's address now waits, unproven, on the attacker's moved stub: the
	// victim's own request gets the account-exists email, and FusionAuth's
	// forgot-password (on its sign-in page) lets them take it, not the attacker.
	victimCookie, _ := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, victimCookie, victim, nil))
	if out := e.outboxTo(victim); len(out) != 2 || out[1].TemplateID != e.fa.Variable("accountExistsEmailTemplateId") {
		t.Errorf("emails to the victim: %d, want the attacker's set-password email and then the account-exists email", len(out))
	}
}

// (2) Prune deleted real accounts: FusionAuth sends user.login.success once and forgets
// (transactionType None), so a login whose webhook failed left a stub behind; at +8
// days prune released its email, at +40 it deleted it. Now prune converts it, and never
// releases the email of, or deletes, a stub that set a password or logged in.
func TestFailedWebhookPruneKeepsAndConverts(t *testing.T) {
	e := newEnv(t)
	e.hookDown.Store(true)
	const person, passwordOnly, unproven = "person@example.com", "password.only@example.com", "unproven@example.com"
	cookie, personID := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, cookie, person, nil))
	password := e.setPasswordFromEmail(t, person)
	if _, err := e.login(person, password); err != nil {
		t.Fatalf("a failed webhook blocked the login: %v", err)
	}
	if d := e.fa.Deliveries(); len(d) != 1 || d[0].Err == nil {
		t.Fatalf("deliveries %+v, want the one login delivery, failed", d)
	}
	if u := e.user(t, personID); u.Data["anonymousUser"] != true {
		t.Fatal("converted although the webhook failed: the test does not exercise reconciliation")
	}
	cookie2, passwordOnlyID := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, cookie2, passwordOnly, nil))
	e.setPasswordFromEmail(t, passwordOnly)
	cookie3, unprovenID := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, cookie3, unproven, nil))

	pruneClient, err := faclient.New(faclient.Options{BaseURL: e.fa.URL(), TenantID: e.fa.Variable("visitorTenantId"), Keys: faclient.StaticKey(e.fa.Variable("pruneApiKey"))})
	if err != nil {
		t.Fatal(err)
	}
	pruner := prune.New(pruneClient, e.locks, prune.Options{Now: e.clock.Now}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	run := func(label string) prune.Summary {
		t.Helper()
		s, err := pruner.Run(context.Background())
		if err != nil {
			t.Fatalf("prune at %s: %v", label, err)
		}
		return s
	}

	e.clock.Advance(8 * day)
	if s := run("+8 days"); s.Reconciled != 1 || s.EmailsReleased != 1 {
		t.Errorf("+8 days: summary %+v, want 1 reconciled (the person) and 1 email released (the unproven stub)", s)
	}
	u := e.user(t, personID)
	if u.Email != person || u.Data["anonymousUser"] != false || u.Data["convertedAt"] == nil || u.Username != "" {
		t.Errorf("+8 days: the person is %q data %v username %q, want converted with their email", u.Email, u.Data, u.Username)
	}
	if u := e.user(t, passwordOnlyID); u.Email != passwordOnly {
		t.Errorf("+8 days: the stub that set a password lost its email (now %q)", u.Email)
	}
	if u := e.user(t, unprovenID); u.Email != "" {
		t.Errorf("+8 days: the unproven address was not released (%q): prune did not run its release", u.Email)
	}

	e.clock.Advance(32 * day)
	run("+40 days")
	if _, ok := e.fa.User(personID); !ok {
		t.Fatal("+40 days: the person's account was deleted")
	}
	if u := e.user(t, passwordOnlyID); u.Email != passwordOnly {
		t.Errorf("+40 days: the stub that set a password is %q, want it kept with its email", u.Email)
	}
	if _, err := e.login(person, password); err != nil {
		t.Errorf("+40 days: the person cannot log in: %v", err)
	}
}

// registerExchange is what a visitor can observe of one POST /register and the pages
// after it, with the address asked for replaced.
type registerExchange struct {
	status       int
	location     string
	cookieReset  bool   // a Set-Cookie for the visitor cookie (its value differs per visitor)
	cookieAttrs  string // its attributes
	post, reload string
	later, video string
	calls        int
	emails       []fatest.Email
	newCookie    string
}

func observeRegister(t *testing.T, e *env, cookie, address string) registerExchange {
	t.Helper()
	scrub := func(s string) string { return strings.ReplaceAll(s, address, "ADDRESS") }
	before := len(e.fa.Outbox())
	e.regClient.Counter().Reset()
	resp := e.post(t, cookie, address, nil)
	x := registerExchange{status: resp.StatusCode, location: resp.Header.Get("Location"), post: scrub(body(t, resp)), calls: e.regClient.Counter().Total()}
	if c := visitorCookie(resp); c != nil {
		x.cookieReset, x.newCookie = true, c.Value
		x.cookieAttrs = fmt.Sprintf("%s %d %v %v %v", c.Path, c.MaxAge, c.HttpOnly, c.Secure, c.SameSite)
		cookie = c.Value
	}
	x.emails = e.fa.Outbox()[before:]
	x.reload = scrub(body(t, e.getRegister(t, cookie)))
	e.clock.Advance(time.Hour)
	x.later = scrub(body(t, e.getRegister(t, cookie)))
	x.video = scrub(body(t, e.visit(t, http.MethodGet, cookie, nil)))
	return x
}

// (3) Enumeration: a free and a taken address give byte-identical answers (the POST,
// a reload, a later GET /register, the video page, the cookie's re-issue) once the
// address is removed, and one email each: the set-password link for the free one, the
// account-exists email with a sign-in link for the taken one. Before: a later GET
// showed "check your email" only for the free address, and the taken one got no email.
func TestFreeAndTakenAreIndistinguishable(t *testing.T) {
	taken := strings.ToUpper(newEnv(t).fa.Variable("regularEmail")) // another account, other letter case
	for name, tc := range map[string]struct {
		before     string // an address asked for first ("": none)
		free       int    // FusionAuth calls for a free address
		taken      int    // and for a taken one
		movesStubs bool
	}{
		"first address":     {before: "", free: 3, taken: 4},
		"change of address": {before: "first-%s@example.com", free: 6, taken: 6, movesStubs: true},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			cookieT, idT := e.newVisitor(t)
			cookieF, idF := e.newVisitor(t)
			if tc.before != "" {
				wantRedirectToRegister(t, e.post(t, cookieT, fmt.Sprintf(tc.before, "t"), nil))
				wantRedirectToRegister(t, e.post(t, cookieF, fmt.Sprintf(tc.before, "f"), nil))
			}
			xt := observeRegister(t, e, cookieT, strings.ToLower(taken))
			xf := observeRegister(t, e, cookieF, "free.address@example.com")
			for what, pair := range map[string][2]any{
				"POST status": {xt.status, xf.status}, "POST Location": {xt.location, xf.location},
				"POST cookie re-issued": {xt.cookieReset, xf.cookieReset}, "POST cookie attributes": {xt.cookieAttrs, xf.cookieAttrs},
				"POST body": {xt.post, xf.post}, "reload": {xt.reload, xf.reload}, "later GET /register": {xt.later, xf.later},
				"video page": {xt.video, xf.video}, "emails sent": {len(xt.emails), len(xf.emails)},
			} {
				if pair[0] != pair[1] {
					t.Errorf("%s differs between a taken and a free address:\ntaken: %v\nfree:  %v", what, pair[0], pair[1])
				}
			}
			if xt.status != http.StatusSeeOther || !strings.Contains(xt.reload, checkEmail) {
				t.Errorf("taken: status %d, reload without the check-your-email notice", xt.status)
			}
			if xt.cookieReset != tc.movesStubs {
				t.Errorf("cookie re-issued=%v, want %v", xt.cookieReset, tc.movesStubs)
			}
			if xt.calls != tc.taken || xf.calls != tc.free {
				t.Errorf("FusionAuth calls: taken %d, free %d; want %d and %d", xt.calls, xf.calls, tc.taken, tc.free)
			}
			if len(xt.emails) != 1 || !strings.EqualFold(xt.emails[0].To, taken) || xt.emails[0].TemplateID != e.fa.Variable("accountExistsEmailTemplateId") ||
				xt.emails[0].Link != origin+site.LoginPath ||
				!strings.Contains(xt.emails[0].Text, "already is a ChangeBank account") {
				t.Errorf("taken address: emails %+v, want one account-exists email linking to the site's /login", xt.emails)
			}
			if len(xf.emails) != 1 || xf.emails[0].To != "free.address@example.com" || xf.emails[0].ChangePasswordID == "" {
				t.Errorf("free address: emails %+v, want one set-password email", xf.emails)
			}
			// Nothing in FusionAuth holds the taken address but its owner.
			holderT := idT
			if xt.newCookie != "" {
				holderT = mustVerify(t, e, xt.newCookie)
			}
			if u := e.user(t, holderT); u.Email != "" {
				t.Errorf("the taken address's visitor's stub holds %q", u.Email)
			}
			holderF := idF
			if xf.newCookie != "" {
				holderF = mustVerify(t, e, xf.newCookie)
			}
			if u := e.user(t, holderF); u.Email != "free.address@example.com" {
				t.Errorf("the free address's stub holds %q", u.Email)
			}
		})
	}
}

// (4) Email bombing and renewable squatting: ten POSTs within a minute send three
// emails (3 an hour, 5 a day, per profile, taken addresses alike), and asking for
// another address and back leaves emailPendingSince where it was. Before: ten emails,
// and each change of address restarted the 7-day release.
func TestEmailLimitsAndPendingSince(t *testing.T) {
	e := newEnv(t)
	for _, address := range []string{"bombed@example.com", e.fa.Variable("regularEmail")} {
		cookie, _ := e.newVisitor(t)
		for i := range 10 {
			if resp := e.post(t, cookie, address, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST %d: status %d, want the same 303 as the first", i+1, resp.StatusCode)
			}
			e.clock.Advance(5 * time.Second)
		}
		if n := len(e.outboxTo(address)); n != 3 {
			t.Errorf("%s: 10 POSTs in a minute sent %d emails, want 3", address, n)
		}
		e.clock.Advance(time.Hour)
		for range 3 {
			e.post(t, cookie, address, nil)
			e.clock.Advance(20 * time.Second)
		}
		if n := len(e.outboxTo(address)); n != 5 {
			t.Errorf("%s: after an hour, %d emails in all, want 5 (the day's limit)", address, n)
		}
	}

	cookie, id := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, cookie, "home@example.com", nil))
	since := e.user(t, id).Data["emailPendingSince"]
	for _, address := range []string{"away@example.com", "home@example.com", "home@example.com"} {
		e.clock.Advance(day)
		resp := e.post(t, cookie, address, nil)
		wantRedirectToRegister(t, resp)
		if c := visitorCookie(resp); c != nil {
			cookie, id = c.Value, mustVerify(t, e, c.Value)
		}
		if got := e.user(t, id).Data["emailPendingSince"]; got != since {
			t.Errorf("after asking for %s a day later: emailPendingSince %v, want it unchanged at %v", address, got, since)
		}
	}
}

// (6) Concurrent submits, a reload, the back button, a quick second click: one email.
// Concurrent submits of the first address (set in place) and of a change of address (a
// move) each send one email, and all answers name the same profile. Before: every
// submit sent one.
func TestConcurrentSubmitsSendOne(t *testing.T) {
	e := newEnv(t)
	e.racy(t) // FusionAuth's PATCH races: the send record alone is no lock
	submit := func(cookie, address string, n int) []*http.Response {
		var wg sync.WaitGroup
		resps := make([]*http.Response, n)
		for i := range n {
			wg.Go(func() { resps[i] = e.post(t, cookie, address, nil) })
		}
		wg.Wait()
		return resps
	}
	cookie, id := e.newVisitor(t)
	for _, resp := range submit(cookie, "twice@example.com", 10) {
		wantRedirectToRegister(t, resp)
	}
	if n := len(e.outboxTo("twice@example.com")); n != 1 {
		t.Errorf("ten concurrent submits sent %d emails, want 1", n)
	}
	// A reload and the back button are GETs of the page the POST redirected to.
	e.getRegister(t, cookie)
	e.getRegister(t, cookie)
	if n := len(e.outboxTo("twice@example.com")); n != 1 {
		t.Errorf("after a reload: %d emails, want 1", n)
	}
	// Two quick submits one after the other (a double click that did not overlap).
	e.clock.Advance(time.Minute)
	wantRedirectToRegister(t, e.post(t, cookie, "twice@example.com", nil))
	e.clock.Advance(time.Second)
	wantRedirectToRegister(t, e.post(t, cookie, "twice@example.com", nil))
	if n := len(e.outboxTo("twice@example.com")); n != 2 {
		t.Errorf("a resend and a quick second click: %d emails in all, want 2", n)
	}
	resps := submit(cookie, "moved@example.com", 4)
	if n := len(e.outboxTo("moved@example.com")); n != 1 {
		t.Errorf("four concurrent changes of address sent %d emails, want 1", n)
	}
	for i, resp := range resps {
		wantRedirectToRegister(t, resp)
		c := visitorCookie(resp)
		if c == nil || mustVerify(t, e, c.Value) != anon.MovedID(id, "moved@example.com") {
			t.Errorf("answer %d does not name the moved profile", i+1)
		}
	}
}

// (6) Form handling: a pasted 217-character address is not cut by the form (no
// maxlength) and is refused with the length message, echoed in full, nothing sent; an
// invalid address's page shows the real count. Before: maxlength cut the address and
// the cut one was mailed; the invalid-address page said "0 times".
func TestFormNeverTruncates(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	e.visit(t, http.MethodGet, cookie, nil)
	e.visit(t, http.MethodGet, cookie, nil) // 3 watches
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 26) + ".com"
	if len(long) != 217 {
		t.Fatalf("test address has %d characters, want 217", len(long))
	}
	form := body(t, e.getRegister(t, cookie))
	if strings.Contains(form, "maxlength") || !strings.Contains(form, fmt.Sprintf("At most %d characters", anon.MaxEmailLen)) {
		t.Errorf("the form cuts what is typed (maxlength) or does not state the limit:\n%s", form)
	}
	e.regClient.Counter().Reset()
	resp := e.post(t, cookie, long, nil)
	b := body(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "too long") || !strings.Contains(b, `value="`+long+`"`) {
		t.Errorf("217 characters: status %d, want 400 with the length message and the address echoed in full:\n%s", resp.StatusCode, b)
	}
	if n := len(e.fa.Outbox()); n != 0 || e.regClient.Counter().Count("PATCH /api/user/{userId}") != 0 {
		t.Errorf("217 characters: %d emails, calls %v; want nothing sent or written", n, e.regClient.Counter().Snapshot())
	}
	b = body(t, e.post(t, cookie, "not-an-email", nil))
	if !strings.Contains(b, "<strong>3</strong> times") || !regexp.MustCompile(`valid email address`).MatchString(b) {
		t.Errorf("the invalid-address page does not show the real count (3):\n%s", b)
	}
	if u := e.user(t, id); u.Email != "" {
		t.Errorf("refused addresses set %q", u.Email)
	}
}

// (5) A short key outage: FusionAuth's JWKS answers 503 twice (the webhook's cold start
// and its first delivery), then recovers. Returning visitors are untouched (their
// cookie is checked with the functions' own keys: no JWKS, so no cookie cleared and no
// new profile); the webhook answers 503 and changes nothing while the key cannot be
// fetched, and verifies the next delivery at once. Before: the webhook answered 401,
// and kept refusing for 5 minutes after FusionAuth was back.
func TestKeyOutage(t *testing.T) {
	e := newEnv(t)
	cookie, visitorID := e.newVisitor(t)
	id, address := e.provedStub(t)
	e.fa.InjectFault("GET /.well-known/jwks.json", http.StatusServiceUnavailable, 2)
	jwksBefore := e.fa.Calls("GET /.well-known/jwks.json")
	hook, err := webhookapp.New(context.Background(), config.Webhook{
		FusionAuth: config.FusionAuth{URL: e.fa.URL(), TenantID: e.fa.Variable("visitorTenantId"), ApplicationID: e.fa.Variable("applicationId")},
		SigningKID: e.fa.Variable("webhookSigningKid"), SecretHeader: site.DefaultSecretHeader,
	}, e.hookClient, e.fa.Variable("webhookSecret"), e.locks, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the webhook must start while the JWKS is down: %v", err)
	}
	hook.Now = e.clock.Now
	ev := loginEvent("77777777-7777-4777-8777-777777777777", id, true, e.clock.Now())
	deliver := func() int {
		r := httptest.NewRequest(http.MethodPost, "https://hook.example/", strings.NewReader(string(ev)))
		r.Header.Set(site.DefaultSecretHeader, e.fa.Variable("webhookSecret"))
		r.Header.Set(site.SignatureHeader, e.sign(t, e.fa.Variable("webhookSigningKeyId"), ev, 60))
		w := httptest.NewRecorder()
		hook.ServeHTTP(w, r)
		return w.Code
	}
	e.hookClient.Counter().Reset()
	if got := deliver(); got != http.StatusServiceUnavailable {
		t.Errorf("delivery while the JWKS is down: status %d, want 503", got)
	}
	if u := e.user(t, id); u.Data["anonymousUser"] != true || e.hookClient.Counter().Total() != 0 {
		t.Errorf("the webhook acted without its key: data %v, calls %v", u.Data, e.hookClient.Counter().Snapshot())
	}
	users := e.fa.UserCount()
	for i := range 3 {
		resp := e.visit(t, http.MethodGet, cookie, nil)
		if resp.StatusCode != http.StatusOK || visitorCookie(resp) != nil || !strings.Contains(body(t, resp), fmt.Sprintf("<strong>%d</strong> times", i+2)) {
			t.Errorf("visit %d during the outage: status %d, cookie %v; want counted with the cookie kept", i+1, resp.StatusCode, visitorCookie(resp))
		}
	}
	if got := e.fa.UserCount(); got != users || watchCount(e.user(t, visitorID)) != 4 {
		t.Errorf("users %d → %d during the outage, want no new profile", users, got)
	}
	if got := deliver(); got != http.StatusNoContent {
		t.Errorf("first delivery after the JWKS is back: status %d, want 204", got)
	}
	if u := e.user(t, id); u.Data["anonymousUser"] != false || u.Email != address {
		t.Errorf("not converted after the outage: %v", u.Data)
	}
	if got := e.fa.Calls("GET /.well-known/jwks.json") - jwksBefore; got != 3 {
		t.Errorf("JWKS fetched %d times, want 3 (cold start, the delivery during the outage, the one after)", got)
	}
}

// countingReader counts the bytes a handler reads from a body.
type countingReader struct {
	n    atomic.Int64
	left int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, c.left)
	for i := range n {
		p[i] = ' '
	}
	c.left -= n
	c.n.Add(n)
	return int(n), nil
}

// (7) Webhook hardening: a body over 64 KB is 413 before FusionAuth is asked; a wrong
// secret is refused before a byte of a 1 MB body is read; a signed delivery two hours
// old is acknowledged and changes nothing (a replay). Before: bodies up to 1 MB were
// read before the secret was checked, and an old delivery converted.
func TestWebhookHardening(t *testing.T) {
	e := newEnv(t)
	t.Run("64 KB + 1", func(t *testing.T) {
		e.hookClient.Counter().Reset()
		big := []byte(`{"event":{"type":"user.login.success","pad":"` + strings.Repeat("x", 64<<10) + `"}}`)[:64<<10+1]
		if got := e.deliver(t, big, nil); got != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", got)
		}
		if n := e.hookClient.Counter().Total(); n != 0 {
			t.Errorf("FusionAuth calls %v, want none", e.hookClient.Counter().Snapshot())
		}
	})
	t.Run("wrong secret, 1 MB body", func(t *testing.T) {
		src := &countingReader{left: 1 << 20}
		r := httptest.NewRequest(http.MethodPost, "https://hook.example/", src)
		r.Header.Set(site.DefaultSecretHeader, "guess")
		w := httptest.NewRecorder()
		e.webhook.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized || src.n.Load() != 0 {
			t.Errorf("status %d after reading %d bytes, want 401 having read none", w.Code, src.n.Load())
		}
	})
	t.Run("two hours old", func(t *testing.T) {
		e.clock.Set(e.clock.Now().Truncate(time.Millisecond)) // events carry milliseconds
		id, _ := e.provedStub(t)
		e.hookClient.Counter().Reset()
		old := loginEvent("88888888-8888-4888-8888-888888888888", id, true, e.clock.Now().Add(-2*time.Hour))
		if got := e.deliver(t, old, map[string]string{site.SignatureHeader: e.sign(t, e.fa.Variable("webhookSigningKeyId"), old, 60)}); got != http.StatusNoContent {
			t.Errorf("status %d, want 204 (acknowledged)", got)
		}
		if u := e.user(t, id); u.Data["anonymousUser"] != true || e.hookClient.Counter().Total() != 0 {
			t.Errorf("an old delivery acted: data %v, calls %v", u.Data, e.hookClient.Counter().Snapshot())
		}
		barely := loginEvent("99999999-9999-4999-8999-999999999998", id, true, e.clock.Now().Add(-time.Hour-time.Millisecond))
		e.deliver(t, barely, map[string]string{site.SignatureHeader: e.sign(t, e.fa.Variable("webhookSigningKeyId"), barely, 60)})
		if u := e.user(t, id); u.Data["anonymousUser"] != true {
			t.Error("a delivery an hour and a millisecond old acted")
		}
		fresh := loginEvent("99999999-9999-4999-8999-999999999999", id, true, e.clock.Now().Add(-time.Hour)) // an hour old, to the millisecond: still acts
		e.deliver(t, fresh, map[string]string{site.SignatureHeader: e.sign(t, e.fa.Variable("webhookSigningKeyId"), fresh, 60)})
		if u := e.user(t, id); u.Data["anonymousUser"] != false {
			t.Error("a delivery exactly an hour old did not convert: the window is an hour, inclusive")
		}
	})
}
