package prune_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/prune"
)

const day = 24 * time.Hour

// population describes a mixed user base; the numbers add up to 10,000. loggedIn are
// stubs that proved their address and logged in while the webhook failed.
type population struct {
	staleStubs, freshStubs, pendingFresh, pendingExpired, loggedIn, converted, regular int
}

var mixed = population{staleStubs: 4000, freshStubs: 2000, pendingFresh: 1000, pendingExpired: 400, loggedIn: 100, converted: 1500, regular: 1000}

// seed puts the population into fa and returns the ids of each kind.
func seed(tb testing.TB, fa *fatest.Server, p population, now time.Time) map[string][]string {
	tb.Helper()
	ids := map[string][]string{}
	n := 0
	put := func(kind string, count int, user func(i int) map[string]any) {
		for i := 0; i < count; i++ {
			n++
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
			u := user(n)
			u["id"] = id
			u["tenantId"] = fa.Variable("visitorTenantId")
			if err := fa.PutUser(u, "password-not-for-prod"); err != nil {
				tb.Fatalf("PutUser %s: %v", kind, err)
			}
			ids[kind] = append(ids[kind], id)
		}
	}
	ms := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	// A stub as FusionAuth stores one created with its random password: the creation
	// login at the insert, the password stamped after hashing; one holding an address
	// records that password instant (anon.DataAddressPassword).
	stub := func(i int, lastUpdate time.Duration, extra map[string]any) map[string]any {
		data := map[string]any{"anonymousUser": true, "watchCount": 3}
		insert := ms(lastUpdate + day)
		u := map[string]any{"username": fmt.Sprintf("stub%060d", i), "data": data, "insertInstant": insert, "lastUpdateInstant": ms(lastUpdate),
			"lastLoginInstant": insert, "passwordLastUpdateInstant": insert + 61}
		for k, v := range extra {
			if k == "emailPendingSince" || k == anon.DataWatchSeconds {
				data[k] = v
				continue
			}
			u[k] = v
		}
		if u["email"] != nil {
			data[anon.DataAddressPassword] = insert + 61
		}
		return u
	}
	put("staleStubs", p.staleStubs, func(i int) map[string]any { return stub(i, 40*day, map[string]any{anon.DataWatchSeconds: 5}) })
	put("freshStubs", p.freshStubs, func(i int) map[string]any { return stub(i, day, nil) })
	put("pendingFresh", p.pendingFresh, func(i int) map[string]any {
		return stub(i, 40*day, map[string]any{"email": fmt.Sprintf("fresh%d@example.com", i), "emailPendingSince": ms(2 * day)})
	})
	put("pendingExpired", p.pendingExpired, func(i int) map[string]any {
		return stub(i, 40*day, map[string]any{"email": fmt.Sprintf("expired%d@example.com", i), "emailPendingSince": ms(10 * day)})
	})
	put("loggedIn", p.loggedIn, func(i int) map[string]any {
		u := stub(i, 40*day, map[string]any{"email": fmt.Sprintf("logged.in%d@example.com", i), "emailPendingSince": ms(41 * day), "lastLoginInstant": ms(40 * day)})
		u["passwordLastUpdateInstant"] = ms(40*day + time.Minute) // set through the emailed link
		return u
	})
	put("converted", p.converted, func(i int) map[string]any {
		return map[string]any{"email": fmt.Sprintf("converted%d@example.com", i), "data": map[string]any{"anonymousUser": false, "watchCount": 9, "convertedAt": ms(80 * day)},
			"insertInstant": ms(100 * day), "lastUpdateInstant": ms(90 * day)}
	})
	put("regular", p.regular, func(i int) map[string]any {
		return map[string]any{"email": fmt.Sprintf("regular%d@example.com", i), "insertInstant": ms(100 * day), "lastUpdateInstant": ms(90 * day)}
	})
	return ids
}

type env struct {
	fa     *fatest.Server
	client *faclient.Client
	now    time.Time        // when the test starts: the population is seeded relative to it
	clock  *clocktest.Clock // the pruner's clock, starting at now
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	now := time.Now()
	e := &env{now: now, clock: clocktest.New(now)}
	e.fa = fatest.NewTestServer(tb, fatest.Options{})
	var err error
	// The prune function's own least-privilege key from kickstart.
	e.client, err = faclient.New(faclient.Options{BaseURL: e.fa.URL(), Keys: faclient.StaticKey(e.fa.Variable("pruneApiKey"))})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func (e *env) pruner(o prune.Options) *prune.Pruner { return e.prunerOver(e.client, o) }

// prunerOver is pruner with its FusionAuth calls going through store.
func (e *env) prunerOver(store prune.Store, o prune.Options) *prune.Pruner {
	o.Now = e.clock.Now
	return prune.New(store, lock.NewMemory(), o, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

// admin is a client with kickstart's all-powerful key, for a test's own writes.
func (e *env) admin(tb testing.TB) *faclient.Client {
	tb.Helper()
	c, err := faclient.New(faclient.Options{BaseURL: e.fa.URL(), Keys: faclient.StaticKey(e.fa.Variable("apiKey"))})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (e *env) exists(id string) bool {
	_, ok := e.fa.User(id)
	return ok
}

func TestPruneDeletesExactlyTheStaleStubs(t *testing.T) {
	e := newEnv(t)
	ids := seed(t, e.fa, mixed, e.now)
	e.fa.ResetCalls()
	s, err := e.pruner(prune.Options{}).Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := prune.Summary{Reconciled: 100, Matched: 4000, Deleted: 4000, EmailsReleased: 400, RemainingAnonymous: 3400, PendingConversions: 1000, Converted: 1600, Complete: true,
		Dropped: map[string]int64{anon.DataWatchCount: 4000 * 3, anon.DataWatchSeconds: 4000 * 5}}
	got := s
	got.FusionAuthCalls = 0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary=%+v\nwant     %+v", got, want)
	}
	if s.FusionAuthCalls != e.client.Counter().Total() {
		t.Errorf("summary says %d FusionAuth calls, the client made %d (%v)", s.FusionAuthCalls, e.client.Counter().Total(), e.client.Counter().Snapshot())
	}
	for _, id := range ids["loggedIn"] {
		u, _ := e.fa.User(id)
		if d, _ := u["data"].(map[string]any); d["anonymousUser"] != false || d["convertedAt"] == nil || u["email"] == nil || u["username"] != nil {
			t.Fatalf("logged-in stub %s not converted with its email: %v", id, u)
		}
	}
	for kind, list := range ids {
		for _, id := range list {
			if gone := !e.exists(id); gone != (kind == "staleStubs") {
				t.Fatalf("%s user %s: deleted=%v", kind, id, gone)
			}
		}
	}
	for _, id := range ids["pendingExpired"] {
		u, _ := e.fa.User(id)
		if _, has := u["email"]; has {
			t.Fatalf("user %s still holds its expired pending email", id)
		}
		if d, _ := u["data"].(map[string]any); d["anonymousUser"] != true || d["watchCount"] == nil {
			t.Fatalf("user %s lost its data: %v", id, d)
		}
	}
	for _, id := range ids["pendingFresh"] {
		if u, _ := e.fa.User(id); u["email"] == nil {
			t.Fatalf("fresh pending user %s lost its email", id)
		}
	}
	if got := e.client.Counter().Count("DELETE /api/user/bulk"); got != 1 {
		t.Errorf("bulk deletes=%d for 4,000 stubs, want 1", got)
	}
	// Deleting costs the first count and the bulk calls: at most 3 per 10,000.
	if got := e.fa.Calls("DELETE /api/user/bulk") + 1; got > 3 {
		t.Errorf("deletion calls=%d, want at most 3", got)
	}
	t.Logf("FusionAuth calls: %v", e.client.Counter().Snapshot())
	if n := e.fa.Unsupported(); n != 0 {
		t.Errorf("%d prune queries hit the compatible server's unsupported-query guard", n)
	}
}

func TestDryRunChangesNothingAndReportsTheSame(t *testing.T) {
	e := newEnv(t)
	ids := seed(t, e.fa, mixed, e.now)
	dry, err := e.pruner(prune.Options{DryRun: true}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for kind, list := range ids {
		for _, id := range list {
			if !e.exists(id) {
				t.Fatalf("dry run deleted %s user %s", kind, id)
			}
		}
	}
	for _, id := range ids["pendingExpired"] {
		if u, _ := e.fa.User(id); u["email"] == nil {
			t.Fatalf("dry run released the email of %s", id)
		}
	}
	if e.fa.Calls("PATCH /api/user/{userId}") != 0 || e.client.Counter().Count("DELETE /api/user/bulk") != 0 {
		t.Errorf("dry run wrote: %v", e.client.Counter().Snapshot())
	}
	real, err := e.pruner(prune.Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || real.DryRun {
		t.Errorf("DryRun flags: dry=%v real=%v", dry.DryRun, real.DryRun)
	}
	dry.DryRun, dry.FusionAuthCalls, real.FusionAuthCalls = false, 0, 0
	if !reflect.DeepEqual(dry, real) {
		t.Errorf("dry run=%+v\nreal run=%+v, want the same numbers", dry, real)
	}
}

func TestCapStopsAndNextRunContinues(t *testing.T) {
	e := newEnv(t)
	ids := seed(t, e.fa, population{staleStubs: 2500, freshStubs: 100, pendingExpired: 10}, e.now)
	p := e.pruner(prune.Options{MaxPerRun: 1000, BatchSize: 400})
	var total int64
	for run := 1; ; run++ {
		s, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += s.Deleted
		left := 0
		for _, id := range ids["staleStubs"] {
			if e.exists(id) {
				left++
			}
		}
		if int64(left) != 2500-total {
			t.Fatalf("run %d: %d stale stubs left, want %d (state inconsistent with summary)", run, left, 2500-total)
		}
		if s.Deleted+s.EmailsReleased > 1000 {
			t.Fatalf("run %d changed %d users, cap is 1000", run, s.Deleted+s.EmailsReleased)
		}
		if s.Complete {
			if run != 3 || total != 2500 {
				t.Errorf("finished after %d runs with %d deleted, want 3 runs and 2500", run, total)
			}
			break
		}
		if s.StoppedBy != "cap" {
			t.Fatalf("run %d stopped by %q, want cap", run, s.StoppedBy)
		}
		if run > 5 {
			t.Fatal("prune never completes")
		}
	}
	for _, id := range ids["freshStubs"] {
		if !e.exists(id) {
			t.Fatalf("fresh stub %s deleted", id)
		}
	}
}

// TestPerUserStepsPageAndObeyTheCap: releases and reconciliations page through more
// matches than a page holds, count against the per-run cap, and the next run continues.
func TestPerUserStepsPageAndObeyTheCap(t *testing.T) {
	e := newEnv(t)
	seed(t, e.fa, population{pendingExpired: 10, loggedIn: 7}, e.now)
	s, err := e.pruner(prune.Options{BatchSize: 3}).Run(context.Background())
	if err != nil || s.EmailsReleased != 10 || s.Reconciled != 7 || !s.Complete {
		t.Fatalf("pages of 3: summary %+v err %v, want all 10 released and all 7 converted in one run", s, err)
	}
	e = newEnv(t)
	ids := seed(t, e.fa, population{pendingExpired: 10, loggedIn: 7}, e.now)
	p := e.pruner(prune.Options{MaxPerRun: 4})
	var reconciled, released int64
	for run := 1; run <= 6; run++ {
		s, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Reconciled+s.EmailsReleased > 4 {
			t.Fatalf("run %d changed %d users, cap is 4", run, s.Reconciled+s.EmailsReleased)
		}
		reconciled, released = reconciled+s.Reconciled, released+s.EmailsReleased
		if s.Complete {
			break
		}
	}
	if reconciled != 7 || released != 10 {
		t.Errorf("over the runs: %d converted and %d released, want 7 and 10", reconciled, released)
	}
	for _, id := range ids["pendingExpired"] {
		if u, _ := e.fa.User(id); u["email"] != nil {
			t.Errorf("user %s kept its expired address", id)
		}
	}
}

// slowStore makes every bulk delete take ten minutes of the pruner's clock, so the
// Lambda deadline arrives mid-run without any real waiting.
type slowStore struct {
	*faclient.Client
	clock *clocktest.Clock
}

func (s *slowStore) DeleteUsersByQuery(ctx context.Context, req faclient.UserDeleteRequest) (*faclient.UserDeleteResponse, error) {
	s.clock.Advance(10 * time.Minute)
	return s.Client.DeleteUsersByQuery(ctx, req)
}

func TestDeadlineMidRunLeavesConsistentState(t *testing.T) {
	e := newEnv(t)
	ids := seed(t, e.fa, population{staleStubs: 3000}, e.now)
	store := &slowStore{Client: e.client, clock: e.clock}
	// 25 minutes left, stop 6 minutes early: room for two bulk deletes, not three.
	ctx, cancel := context.WithDeadline(context.Background(), e.now.Add(25*time.Minute))
	defer cancel()
	opts := prune.Options{BatchSize: 1000, Margin: 6 * time.Minute, Now: e.clock.Now}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	s, err := prune.New(store, lock.NewMemory(), opts, log).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Complete || s.StoppedBy != "deadline" || s.Deleted != 2000 {
		t.Fatalf("summary=%+v, want 2000 deleted and a stop by the deadline", s)
	}
	left := 0
	for _, id := range ids["staleStubs"] {
		if e.exists(id) {
			left++
		}
	}
	if int64(left) != 3000-s.Deleted {
		t.Errorf("%d left after deleting %d of 3000", left, s.Deleted)
	}
	s2, err := prune.New(store, lock.NewMemory(), opts, log).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Complete || s.Deleted+s2.Deleted != 3000 {
		t.Errorf("second run=%+v, want it to finish the remaining %d", s2, 3000-s.Deleted)
	}
}

// racingStore converts a user right after the search that found it, as a visitor
// logging in at that moment would.
type racingStore struct {
	*faclient.Client
	convert func()
	before  func(req faclient.SearchRequest) // if set, runs before each search
}

func (r *racingStore) SearchUsersByQuery(ctx context.Context, req faclient.SearchRequest) (*faclient.SearchResponse, error) {
	if r.before != nil {
		r.before(req)
	}
	resp, err := r.Client.SearchUsersByQuery(ctx, req)
	if err == nil && len(resp.Users) > 0 && r.convert != nil {
		r.convert()
		r.convert = nil
	}
	return resp, err
}

// TestVisitedMeanwhileIsKeptAndNotDropped: a stub visited between the batch's read
// and its delete is kept, and the summary's dropped totals count only the deleted.
func TestVisitedMeanwhileIsKeptAndNotDropped(t *testing.T) {
	e := newEnv(t)
	ids := seed(t, e.fa, population{staleStubs: 3}, e.now)
	visited := ids["staleStubs"][1]
	admin := e.admin(t)
	store := &racingStore{Client: e.client, convert: func() {
		if _, err := admin.PatchUser(context.Background(), visited, map[string]any{"user": map[string]any{"data": map[string]any{anon.DataWatchCount: 4}}}); err != nil {
			t.Error(err)
		}
	}}
	p := e.prunerOver(store, prune.Options{})
	s, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !e.exists(visited) {
		t.Fatalf("the stub visited after the read was deleted (summary %+v)", s)
	}
	want := map[string]int64{anon.DataWatchCount: 2 * 3, anon.DataWatchSeconds: 2 * 5}
	if s.Deleted != 2 || !reflect.DeepEqual(s.Dropped, want) {
		t.Errorf("deleted %d, dropped %v; want 2 and %v", s.Deleted, s.Dropped, want)
	}
}

// TestStaleMeanwhileWaitsForTheNextRun: a stub that turns stale after the run counted
// is not deleted by it: a run deletes at most what it matched at its start, also over
// several batches.
func TestStaleMeanwhileWaitsForTheNextRun(t *testing.T) {
	e := newEnv(t)
	seed(t, e.fa, population{staleStubs: 3}, e.now)
	var late []string
	store := &racingStore{Client: e.client}
	store.before = func(req faclient.SearchRequest) {
		if len(late) == 0 && !req.Search.AccurateTotal && strings.Contains(req.Search.Query, "lastLoginInstant") {
			// Its id sorts after the others, so a batch of what was matched does not reach it.
			late = []string{"ffffffff-0000-4000-8000-000000000001"}
			old := e.now.Add(-40 * day).UnixMilli()
			if err := e.fa.PutUser(map[string]any{"id": late[0], "tenantId": e.fa.Variable("visitorTenantId"), "username": "late-stub",
				"data": map[string]any{"anonymousUser": true, "watchCount": 3}, "insertInstant": old - 1, "lastUpdateInstant": old, "lastLoginInstant": old - 1,
			}, "password-not-for-prod"); err != nil {
				t.Error(err)
			}
		}
	}
	p := e.prunerOver(store, prune.Options{BatchSize: 2})
	s, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(late) != 1 || s.Matched != 3 || s.Deleted != 3 || !e.exists(late[0]) {
		t.Errorf("summary %+v, the late stub kept: %v; want 3 matched, 3 deleted and it kept", s, len(late) == 1 && e.exists(late[0]))
	}
}

func TestConvertedMeanwhileKeepsEmail(t *testing.T) {
	e := newEnv(t)
	ids := seed(t, e.fa, population{pendingExpired: 1}, e.now)
	id := ids["pendingExpired"][0]
	admin := e.admin(t)
	store := &racingStore{Client: e.client, convert: func() {
		if _, err := admin.PatchUser(context.Background(), id, map[string]any{"user": map[string]any{"data": map[string]any{"anonymousUser": false, "convertedAt": e.now.UnixMilli()}}}); err != nil {
			t.Error(err)
		}
	}}
	p := e.prunerOver(store, prune.Options{})
	s, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := e.fa.User(id); u["email"] == nil || s.EmailsReleased != 0 {
		t.Errorf("converted user's email released (summary %+v)", s)
	}
	if store.convert != nil {
		t.Fatal("the search never found the pending user; the race was not exercised")
	}
}

func BenchmarkPrune100kStaleStubs(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	var calls int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		seed(b, e.fa, population{staleStubs: 100_000}, e.now)
		e.client.Counter().Reset()
		b.StartTimer()
		s, err := e.pruner(prune.Options{MaxPerRun: 200_000}).Run(context.Background())
		if err != nil || s.Deleted != 100_000 {
			b.Fatalf("summary=%+v err=%v", s, err)
		}
		calls += s.FusionAuthCalls
	}
	b.ReportMetric(float64(calls)/float64(b.N), "fa-calls/op")
}

// TestRunReportsOnce: a run writes its summary as one EMF line to the metrics writer and
// logs it once, so the Lambda and the local stack report the same way.
func TestRunReportsOnce(t *testing.T) {
	e := newEnv(t)
	seed(t, e.fa, population{staleStubs: 3}, e.now)
	var metrics, logs bytes.Buffer
	p := prune.New(e.client, lock.NewMemory(), prune.Options{Now: e.clock.Now, Metrics: &metrics}, slog.New(slog.NewJSONHandler(&logs, nil)))
	s, err := p.Run(context.Background())
	if err != nil || s.Deleted != 3 {
		t.Fatalf("summary=%+v err=%v, want 3 deleted", s, err)
	}
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"Deleted":3`) || !strings.Contains(lines[0], `"CloudWatchMetrics"`) {
		t.Errorf("metrics=%q, want one EMF line with Deleted 3", metrics.String())
	}
	if n := strings.Count(logs.String(), `"msg":"prune finished"`); n != 1 || !strings.Contains(logs.String(), `"deleted":3`) {
		t.Errorf("log has %d summaries, want 1 with deleted 3:\n%s", n, logs.String())
	}
}

// TestForEvent: a manual invoke asks for a dry run in the event's detail; the
// schedule's own events and anything that does not parse leave the pruner as it is.
func TestForEvent(t *testing.T) {
	e := newEnv(t)
	p := e.pruner(prune.Options{})
	for detail, wantDry := range map[string]bool{
		``:                   false,
		`{}`:                 false,
		`{"dryRun": false}`:  false,
		`{"dryRun": true}`:   true,
		`{"dryRun": "true"}`: false,
		`[`:                  false,
		`null`:               false,
	} {
		s, err := p.ForEvent(json.RawMessage(detail)).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.DryRun != wantDry {
			t.Errorf("detail %q: dry run=%v, want %v", detail, s.DryRun, wantDry)
		}
	}
}

// TestOneVisitStubsGoSooner: stubs watched once, without an email, go after 7 idle
// days; stubs watched more keep the 30-day window; an email keeps even a one-visit stub.
func TestOneVisitStubsGoSooner(t *testing.T) {
	e := newEnv(t)
	kinds := []struct {
		name       string
		watchCount int
		idleDays   int
		email      bool
		gone       bool
	}{
		{"one visit, 6 days", 1, 6, false, false},
		{"one visit, 8 days", 1, 8, false, true},
		{"two visits, 8 days", 2, 8, false, false},
		{"two visits, 29 days", 2, 29, false, false},
		{"two visits, 31 days", 2, 31, false, true},
		{"one visit with an email, 8 days", 1, 8, true, false},
	}
	ids := map[string][]string{}
	for k, kind := range kinds {
		for i := range 5 {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", k+1, i+1)
			at := e.now.Add(-time.Duration(kind.idleDays) * day).UnixMilli()
			u := map[string]any{"id": id, "username": "stub-" + id, "insertInstant": at, "lastUpdateInstant": at,
				"data": map[string]any{"anonymousUser": true, "watchCount": kind.watchCount}}
			if kind.email {
				u["email"] = fmt.Sprintf("pending-%d-%d@example.com", k, i)
				u["data"].(map[string]any)["emailPendingSince"] = e.now.Add(-2 * day).UnixMilli()
			}
			u["tenantId"] = e.fa.Variable("visitorTenantId")
			if err := e.fa.PutUser(u, ""); err != nil {
				t.Fatal(err)
			}
			ids[kind.name] = append(ids[kind.name], id)
		}
	}
	s, err := e.pruner(prune.Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Matched != 10 || s.Deleted != 10 {
		t.Errorf("summary=%+v, want 10 matched and deleted (the 8-day one-visit and 31-day stubs)", s)
	}
	for _, kind := range kinds {
		for _, id := range ids[kind.name] {
			if gone := !e.exists(id); gone != kind.gone {
				t.Errorf("%s: deleted=%v, want %v", kind.name, gone, kind.gone)
			}
		}
	}
	// The pruner's clock, not the wall clock, decides: two days on, the 6-day one-visit
	// stubs and the 29-day ones are past their windows.
	e.clock.Advance(2 * day)
	if s, err := e.pruner(prune.Options{}).Run(context.Background()); err != nil || s.Deleted != 10 {
		t.Errorf("two days later: summary=%+v err=%v, want 10 deleted", s, err)
	}
	for _, name := range []string{"one visit, 6 days", "two visits, 29 days"} {
		for _, id := range ids[name] {
			if e.exists(id) {
				t.Errorf("%s: %s survived two more days by the pruner's clock", name, id)
			}
		}
	}
	for _, id := range ids["two visits, 8 days"] {
		if !e.exists(id) {
			t.Errorf("two visits, 8 days: %s deleted at 10 idle days, want it kept until 30", id)
		}
	}
}

// TestDryRunSummaryReadsAsDry: in JSON (the log, the Lambda result, the local stack's
// answer) a dry run reports wouldDelete and wouldRelease, never deleted or
// emailsReleased; a real run the other way round; both read back the same.
func TestDryRunSummaryReadsAsDry(t *testing.T) {
	for _, s := range []prune.Summary{
		{DryRun: true, Matched: 7, Deleted: 7, EmailsReleased: 2, Complete: true, FusionAuthCalls: 5, Dropped: map[string]int64{"watchCount": 9}},
		{DryRun: false, Matched: 7, Deleted: 0, EmailsReleased: 0, Complete: false, StoppedBy: "cap", Dropped: map[string]int64{"watchCount": 0}},
	} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var keys map[string]any
		if err := json.Unmarshal(b, &keys); err != nil {
			t.Fatal(err)
		}
		present, absent := []string{"deleted", "emailsReleased", "dropped"}, []string{"wouldDelete", "wouldRelease", "wouldDrop"}
		if s.DryRun {
			present, absent = absent, present
		}
		for _, k := range present {
			if _, ok := keys[k]; !ok {
				t.Errorf("dryRun=%v: %s has no %q", s.DryRun, b, k)
			}
		}
		for _, k := range absent {
			if _, ok := keys[k]; ok {
				t.Errorf("dryRun=%v: %s has %q", s.DryRun, b, k)
			}
		}
		var back prune.Summary
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, s) {
			t.Errorf("round trip: %+v (%v), want %+v", back, err, s)
		}
	}
}

// TestDryRunInSmallBatchesReportsTheSame: a dry run reports what the real run then
// does, also when the work spans several pages and batches: it never counts a stub
// twice or past what matched, nor stops before the last page.
func TestDryRunInSmallBatchesReportsTheSame(t *testing.T) {
	e := newEnv(t)
	seed(t, e.fa, population{staleStubs: 5, pendingExpired: 10, loggedIn: 7, freshStubs: 2}, e.now)
	dry, err := e.pruner(prune.Options{DryRun: true, BatchSize: 3}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	real, err := e.pruner(prune.Options{BatchSize: 3}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if real.Deleted != 5 || real.EmailsReleased != 10 || real.Reconciled != 7 || !real.Complete {
		t.Fatalf("real run in batches of 3: %+v, want 5 deleted, 10 released, 7 converted", real)
	}
	dry.DryRun, dry.FusionAuthCalls, real.FusionAuthCalls = false, 0, 0
	if !reflect.DeepEqual(dry, real) {
		t.Errorf("dry run=%+v\nreal run=%+v, want the same numbers", dry, real)
	}
}

// TestStopsWithLessThanTheMarginLeft: by default a run stops when less than 5 s of the
// invocation are left, before changing anything, so Lambda never cuts a batch short;
// with exactly the margin left (here a margin of an hour) it still runs.
func TestStopsWithLessThanTheMarginLeft(t *testing.T) {
	e := newEnv(t)
	ids := seed(t, e.fa, population{staleStubs: 2}, e.now)
	run := func(o prune.Options, left time.Duration) prune.Summary {
		t.Helper()
		ctx, cancel := context.WithDeadline(context.Background(), e.now.Add(left))
		defer cancel()
		s, err := e.pruner(o).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := run(prune.Options{}, 5*time.Second-time.Millisecond); s.Complete || s.StoppedBy != "deadline" || s.Deleted != 0 {
		t.Errorf("just under 5 s left: %+v, want a stop by the deadline before deleting", s)
	}
	for _, id := range ids["staleStubs"] {
		if !e.exists(id) {
			t.Errorf("stale stub %s deleted by a run that had no time", id)
		}
	}
	if s := run(prune.Options{Margin: time.Hour}, time.Hour); !s.Complete || s.Deleted != 2 {
		t.Errorf("exactly the margin left: %+v, want a complete run", s)
	}
}

// failingWriter is a metrics destination that refuses every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestMetricsFailureIsWarnedNotFatal: metrics that cannot be written do not fail the
// run (its work is done) but are logged as a warning; written metrics warn of nothing.
func TestMetricsFailureIsWarnedNotFatal(t *testing.T) {
	e := newEnv(t)
	seed(t, e.fa, population{staleStubs: 2}, e.now)
	for _, tc := range []struct {
		metrics io.Writer
		warned  bool
	}{{failingWriter{}, true}, {new(bytes.Buffer), false}} {
		var logs bytes.Buffer
		p := prune.New(e.client, lock.NewMemory(), prune.Options{Now: e.clock.Now, Metrics: tc.metrics}, slog.New(slog.NewJSONHandler(&logs, nil)))
		if _, err := p.Run(context.Background()); err != nil {
			t.Fatalf("metrics %T: Run: %v", tc.metrics, err)
		}
		if warned := strings.Contains(logs.String(), `"level":"WARN","msg":"prune metrics not written"`); warned != tc.warned {
			t.Errorf("metrics %T: warned=%v, want %v:\n%s", tc.metrics, warned, tc.warned, logs.String())
		}
	}
}

// TestCompletedMetricSaysWhetherTheRunFinished: the EMF line's Completed is 1 only for a
// run that did all it found to do; one stopped by its cap, or by FusionAuth failing, says
// 0 (and the failed one's summary is stopped by "error"). The "prune not finishing" alarm
// in template.yaml reads it.
func TestCompletedMetricSaysWhetherTheRunFinished(t *testing.T) {
	e := newEnv(t)
	seed(t, e.fa, population{staleStubs: 3}, e.now)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	failing, err := faclient.New(faclient.Options{BaseURL: down.URL, Keys: faclient.StaticKey("k")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		store     prune.Store
		opts      prune.Options
		completed string
		stoppedBy string
	}{
		{"capped", e.client, prune.Options{MaxPerRun: 1}, `"Completed":0`, "cap"},
		{"complete", e.client, prune.Options{}, `"Completed":1`, ""},
		{"FusionAuth down", failing, prune.Options{}, `"Completed":0`, "error"},
	} {
		var line bytes.Buffer
		c.opts.Metrics = &line
		s, _ := e.prunerOver(c.store, c.opts).Run(context.Background())
		if !strings.Contains(line.String(), c.completed) || s.StoppedBy != c.stoppedBy || s.Complete != (c.stoppedBy == "") {
			t.Errorf("%s: summary %+v, EMF %s; want %s and stopped by %q", c.name, s, line.String(), c.completed, c.stoppedBy)
		}
	}
}
