package anon_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/lock"
)

// mergeEnv is the register function's client against the stand-in, and an admin.
type mergeEnv struct {
	fa    *fatest.Server
	store *faclient.Client // the register function's key
	admin *faclient.Client
}

func newMergeEnv(t *testing.T) *mergeEnv {
	t.Helper()
	fa := fatest.NewTestServer(t, fatest.Options{})
	client := func(key string) *faclient.Client {
		c, err := faclient.New(faclient.Options{BaseURL: fa.URL(), TenantID: fa.Variable("visitorTenantId"), Keys: faclient.StaticKey(fa.Variable(key))})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return &mergeEnv{fa: fa, store: client("registerApiKey"), admin: client("apiKey")}
}

func (m *mergeEnv) user(t *testing.T, data map[string]any) string {
	t.Helper()
	u, err := m.admin.CreateUser(context.Background(), "", faclient.UserRequest{User: faclient.User{Username: "u-" + anonRandom(t), Password: "long-enough-password", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	return u.User.ID
}

func anonRandom(t *testing.T) string {
	s, err := anon.RandomString(12)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (m *mergeEnv) data(t *testing.T, id string) map[string]any {
	t.Helper()
	u, err := m.admin.RetrieveUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u.User.Data
}

// accountAndStub creates an account with 5 watches and a stub with 3.
func (m *mergeEnv) accountAndStub(t *testing.T) (account, stub string) {
	t.Helper()
	return m.user(t, map[string]any{"watchCount": 5}), m.user(t, map[string]any{"anonymousUser": true, "watchCount": 3})
}

// accountsOver is the sign-in's Accounts over store.
func accountsOver(store anon.ConversionStore) *anon.Accounts {
	return anon.NewAccounts(store, anon.NewConverter(store, lock.NewMemory(), anon.ConverterOptions{}))
}

func TestMergeAddsTheStubOnceAndDeletesIt(t *testing.T) {
	m := newMergeEnv(t)
	ctx := context.Background()
	account, stub := m.accountAndStub(t)
	a := accountsOver(m.store)
	m.fa.ResetCalls()
	settled, err := a.SignedIn(ctx, account, stub)
	if err != nil || settled != anon.Merged {
		t.Fatalf("SignedIn=%v, %v; want Merged", settled, err)
	}
	if got := m.fa.TotalCalls(); got != 4 {
		t.Errorf("FusionAuth calls %d, want 4 (read stub, read account, patch, delete)", got)
	}
	d := m.data(t, account)
	if d["watchCount"] != float64(8) || len(d[anon.DataMergedStubs].([]any)) != 1 || d["anonymousUser"] != nil {
		t.Errorf("account data %v, want watchCount 8, the stub recorded, no anonymous marker", d)
	}
	if _, err := m.admin.RetrieveUser(ctx, stub); !faclient.IsNotFound(err) {
		t.Errorf("stub after merge: %v, want deleted", err)
	}
	if settled, err := a.SignedIn(ctx, account, stub); err != nil || settled != anon.NothingToSettle {
		t.Errorf("second merge of the same stub: %v, %v; want nothing to settle", settled, err)
	}
	if got := m.data(t, account)["watchCount"]; got != float64(8) {
		t.Errorf("watchCount after the second merge %v, want 8", got)
	}
}

func TestMergeLeavesAccountsAlone(t *testing.T) {
	m := newMergeEnv(t)
	account := m.user(t, map[string]any{"watchCount": 5})
	other := m.user(t, map[string]any{"anonymousUser": false, "watchCount": 9}) // a converted profile: someone's account
	a := accountsOver(m.store)
	if merged, err := a.Merge(context.Background(), other, account); err != nil || merged {
		t.Fatalf("Merge of an account: %v, %v; want nothing merged", merged, err)
	}
	if got := m.data(t, account)["watchCount"]; got != float64(5) {
		t.Errorf("account %v, want 5", got)
	}
	if got := m.data(t, other)["watchCount"]; got != float64(9) {
		t.Errorf("the other account %v, want 9 and still there", got)
	}
}

func TestMergeIntoAnAccountWithoutData(t *testing.T) {
	m := newMergeEnv(t)
	account := m.user(t, nil)
	stub := m.user(t, map[string]any{"anonymousUser": true, "watchCount": 2})
	a := accountsOver(m.store)
	if merged, err := a.Merge(context.Background(), stub, account); err != nil || !merged {
		t.Fatalf("Merge=%v, %v", merged, err)
	}
	if got := m.data(t, account)["watchCount"]; got != float64(2) {
		t.Errorf("watchCount %v, want 2", got)
	}
}

// racingStore writes to the account between the merge's read and its patch, as a visit
// on another device would: the merge's test fails, and the merge must read again and
// keep that write.
type racingStore struct {
	*faclient.Client
	admin   *faclient.Client
	account string
	races   int
}

func (r *racingStore) PatchUserJSONPatch(ctx context.Context, id string, ops []faclient.PatchOperation) (*faclient.UserResponse, error) {
	if r.races > 0 {
		r.races--
		u, err := r.admin.RetrieveUser(ctx, r.account)
		if err != nil {
			return nil, err
		}
		n, _ := u.User.Data["watchCount"].(float64)
		if _, err := r.admin.PatchUser(ctx, r.account, map[string]any{"user": map[string]any{"data": map[string]any{"watchCount": n + 1}}}); err != nil {
			return nil, err
		}
	}
	return r.Client.PatchUserJSONPatch(ctx, id, ops)
}

func TestMergeKeepsAConcurrentVisit(t *testing.T) {
	m := newMergeEnv(t)
	account, stub := m.accountAndStub(t)
	store := &racingStore{Client: m.store, admin: m.admin, account: account, races: 2}
	a := accountsOver(store)
	if merged, err := a.Merge(context.Background(), stub, account); err != nil || !merged {
		t.Fatalf("Merge=%v, %v", merged, err)
	}
	if got := m.data(t, account)["watchCount"]; got != float64(10) {
		t.Errorf("watchCount %v, want 10 (5 + two visits during the merge + the stub's 3)", got)
	}
}

func TestMergeGivesUpWhenTheAccountNeverSettles(t *testing.T) {
	m := newMergeEnv(t)
	account, stub := m.accountAndStub(t)
	store := &racingStore{Client: m.store, admin: m.admin, account: account, races: 100}
	a := accountsOver(store).WithoutWaits()
	merged, err := a.Merge(context.Background(), stub, account)
	if merged || !errors.Is(err, anon.ErrContended) {
		t.Fatalf("Merge=%v, %v; want ErrContended after the bounded retries", merged, err)
	}
	if _, err := m.admin.RetrieveUser(context.Background(), stub); err != nil {
		t.Errorf("stub after a failed merge: %v, want kept", err)
	}
}

// TestMergeReportsAStubItCouldNotDelete: the stub's delete fails after its count was
// added. The caller hears of it (the stub still exists and still names the count), and
// the next sign-in with the same cookie deletes the stub without adding its count twice.
func TestMergeReportsAStubItCouldNotDelete(t *testing.T) {
	m := newMergeEnv(t)
	ctx := context.Background()
	account, stub := m.accountAndStub(t)
	a := accountsOver(m.store)
	m.fa.InjectFault("DELETE /api/user/{userId}", http.StatusInternalServerError, 1)
	merged, err := a.Merge(ctx, stub, account)
	if !merged || !errors.Is(err, anon.ErrUnavailable) {
		t.Fatalf("Merge with the stub's delete failing = %v, %v; want merged and ErrUnavailable", merged, err)
	}
	if got := m.data(t, account)["watchCount"]; got != float64(8) {
		t.Errorf("watchCount %v, want 8", got)
	}
	if settled, err := a.SignedIn(ctx, account, stub); err != nil || settled != anon.Merged {
		t.Fatalf("the next sign-in with the cookie: %v, %v; want the merge finished", settled, err)
	}
	if got := m.data(t, account)["watchCount"]; got != float64(8) {
		t.Errorf("watchCount after the repeated merge %v, want still 8", got)
	}
	if _, err := m.admin.RetrieveUser(ctx, stub); !faclient.IsNotFound(err) {
		t.Errorf("stub after the repeated merge: %v, want deleted", err)
	}
}

// TestMergedStubsStayBounded: an account that many stubs were merged into keeps only
// the newest maxMergedStubs (20) of their ids, so its data does not grow with every
// device the person ever used, and the newest merge is still recognised.
func TestMergedStubsStayBounded(t *testing.T) {
	m := newMergeEnv(t)
	ctx := context.Background()
	account := m.user(t, map[string]any{"watchCount": 0})
	a := accountsOver(m.store)
	var stubs []string
	for range 22 {
		stub := m.user(t, map[string]any{"anonymousUser": true, "watchCount": 1})
		if merged, err := a.Merge(ctx, stub, account); err != nil || !merged {
			t.Fatalf("Merge=%v, %v", merged, err)
		}
		stubs = append(stubs, stub)
	}
	d := m.data(t, account)
	got, _ := d[anon.DataMergedStubs].([]any)
	if d["watchCount"] != float64(22) || len(got) != 20 || got[0] != stubs[2] || got[19] != stubs[21] {
		t.Errorf("account data %v, want watchCount 22 and the newest 20 stubs, oldest first", d)
	}
}

// TestSigningInAsTheStubConvertsIt: the person signed in as the very user their
// anonymous cookie names (they proved its address and logged in): the stub becomes an
// account here, whether or not the webhook got there first. A FusionAuth outage is
// reported, with nothing settled.
func TestSigningInAsTheStubConvertsIt(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	stub := s.stub(t)
	s.request(t, stub, "me@example.com")
	s.setPassword(t, "me@example.com")
	a := anon.NewAccounts(s.client, s.conv)
	s.fa.InjectFault("GET /api/user/{userId}", http.StatusServiceUnavailable, 3)
	if settled, err := a.SignedIn(ctx, stub, stub); settled != anon.NothingToSettle || !errors.Is(err, anon.ErrUnavailable) {
		t.Errorf("FusionAuth failing: %v, %v; want nothing settled and ErrUnavailable", settled, err)
	}
	if settled, err := a.SignedIn(ctx, stub, stub); settled != anon.Converted || err != nil {
		t.Fatalf("SignedIn as the stub = %v, %v; want Converted", settled, err)
	}
	if u := s.user(t, stub); u.Data[anon.DataAnonymous] != false || u.Username != "" {
		t.Errorf("after sign-in: username %q data %v, want a converted account", u.Username, u.Data)
	}
}

// TestMergeAppliesEveryRuleInOneWrite: the merge at sign-in sums watch time and keeps the
// earliest first visit and the latest last one, in the account's one write, and does not
// carry the stub's own keys.
func TestMergeAppliesEveryRuleInOneWrite(t *testing.T) {
	m := newMergeEnv(t)
	account := m.user(t, map[string]any{"watchCount": 5, anon.DataWatchSeconds: 100, anon.DataFirstVisit: 2000, anon.DataLastVisit: 5000})
	stub := m.user(t, map[string]any{"anonymousUser": true, "watchCount": 3, anon.DataWatchSeconds: 42,
		anon.DataFirstVisit: 1000, anon.DataLastVisit: 9000, anon.DataVisitSeconds: 7, anon.DataEmailRequested: "x@example.com"})
	m.fa.ResetCalls()
	if settled, err := accountsOver(m.store).SignedIn(context.Background(), account, stub); err != nil || settled != anon.Merged {
		t.Fatalf("SignedIn=%v, %v; want Merged", settled, err)
	}
	if n := m.fa.Calls("PATCH /api/user/{userId}"); n != 1 {
		t.Errorf("account writes %d, want 1", n)
	}
	d := m.data(t, account)
	if d["watchCount"] != 8.0 || d[anon.DataWatchSeconds] != 142.0 || d[anon.DataFirstVisit] != 1000.0 || d[anon.DataLastVisit] != 9000.0 {
		t.Errorf("merged %v, want watchCount 8, watchSeconds 142, first visit 1000, last 9000", d)
	}
	if _, ok := d[anon.DataVisitSeconds]; ok || d[anon.DataEmailRequested] != nil {
		t.Errorf("the stub's own keys carried over: %v", d)
	}
}
