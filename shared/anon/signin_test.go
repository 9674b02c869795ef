package anon_test

import (
	"context"
	"errors"
	"testing"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
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

func TestMergeAddsTheStubOnceAndDeletesIt(t *testing.T) {
	m := newMergeEnv(t)
	ctx := context.Background()
	account := m.user(t, map[string]any{"watchCount": 5})
	stub := m.user(t, map[string]any{"anonymousUser": true, "watchCount": 3})
	a := anon.NewAccounts(m.store, anon.NewConverter(m.store, anon.ConverterOptions{}))
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
	a := anon.NewAccounts(m.store, anon.NewConverter(m.store, anon.ConverterOptions{}))
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
	a := anon.NewAccounts(m.store, anon.NewConverter(m.store, anon.ConverterOptions{}))
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
	account := m.user(t, map[string]any{"watchCount": 5})
	stub := m.user(t, map[string]any{"anonymousUser": true, "watchCount": 3})
	store := &racingStore{Client: m.store, admin: m.admin, account: account, races: 2}
	a := anon.NewAccounts(store, anon.NewConverter(store, anon.ConverterOptions{}))
	if merged, err := a.Merge(context.Background(), stub, account); err != nil || !merged {
		t.Fatalf("Merge=%v, %v", merged, err)
	}
	if got := m.data(t, account)["watchCount"]; got != float64(10) {
		t.Errorf("watchCount %v, want 10 (5 + two visits during the merge + the stub's 3)", got)
	}
}

func TestMergeGivesUpWhenTheAccountNeverSettles(t *testing.T) {
	m := newMergeEnv(t)
	account := m.user(t, map[string]any{"watchCount": 5})
	stub := m.user(t, map[string]any{"anonymousUser": true, "watchCount": 3})
	store := &racingStore{Client: m.store, admin: m.admin, account: account, races: 100}
	a := anon.NewAccounts(store, anon.NewConverter(store, anon.ConverterOptions{}))
	merged, err := a.Merge(context.Background(), stub, account)
	if merged || !errors.Is(err, anon.ErrContended) {
		t.Fatalf("Merge=%v, %v; want ErrContended after the bounded retries", merged, err)
	}
	if _, err := m.admin.RetrieveUser(context.Background(), stub); err != nil {
		t.Errorf("stub after a failed merge: %v, want kept", err)
	}
}
