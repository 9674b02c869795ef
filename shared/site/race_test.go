package site_test

// Correct on FusionAuth's own concurrency (issue 20): FusionAuth checks a JSON Patch
// test against the user as the request read it and writes later without a lock
// (fusionauth-issues #3206), and the stand-in does the same. These tests hold that
// window open (racy) so that two writers from one read are certain, and show that the
// profile leases, not the patch guards, keep every write.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/prune"
)

// racy holds every user PATCH open for a millisecond between its read and its write,
// long enough that concurrent writers of one profile overlap whenever nothing else
// keeps them apart.
func (e *env) racy(tb testing.TB) {
	e.fa.AfterPatchRead(func(string) { time.Sleep(time.Millisecond) })
	tb.Cleanup(func() { e.fa.AfterPatchRead(nil) })
}

// noLeases is a lock table that never refuses: the Updater without its leases, left
// with the JSON Patch guards alone (the design before issue 20).
type noLeases struct{}

func (noLeases) TryLock(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return true, nil
}
func (noLeases) Unlock(context.Context, string, string) error { return nil }

// TestGuardsAloneLoseCountsOnFusionAuth: the racy window is real. Without the leases,
// 100 visits 20 at a time lose counts although every PATCH tests the user as read; with
// them (TestConcurrentVisitsCountEveryOne) none is lost.
func TestGuardsAloneLoseCountsOnFusionAuth(t *testing.T) {
	e := newEnv(t)
	e.racy(t)
	_, id := e.newVisitor(t)
	visits := anon.New(e.client, noLeases{})
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			for range work {
				if _, err := visits.RecordWatch(context.Background(), id); err != nil {
					t.Errorf("RecordWatch: %v", err)
				}
			}
		})
	}
	for range 100 {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	if got := watchCount(e.user(t, id)); got >= 101 {
		t.Errorf("watchCount=%d without leases, want counts lost (fewer than 101): the stand-in's PATCH window is not racing", got)
	} else {
		t.Logf("without leases: %d of 100 concurrent visits kept", got-1)
	}
}

// TestStubMergesOnceUnderConcurrentVisits: the visitor signs in on one tab while the
// anonymous cookie keeps visiting on others. The merge adds the stub's count once, and
// the count it adds includes every visit that was counted on the stub: a visit either
// counted on the stub before the merge or found it gone and started afresh.
func TestStubMergesOnceUnderConcurrentVisits(t *testing.T) {
	e := newEnv(t)
	e.racy(t)
	id, email, password := e.regular()
	e.setWatchCount(t, id, 5)
	b, stubID := e.watcher(t, 3)
	stubCookie := &http.Cookie{Name: cookieName, Value: b.cookie(cookieName).Value}
	callback := b.logInAtFusionAuth(t, email, password)
	var onStub, elsewhere int
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Go(func() {
		e.visitConcurrentlyThen(t, stubCookie, 60, 10, func(w *httptest.ResponseRecorder) {
			c := visitorCookie(w.Result())
			mu.Lock()
			defer mu.Unlock()
			if c == nil || mustVerify(t, e, c.Value) == stubID {
				onStub++
			} else {
				elsewhere++
			}
		})
	})
	wg.Go(func() { wantSignedIn(t, b.get(t, callback)) })
	wg.Wait()
	account := e.user(t, id)
	if got := watchCount(account); got != 5+3+onStub {
		t.Errorf("account watchCount=%d, want %d: 5, the stub's 3 and the %d visits counted on it (%d started afresh)", got, 5+3+onStub, onStub, elsewhere)
	}
	merged, _ := account.Data[anon.DataMergedStubs].([]any)
	if len(merged) != 1 || merged[0] != stubID {
		t.Errorf("mergedStubs=%v, want the stub once", merged)
	}
	if _, err := e.admin.RetrieveUser(context.Background(), stubID); !faclient.IsNotFound(err) {
		t.Errorf("stub after the merge: %v, want deleted", err)
	}
	t.Logf("%d visits counted on the stub before the merge, %d after it on a fresh one", onStub, elsewhere)
}

// TestRegistrationSendsTheLinkToAFreshStub: FusionAuth stamps a new user's password
// after its insert (hashing time), so a stub fresh from its first visit already has
// passwordLastUpdateInstant > insertInstant. That is no proof of an address: its first
// registration sends the set-password email, and only following the link proves it.
func TestRegistrationSendsTheLinkToAFreshStub(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	if u := e.user(t, id); u.PasswordLastUpdateInstant <= u.InsertInstant || u.LastLoginInstant != u.InsertInstant {
		t.Fatalf("stub stamps: insert %d, password %d, login %d; want FusionAuth's (password after the insert, a login at it)",
			u.InsertInstant, u.PasswordLastUpdateInstant, u.LastLoginInstant)
	}
	wantRedirectToRegister(t, e.post(t, cookie, "fresh.stub@example.com", nil))
	out := e.outboxTo("fresh.stub@example.com")
	if len(out) != 1 || out[0].ChangePasswordID == "" {
		t.Fatalf("emails to the address: %+v, want the one set-password email", out)
	}
	if u := e.user(t, id); anon.ProvedAddress(u) {
		t.Errorf("proved before the link was followed: %+v", u)
	}
	e.setPasswordFromEmail(t, "fresh.stub@example.com")
	if u := e.user(t, id); !anon.ProvedAddress(u) || anon.LoggedIn(u) {
		t.Errorf("after the link: proved=%v loggedIn=%v, want proved and not logged in", anon.ProvedAddress(u), anon.LoggedIn(u))
	}
}

// TestPruneDeletesAMonthOldStubCreatedWithAPassword: every stub is created with a
// random password, so FusionAuth recorded a login at its creation; a stub untouched for
// 31 days is still deleted, and one that visited yesterday is kept.
func TestPruneDeletesAMonthOldStubCreatedWithAPassword(t *testing.T) {
	e := newEnv(t)
	oldCookie, old := e.newVisitor(t)
	e.visit(t, http.MethodGet, oldCookie, nil) // two watches: the full retention applies
	if u := e.user(t, old); u.LastLoginInstant == 0 {
		t.Fatal("the stub has no creation login: the test does not exercise FusionAuth's stamps")
	}
	e.clock.Advance(30 * day)
	freshCookie, fresh := e.newVisitor(t)
	e.visit(t, http.MethodGet, freshCookie, nil)
	e.clock.Advance(day)
	pruneClient, err := faclient.New(faclient.Options{BaseURL: e.fa.URL(), TenantID: e.fa.Variable("visitorTenantId"), Keys: faclient.StaticKey(e.fa.Variable("pruneApiKey"))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := prune.New(pruneClient, e.locks, prune.Options{Now: e.clock.Now}, slog.New(slog.NewJSONHandler(io.Discard, nil))).Run(context.Background())
	if err != nil || s.Deleted != 1 {
		t.Fatalf("prune: %+v, %v; want the month-old stub deleted", s, err)
	}
	if _, err := e.admin.RetrieveUser(context.Background(), old); !faclient.IsNotFound(err) {
		t.Errorf("the 31-day-old stub: %v, want deleted", err)
	}
	e.user(t, fresh) // fails the test if it was deleted
}
