package anon_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/lock"
)

// TestMergeDataAppliesEachRule: every rule of the schema, on the keys that use it and
// on made-up ones, and the account's own keys untouched.
func TestMergeDataAppliesEachRule(t *testing.T) {
	account := map[string]any{
		anon.DataWatchCount: 5.0, anon.DataWatchSeconds: 100.0,
		anon.DataFirstVisit: 2000.0, anon.DataLastVisit: 5000.0,
		anon.DataConvertedAt: 1.0, "site": "kept",
	}
	stub := map[string]any{
		anon.DataWatchCount: 3.0, anon.DataWatchSeconds: 42.0,
		anon.DataFirstVisit: 1000.0, anon.DataLastVisit: 9000.0,
		anon.DataAnonymous: true, anon.DataEmailRequested: "x@example.com", anon.DataVisitSeconds: 7.0,
		"site": "dropped",
	}
	got := anon.MergeData(account, stub)
	want := map[string]any{
		anon.DataWatchCount: int64(8), anon.DataWatchSeconds: int64(142),
		anon.DataFirstVisit: int64(1000), anon.DataLastVisit: int64(9000),
		anon.DataConvertedAt: 1.0, "site": "kept",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeData=%v, want %v", got, want)
	}
	if account[anon.DataWatchCount] != 5.0 {
		t.Error("MergeData modified the account's map")
	}
	// A key the account lacks takes the stub's value, whatever its rule.
	if got := anon.MergeData(nil, map[string]any{anon.DataFirstVisit: 7.0}); got[anon.DataFirstVisit] != 7.0 {
		t.Errorf("first visit onto an account without one: %v", got)
	}
}

// TestEveryRuleCombines pins each rule on two values.
func TestEveryRuleCombines(t *testing.T) {
	defer func(s []anon.Key) { anon.Schema = s }(anon.Schema)
	anon.Schema = []anon.Key{
		{Name: "sum", Merge: anon.Sum}, {Name: "max", Merge: anon.Max}, {Name: "min", Merge: anon.Min},
		{Name: "earliest", Merge: anon.Earliest}, {Name: "latest", Merge: anon.Latest},
		{Name: "union", Merge: anon.Union}, {Name: "own", Merge: anon.Own},
	}
	a := map[string]any{"sum": 2.0, "max": 2.0, "min": 2.0, "earliest": 2.0, "latest": 2.0, "union": []any{"a", "b"}, "own": "mine"}
	s := map[string]any{"sum": 3.0, "max": 3.0, "min": 3.0, "earliest": 3.0, "latest": 3.0, "union": []any{"b", "c"}, "own": "theirs"}
	got := anon.MergeData(a, s)
	want := map[string]any{"sum": int64(5), "max": int64(3), "min": int64(2), "earliest": int64(2), "latest": int64(3), "union": []string{"a", "b", "c"}, "own": "mine"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeData=%v, want %v", got, want)
	}
	if k, ok := anon.SchemaKey("min"); !ok || k.Merge != anon.Min {
		t.Errorf("SchemaKey(min)=%v,%v", k, ok)
	}
	if k, ok := anon.SchemaKey("sum"); !ok || k.Merge != anon.Sum {
		t.Errorf("SchemaKey of the first key=%v,%v", k, ok)
	}
	if _, ok := anon.SchemaKey("nope"); ok {
		t.Error("SchemaKey found an undeclared key")
	}
}

// TestTotalsAddUpWhatVisitorsAccrue: only Number keys summed at the merge, each
// present even when no profile holds it.
func TestTotalsAddUpWhatVisitorsAccrue(t *testing.T) {
	defer func(s []anon.Key) { anon.Schema = s }(anon.Schema)
	anon.Schema = []anon.Key{
		{Name: "visits", Kind: anon.Number, Merge: anon.Sum}, {Name: "seconds", Kind: anon.Number, Merge: anon.Sum},
		{Name: "best", Kind: anon.Number, Merge: anon.Max}, {Name: "firstAt", Kind: anon.Instant, Merge: anon.Sum},
	}
	got := anon.Totals(map[string]any{"visits": 2.0, "best": 9.0, "firstAt": 5.0}, map[string]any{"visits": 3.0}, nil)
	want := map[string]int64{"visits": 5, "seconds": 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Totals=%v, want %v", got, want)
	}
}

// progressEnv is the video function's Service on a fake clock, against the stand-in.
type progressEnv struct {
	*mergeEnv
	clock  *clocktest.Clock
	visits *anon.Service
	video  *faclient.Client
}

func newProgressEnv(t *testing.T) *progressEnv {
	t.Helper()
	m := newMergeEnv(t)
	video, err := faclient.New(faclient.Options{BaseURL: m.fa.URL(), TenantID: m.fa.Variable("visitorTenantId"), Keys: faclient.StaticKey(m.fa.Variable("videoApiKey"))})
	if err != nil {
		t.Fatal(err)
	}
	clock := clocktest.New(time.UnixMilli(1_800_000_000_000))
	return &progressEnv{mergeEnv: m, clock: clock, video: video,
		visits: anon.NewWith(video, lock.NewMemory(), anon.Options{VideoSeconds: 600, Now: clock.Now})}
}

// TestProgressCreditedExactlyUnderConcurrentReports: 20 reports of 1 s at once, 30 s
// into a visit, are each credited once: 20 s, no report lost or counted twice.
func TestProgressCreditedExactlyUnderConcurrentReports(t *testing.T) {
	e := newProgressEnv(t)
	p, err := e.visits.StartProfile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 20 {
		wg.Go(func() {
			_, n, err := e.visits.RecordProgress(context.Background(), p.UserID, 1, false)
			if err != nil {
				t.Errorf("RecordProgress: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	d := e.data(t, p.UserID)
	if total != 20 || d[anon.DataWatchSeconds] != 20.0 || d[anon.DataVisitSeconds] != 20.0 {
		t.Errorf("credited %d, stored watchSeconds %v visitSeconds %v; want 20, 20, 20", total, d[anon.DataWatchSeconds], d[anon.DataVisitSeconds])
	}
}

// TestInflatedProgressIsCapped: a report is credited no more than the time since the
// visit began less what it was credited, nor more than the video per visit; a new
// visit starts a new allowance; a stub that became an account is refused.
func TestInflatedProgressIsCapped(t *testing.T) {
	e := newProgressEnv(t)
	ctx := context.Background()
	p, err := e.visits.StartProfile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := e.clock.Now().UnixMilli()
	e.clock.Advance(10 * time.Second)
	if _, n, _ := e.visits.RecordProgress(ctx, p.UserID, 1000, false); n != 10 {
		t.Errorf("1000 s reported 10 s into the visit: credited %d, want 10", n)
	}
	if _, n, _ := e.visits.RecordProgress(ctx, p.UserID, 5, false); n != 0 {
		t.Errorf("a second report at the same instant: credited %d, want 0", n)
	}
	e.clock.Advance(time.Hour)
	if got, n, _ := e.visits.RecordProgress(ctx, p.UserID, 5000, false); n != 590 || got.WatchSeconds != 600 {
		t.Errorf("5000 s an hour later: credited %d (total %d), want 590 (the video's 600 s a visit)", n, got.WatchSeconds)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.visits.RecordWatch(ctx, p.UserID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second)
	if got, n, _ := e.visits.RecordProgress(ctx, p.UserID, 20, false); n != 20 || got.WatchSeconds != 620 {
		t.Errorf("a new visit: credited %d (total %d), want 20 (620)", n, got.WatchSeconds)
	}
	d := e.data(t, p.UserID)
	if d[anon.DataFirstVisit] != float64(first) || d[anon.DataLastVisit] != float64(first+10_000+3_660_000) {
		t.Errorf("first visit %v last %v, want %d and %d", d[anon.DataFirstVisit], d[anon.DataLastVisit], first, first+10_000+3_660_000)
	}
	if _, err := e.admin.PatchUser(ctx, p.UserID, map[string]any{"user": map[string]any{"data": map[string]any{anon.DataAnonymous: false}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.visits.RecordProgress(ctx, p.UserID, 5, false); err == nil {
		t.Error("progress through the visitor cookie on an account: want ErrNotAnonymous")
	}
	e.clock.Advance(5 * time.Second)
	if _, n, err := e.visits.RecordProgress(ctx, p.UserID, 5, true); err != nil || n != 5 {
		t.Errorf("progress on the signed-in account: %d, %v; want 5 credited", n, err)
	}
}

// TestVideoLengthDefaults: a Service given no length credits a visit at most the sample
// video's 15 s.
func TestVideoLengthDefaults(t *testing.T) {
	e := newProgressEnv(t)
	visits := anon.NewWith(e.video, lock.NewMemory(), anon.Options{Now: e.clock.Now})
	p, err := visits.StartProfile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, n, err := visits.RecordProgress(context.Background(), p.UserID, 100, false); err != nil || n != anon.DefaultVideoSeconds {
		t.Errorf("credited %d, %v; want the default video length %d", n, err, anon.DefaultVideoSeconds)
	}
}
