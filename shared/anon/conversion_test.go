package anon_test

// The domain's rules against the stand-in, each through the function that owns it:
// the test-and-set update, the conversion request's plans, limits and emails, the
// conversion and the release.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/lock"
)

const signInURL = "https://fusionauth.example/oauth2/authorize?client_id=app"

type stand struct {
	fa     *fatest.Server
	clock  *clocktest.Clock
	client *faclient.Client // the register function's key, in the visitors' tenant
	admin  *faclient.Client
	conv   *anon.Converter
	visits *anon.Service
	locks  *lock.Memory // the profile leases every part of the stand shares
}

func newStand(tb testing.TB) *stand {
	tb.Helper()
	s := &stand{clock: clocktest.New(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))}
	s.fa = fatest.NewTestServer(tb, fatest.Options{Now: s.clock.Now})
	client := func(key string) *faclient.Client {
		c, err := faclient.New(faclient.Options{BaseURL: s.fa.URL(), TenantID: s.fa.Variable("visitorTenantId"), Keys: faclient.StaticKey(s.fa.Variable(key))})
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	s.client, s.admin = client("registerApiKey"), client("apiKey")
	s.locks = lock.NewMemory()
	s.conv = anon.NewConverter(s.client, s.locks, anon.ConverterOptions{
		ApplicationID:           s.fa.Variable("applicationId"),
		AccountExistsTemplateID: s.fa.Variable("accountExistsEmailTemplateId"),
		SignInURL:               signInURL,
		Now:                     s.clock.Now,
	})
	s.visits = anon.New(s.client, s.locks)
	return s
}

func (s *stand) stub(tb testing.TB) string {
	tb.Helper()
	p, err := s.visits.StartProfile(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return p.UserID
}

func (s *stand) user(tb testing.TB, id string) faclient.User {
	tb.Helper()
	u, err := s.admin.RetrieveUser(context.Background(), id)
	if err != nil {
		tb.Fatalf("read user %s: %v", id, err)
	}
	return u.User
}

// request asks for email on the profile of id; tb nil (inside a racing store) panics on
// an error instead.
func (s *stand) request(tb testing.TB, id, email string) string {
	req, err := s.conv.RequestConversion(context.Background(), id, email)
	holder := req.Holder
	if err != nil {
		if tb == nil {
			panic(err)
		}
		tb.Helper()
		tb.Fatalf("RequestConversion(%s): %v", email, err)
	}
	return holder
}

// setPassword follows the newest set-password email to address a few seconds later.
func (s *stand) setPassword(tb testing.TB, address string) string {
	tb.Helper()
	out := s.fa.Outbox()
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].To == address && out[i].ChangePasswordID != "" {
			s.clock.Advance(2 * time.Second)
			const password = "a password set by link"
			if _, err := s.admin.ChangePassword(context.Background(), out[i].ChangePasswordID, faclient.ChangePasswordRequest{Password: password}); err != nil {
				tb.Fatal(err)
			}
			return password
		}
	}
	tb.Fatalf("no set-password email to %s", address)
	return ""
}

func (s *stand) sent(address string) []fatest.Email {
	var out []fatest.Email
	for _, m := range s.fa.Outbox() {
		if strings.EqualFold(m.To, address) {
			out = append(out, m)
		}
	}
	return out
}

// countingStore counts calls and can run something before a PATCH.
type countingStore struct {
	*faclient.Client
	mu          sync.Mutex
	reads       int
	patches     []([]faclient.PatchOperation)
	beforePatch func(n int) // n: this PATCH's number, from 1
}

func (c *countingStore) RetrieveUser(ctx context.Context, id string) (*faclient.UserResponse, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Client.RetrieveUser(ctx, id)
}

func (c *countingStore) PatchUserJSONPatch(ctx context.Context, id string, ops []faclient.PatchOperation) (*faclient.UserResponse, error) {
	c.mu.Lock()
	c.patches = append(c.patches, ops)
	n := len(c.patches)
	c.mu.Unlock()
	if c.beforePatch != nil {
		c.beforePatch(n)
	}
	return c.Client.PatchUserJSONPatch(ctx, id, ops)
}

func TestUpdateGuardsAndRetries(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	before := s.user(t, id)
	store := &countingStore{Client: s.client}
	store.beforePatch = func(n int) {
		if n == 1 { // another writer comes first
			if _, err := s.admin.PatchUser(context.Background(), id, map[string]any{"user": map[string]any{"data": map[string]any{"other": "x"}}}); err != nil {
				t.Error(err)
			}
		}
	}
	calls := 0
	got, err := anon.NewUpdater(store, lock.NewMemory()).Update(context.Background(), id, func(u faclient.User) (anon.Edit, error) {
		calls++
		u.Data["watchCount"] = u.Data["watchCount"].(float64) + 1
		return anon.Edit{Data: u.Data}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || store.reads != 2 || len(store.patches) != 2 {
		t.Errorf("change called %d times, %d reads, %d patches; want 2 of each (overtaken once, then applied)", calls, store.reads, len(store.patches))
	}
	if got.Data["watchCount"] != float64(2) || got.Data["other"] != "x" {
		t.Errorf("data %v, want the count and the other writer's key", got.Data)
	}
	first := store.patches[0]
	if len(first) != 3 || first[0].Op != "test" || first[0].Path != "/user/lastUpdateInstant" || first[0].Value != before.LastUpdateInstant ||
		first[1].Op != "test" || first[1].Path != "/user/data" || first[1].Value.(map[string]any)["watchCount"] != float64(1) ||
		first[2].Op != "replace" || first[2].Path != "/user/data" {
		t.Errorf("first patch %+v, want tests of lastUpdateInstant and of data as read (watchCount 1), then the replace", first)
	}
}

func TestUpdateAddsDataToAUserWithout(t *testing.T) {
	s := newStand(t)
	created, err := s.admin.CreateUser(context.Background(), "", faclient.UserRequest{User: faclient.User{Username: "no-data-user", Password: "a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Client: s.client}
	got, err := anon.NewUpdater(store, lock.NewMemory()).Update(context.Background(), created.User.ID, func(u faclient.User) (anon.Edit, error) {
		return anon.Edit{Data: map[string]any{"watchCount": 1}}, nil
	})
	if err != nil || got.Data["watchCount"] != float64(1) {
		t.Fatalf("data %v err %v, want watchCount 1 added", got.Data, err)
	}
	if ops := store.patches[0]; len(ops) != 2 || ops[1].Op != "add" {
		t.Errorf("patch %+v, want one test (no data to test) and an add", ops)
	}
}

func TestUpdateGivesUpAfterTwentyAttempts(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	s.fa.InjectFaultCode("PATCH /api/user/{userId}", http.StatusBadRequest, "[JSONPatchTestFailed]", 1000)
	store := &countingStore{Client: s.client}
	got, err := anon.NewUpdater(store, lock.NewMemory()).WithoutWaits().Update(context.Background(), id, func(u faclient.User) (anon.Edit, error) {
		u.Data["watchCount"] = 99
		return anon.Edit{Data: u.Data}, nil
	})
	if !errors.Is(err, anon.ErrContended) || len(store.patches) != 20 {
		t.Errorf("err=%v after %d patches, want ErrContended after 20", err, len(store.patches))
	}
	if got.ID != id || got.Data["watchCount"] != float64(1) {
		t.Errorf("user returned %s data %v, want it as last read", got.ID, got.Data)
	}
}

func TestUpdateEdgeCases(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	store := &countingStore{Client: s.client}
	up := anon.NewUpdater(store, lock.NewMemory())
	ctx := context.Background()
	u, err := up.Update(ctx, id, func(faclient.User) (anon.Edit, error) { return anon.Edit{}, nil })
	if err != nil || u.ID != id || len(store.patches) != 0 {
		t.Errorf("empty edit: %v, %d patches; want the user read and nothing written", err, len(store.patches))
	}
	if _, err := up.Update(ctx, id, func(faclient.User) (anon.Edit, error) {
		return anon.Edit{Ops: []faclient.PatchOperation{{Op: "add", Path: "/user/firstName", Value: "Ops only"}}}, nil
	}); err != nil || s.user(t, id).FirstName != "Ops only" {
		t.Errorf("an edit of operations only: %v", err)
	}
	boom := errors.New("boom")
	if _, err := up.Update(ctx, id, func(faclient.User) (anon.Edit, error) { return anon.Edit{}, boom }); !errors.Is(err, boom) {
		t.Errorf("the change's error: %v, want it returned", err)
	}
	if err := s.admin.DeleteUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := up.Update(ctx, id, func(faclient.User) (anon.Edit, error) { return anon.Edit{}, nil }); !errors.Is(err, anon.ErrGone) {
		t.Errorf("a deleted user: %v, want ErrGone", err)
	}
	s.fa.ResetCalls()
	for _, bad := range []string{"", "not-a-user-id"} {
		if _, err := up.Update(ctx, bad, func(faclient.User) (anon.Edit, error) { return anon.Edit{}, nil }); !errors.Is(err, anon.ErrGone) {
			t.Errorf("id %q: %v, want ErrGone", bad, err)
		}
	}
	if n := s.fa.Calls("GET /api/user/{userId}"); n != 0 {
		t.Errorf("ids that are not user ids cost %d FusionAuth reads, want 0", n)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	id = s.stub(t)
	s.fa.InjectFaultCode("PATCH /api/user/{userId}", http.StatusBadRequest, "[JSONPatchTestFailed]", 1)
	if _, err := up.Update(cancelled, id, func(u faclient.User) (anon.Edit, error) { return anon.Edit{Data: u.Data}, nil }); !errors.Is(err, anon.ErrUnavailable) {
		t.Errorf("cancelled while waiting to retry: %v, want ErrUnavailable", err)
	}
}

func TestRecordWatchAndProfile(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	p, err := s.visits.RecordWatch(context.Background(), id)
	if err != nil || p.WatchCount != 2 || !p.Anonymous || p.EmailPending || p.Email != "" {
		t.Errorf("profile %+v err %v, want 2 watches, anonymous, no address", p, err)
	}
	s.request(t, id, "someone@example.com")
	p = anon.ProfileOf(s.user(t, id))
	if p.Email != "someone@example.com" || !p.EmailPending {
		t.Errorf("profile %+v, want the address pending", p)
	}
}

// TestPagesReadWithoutCounting: the register page (Visitor) and the landing after
// sign-in (Account) read the profile without counting a watch; a profile deleted since
// (prune, a merge) is ErrGone, so the page starts over instead of showing a stale one.
func TestPagesReadWithoutCounting(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	id := s.stub(t)
	if p, err := s.conv.Visitor(ctx, id); err != nil || p.UserID != id || p.WatchCount != 1 {
		t.Errorf("Visitor = %+v, %v; want the profile with its 1 watch", p, err)
	}
	if p, err := s.visits.Account(ctx, id); err != nil || p.UserID != id || p.WatchCount != 1 {
		t.Errorf("Account = %+v, %v; want the profile with its 1 watch, still 1", p, err)
	}
	if err := s.admin.DeleteUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conv.Visitor(ctx, id); !errors.Is(err, anon.ErrGone) {
		t.Errorf("Visitor of a deleted profile: %v, want ErrGone", err)
	}
	if _, err := s.visits.Account(ctx, id); !errors.Is(err, anon.ErrGone) {
		t.Errorf("Account of a deleted account: %v, want ErrGone", err)
	}
}

func TestFirstAddressInPlace(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	s.client.Counter().Reset()
	if got := s.request(t, id, "first@example.com"); got != id {
		t.Errorf("holder %s, want the same stub %s", got, id)
	}
	if n := s.client.Counter().Total(); n != 3 {
		t.Errorf("calls %v, want 3", s.client.Counter().Snapshot())
	}
	u := s.user(t, id)
	if u.Email != "first@example.com" || u.Data[anon.DataEmailRequested] != "first@example.com" || u.Data[anon.DataEmailPending] != float64(s.clock.Now().UnixMilli()) ||
		u.Data[anon.DataEmailLastSentTo] != "first@example.com" || len(u.Data[anon.DataEmailSends].([]any)) != 1 {
		t.Errorf("user %q data %v, want the address, its request, emailPendingSince now and one send", u.Email, u.Data)
	}
	if out := s.sent("first@example.com"); len(out) != 1 || out[0].State["anon_user"] != "true" || out[0].ChangePasswordID == "" {
		t.Errorf("emails %+v, want one set-password email", out)
	}
}

func TestFirstAddressTaken(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	taken := s.fa.Variable("regularEmail")
	s.client.Counter().Reset()
	if got := s.request(t, id, taken); got != id {
		t.Errorf("holder %s, want %s", got, id)
	}
	if got := s.client.Counter().Snapshot(); s.client.Counter().Total() != 4 || got["GET /api/user/{userId}"] != 1 || got["PATCH /api/user/{userId}"] != 2 {
		t.Errorf("calls %v, want 4: read, the refused write, the record alone, send", got)
	}
	u := s.user(t, id)
	if u.Email != "" || u.Data[anon.DataEmailRequested] != taken || anon.ProfileOf(u).Email != taken {
		t.Errorf("user %q data %v, want no address, the taken one requested", u.Email, u.Data)
	}
	out := s.sent(taken)
	if len(out) != 1 || out[0].TemplateID != s.fa.Variable("accountExistsEmailTemplateId") || out[0].Link != signInURL || out[0].UserID != "" {
		t.Fatalf("emails %+v, want one account-exists email with the sign-in link", out)
	}
	// Again, a little later: the account-exists email again, no write of the address.
	s.clock.Advance(20 * time.Second)
	if got := s.request(t, id, taken); got != id || len(s.sent(taken)) != 2 || s.sent(taken)[1].TemplateID != s.fa.Variable("accountExistsEmailTemplateId") {
		t.Errorf("again: holder %s, emails %+v; want the same stub and a second account-exists email", got, s.sent(taken))
	}
	// Then a free one: the profile asked before, so it moves.
	s.clock.Advance(20 * time.Second)
	if got := s.request(t, id, "free@example.com"); got != anon.MovedID(id, "free@example.com") {
		t.Errorf("a free address after a taken one: holder %s, want the moved stub", got)
	}
}

func TestChangeOfAddressMoves(t *testing.T) {
	for name, tc := range map[string]struct {
		address func(s *stand) string
		calls   int
		holds   bool
	}{
		"free":  {func(*stand) string { return "second@example.com" }, 6, true},
		"taken": {func(s *stand) string { return s.fa.Variable("regularEmail") }, 6, false},
	} {
		t.Run(name, func(t *testing.T) {
			s := newStand(t)
			id := s.stub(t)
			s.request(t, id, "first@example.com")
			old := s.user(t, id)
			address := tc.address(s)
			s.clock.Advance(day)
			s.client.Counter().Reset()
			holder := s.request(t, id, address)
			if holder != anon.MovedID(id, address) || s.client.Counter().Total() != tc.calls {
				t.Errorf("holder %s, calls %v; want the moved stub and %d calls", holder, s.client.Counter().Snapshot(), tc.calls)
			}
			if _, ok := s.fa.User(id); ok {
				t.Error("the old stub still exists")
			}
			u := s.user(t, holder)
			if (u.Email == address) != tc.holds || u.Username == old.Username || u.Username == "" || anon.PasswordSet(u) ||
				u.Data[anon.DataEmailPending] != old.Data[anon.DataEmailPending] || u.Data[anon.DataEmailRequested] != address ||
				u.Data[anon.DataWatchCount] != old.Data[anon.DataWatchCount] || len(u.Data[anon.DataEmailSends].([]any)) != 2 {
				t.Errorf("moved stub: email %q username %q data %v", u.Email, u.Username, u.Data)
			}
			if out := s.sent(address); len(out) != 1 || (out[0].ChangePasswordID != "") != tc.holds {
				t.Errorf("emails to %s: %+v, want one: the set-password link when free, else the account-exists email", address, out)
			}
			if tc.holds {
				// The fresh stub's own password instant is the baseline: its hashing
				// gap proves nothing, the link does.
				if u.Data[anon.DataAddressPassword] != float64(u.PasswordLastUpdateInstant) {
					t.Errorf("moved stub: password record %v, want its password instant %d", u.Data[anon.DataAddressPassword], u.PasswordLastUpdateInstant)
				}
				s.setPassword(t, address)
				if !anon.ProvedAddress(s.user(t, holder)) {
					t.Error("the moved stub is not proved after its link")
				}
			}
		})
	}
}

// TestClaimRaces: a conversion request overtaken by a count re-applies and sends; one
// overtaken by another request's record sends nothing, and names the same profile.
func TestClaimRaces(t *testing.T) {
	for name, tc := range map[string]struct {
		before  string // the stub's address before ("": none)
		race    func(s *stand, id string)
		emails  int
		movesTo bool
	}{
		"overtaken by a count": {race: func(s *stand, id string) {
			if _, err := s.visits.RecordWatch(context.Background(), id); err != nil {
				panic(err)
			}
		}, emails: 1},
		"overtaken by the same request": {race: func(s *stand, id string) { s.request(nil, id, "raced@example.com") }, emails: 1},
		"overtaken by the same move": {before: "first@example.com", movesTo: true,
			race: func(s *stand, id string) { s.request(nil, id, "raced@example.com") }, emails: 1},
	} {
		t.Run(name, func(t *testing.T) {
			s := newStand(t)
			id := s.stub(t)
			if tc.before != "" {
				s.request(t, id, tc.before)
				s.clock.Advance(time.Minute)
			}
			store := &countingStore{Client: s.client}
			store.beforePatch = func(n int) {
				if n == 1 {
					tc.race(s, id)
				}
			}
			conv := anon.NewConverter(store, lock.NewMemory(), anon.ConverterOptions{AccountExistsTemplateID: s.fa.Variable("accountExistsEmailTemplateId"), Now: s.clock.Now})
			req, err := conv.RequestConversion(context.Background(), id, "raced@example.com")
			holder := req.Holder
			if err != nil {
				t.Fatal(err)
			}
			want := id
			if tc.movesTo {
				want = anon.MovedID(id, "raced@example.com")
			}
			if holder != want {
				t.Errorf("holder %s, want %s", holder, want)
			}
			if n := len(s.sent("raced@example.com")); n != tc.emails {
				t.Errorf("%d emails, want %d", n, tc.emails)
			}
			if got := watchCountOf(s.user(t, want)); name == "overtaken by a count" && got != 2 {
				t.Errorf("watchCount %d, want the racing count kept (2)", got)
			}
		})
	}
}

func watchCountOf(u faclient.User) int {
	n, _ := u.Data[anon.DataWatchCount].(float64)
	return int(n)
}

func TestMoveResumesAnInterruptedOne(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	s.request(t, id, "first@example.com")
	s.fa.InjectFault("DELETE /api/user/{userId}", http.StatusServiceUnavailable, 1)
	req, err := s.conv.RequestConversion(context.Background(), id, "second@example.com")
	holder := req.Holder
	if !errors.Is(err, anon.ErrUnavailable) || holder != anon.MovedID(id, "second@example.com") || len(s.sent("second@example.com")) != 0 {
		t.Fatalf("delete failed: holder %s err %v, %d emails; want the new stub named, ErrUnavailable and nothing sent", holder, err, len(s.sent("second@example.com")))
	}
	// The visitor still holds the old cookie if the answer was lost: asking again
	// finishes the move onto the same new stub.
	s.clock.Advance(20 * time.Second)
	if got := s.request(t, id, "second@example.com"); got != holder || len(s.sent("second@example.com")) != 1 {
		t.Errorf("asking again: holder %s, %d emails; want %s and one email", got, len(s.sent("second@example.com")), holder)
	}
	if _, ok := s.fa.User(id); ok {
		t.Error("the old stub survived the resumed move")
	}
}

func TestFollowAMoveMadeElsewhere(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	s.request(t, id, "first@example.com")
	moved := s.request(t, id, "second@example.com")
	if got, err := s.conv.RequestConversion(context.Background(), id, "second@example.com"); err != nil || got.Holder != moved {
		t.Errorf("the old id asking for the address it moved to: %s %v, want %s", got.Holder, err, moved)
	}
	if _, err := s.conv.RequestConversion(context.Background(), id, "third@example.com"); !errors.Is(err, anon.ErrGone) {
		t.Errorf("the old id asking for another address: %v, want ErrGone", err)
	}
}

func TestLimitsAndDuplicates(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	const address = "limited@example.com"
	t0 := s.clock.Now()
	for _, step := range []struct {
		at    time.Duration // after the first request
		sends int           // emails in all afterwards
		why   string
	}{
		{0, 1, "the first request"},
		{15 * time.Second, 1, "15 s later, to the millisecond: the same request (a second click)"},
		{15*time.Second + time.Millisecond, 2, "just after the duplicate window"},
		{30*time.Second + 2*time.Millisecond, 3, "the third within the hour"},
		{45*time.Second + 3*time.Millisecond, 3, "over the hour's limit of 3"},
		{time.Hour, 3, "an hour after the first send, to the millisecond: it still counts"},
		{time.Hour + time.Millisecond, 4, "the first send left the hour"},
		{time.Hour + time.Minute + time.Millisecond, 5, "the fifth of the day"},
		{3*time.Hour + time.Minute, 5, "over the day's limit of 5"},
		{day, 5, "a day after the first send, to the millisecond: it still counts"},
		{day + time.Millisecond, 6, "the first send left the day"},
	} {
		s.clock.Set(t0.Add(step.at))
		if holder := s.request(t, id, address); holder != id {
			t.Fatalf("%s: holder %s, want the same stub", step.why, holder)
		}
		if n := len(s.sent(address)); n != step.sends {
			t.Errorf("%s: %d emails in all, want %d", step.why, n, step.sends)
		}
	}
	if sends := s.user(t, id).Data[anon.DataEmailSends].([]any); len(sends) != 5 {
		t.Errorf("the send log holds %d entries, want the last day's 5", len(sends))
	}
}

func TestFailedSendIsTakenBack(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	s.fa.InjectFault("POST /api/user/forgot-password", http.StatusServiceUnavailable, 1)
	if _, err := s.conv.RequestConversion(context.Background(), id, "later@example.com"); !errors.Is(err, anon.ErrEmailNotSent) {
		t.Fatalf("err=%v, want ErrEmailNotSent", err)
	}
	u := s.user(t, id)
	if sends, _ := u.Data[anon.DataEmailSends].([]any); len(sends) != 0 || u.Data[anon.DataEmailLastSentTo] != nil || u.Email != "later@example.com" {
		t.Errorf("after the failed send: email %q data %v; want the address kept and the send taken back", u.Email, u.Data)
	}
	s.request(t, id, "later@example.com") // at once: not a duplicate of a send that did not happen
	if n := len(s.sent("later@example.com")); n != 1 {
		t.Errorf("%d emails, want 1", n)
	}
	s.fa.InjectFault("POST /api/email/send/{emailTemplateId}", http.StatusServiceUnavailable, 1)
	if _, err := s.conv.RequestConversion(context.Background(), s.stub(t), s.fa.Variable("regularEmail")); !errors.Is(err, anon.ErrEmailNotSent) {
		t.Errorf("account-exists email failing: %v, want ErrEmailNotSent", err)
	}
	noTemplate := anon.NewConverter(s.client, lock.NewMemory(), anon.ConverterOptions{Now: s.clock.Now})
	if _, err := noTemplate.RequestConversion(context.Background(), s.stub(t), s.fa.Variable("regularEmail")); !errors.Is(err, anon.ErrEmailNotSent) {
		t.Errorf("no account-exists template: %v, want ErrEmailNotSent", err)
	}
}

func TestProvedStubsKeepTheirAddress(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	id := s.stub(t)
	s.request(t, id, "proved@example.com")
	if anon.PasswordSet(s.user(t, id)) || anon.ProvedAddress(s.user(t, id)) {
		t.Fatal("proved before any password was set")
	}
	password := s.setPassword(t, "proved@example.com")
	u := s.user(t, id)
	if !anon.PasswordSet(u) || !anon.ProvedAddress(u) {
		t.Fatalf("not proved after the link: insert %d password %d", u.InsertInstant, u.PasswordLastUpdateInstant)
	}
	if _, err := s.conv.RequestConversion(ctx, id, "other@example.com"); !errors.Is(err, anon.ErrNotAnonymous) {
		t.Errorf("a proved stub asking for another address: %v, want ErrNotAnonymous", err)
	}
	if u := s.user(t, id); u.Email != "proved@example.com" || u.Data[anon.DataAnonymous] != true {
		t.Errorf("after the refusal: %q %v, want unchanged and not converted (no login yet)", u.Email, u.Data)
	}
	if _, err := s.admin.Login(ctx, faclient.LoginRequest{LoginID: "proved@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conv.RequestConversion(ctx, id, "other@example.com"); !errors.Is(err, anon.ErrNotAnonymous) {
		t.Errorf("after login: %v, want ErrNotAnonymous", err)
	}
	if u := s.user(t, id); u.Data[anon.DataAnonymous] != false || u.Username != "" {
		t.Errorf("a proved stub that logged in is converted when it next asks: %v", u.Data)
	}
	if _, err := s.conv.RequestConversion(ctx, id, "other@example.com"); !errors.Is(err, anon.ErrNotAnonymous) {
		t.Errorf("a converted user: %v, want ErrNotAnonymous", err)
	}
}

func TestConvert(t *testing.T) {
	s := newStand(t)
	up := anon.NewUpdater(s.client, lock.NewMemory())
	ctx := context.Background()
	unproven := s.stub(t)
	s.request(t, unproven, "unproven@example.com")
	if ok, err := anon.Convert(ctx, up, unproven, s.clock.Now()); ok || err != nil {
		t.Errorf("an unproven stub: converted=%v err=%v, want neither", ok, err)
	}
	proved := s.stub(t)
	s.request(t, proved, "proved@example.com")
	s.setPassword(t, "proved@example.com")
	at := s.clock.Now()
	if ok, err := anon.Convert(ctx, up, proved, at); !ok || err != nil {
		t.Fatalf("a proved stub: converted=%v err=%v", ok, err)
	}
	u := s.user(t, proved)
	if u.Username != "" || u.Data[anon.DataAnonymous] != false || u.Data[anon.DataConvertedAt] != float64(at.UnixMilli()) ||
		u.Data[anon.DataEmailPending] != nil || u.Data[anon.DataEmailRequested] != nil || u.Email != "proved@example.com" {
		t.Errorf("converted: username %q data %v", u.Username, u.Data)
	}
	if ok, err := anon.Convert(ctx, up, proved, at); ok || err != nil {
		t.Errorf("again: converted=%v err=%v, want nothing", ok, err)
	}
	if ok, err := anon.Convert(ctx, up, "00000000-0000-4000-8000-00000000dead", at); ok || err != nil {
		t.Errorf("a user gone: converted=%v err=%v, want nothing and no error", ok, err)
	}
	s.fa.InjectFault("GET /api/user/{userId}", http.StatusServiceUnavailable, 3)
	if _, err := anon.Convert(ctx, anon.NewUpdater(s.client, lock.NewMemory()), proved, at); !errors.Is(err, anon.ErrUnavailable) {
		t.Errorf("FusionAuth failing: %v, want ErrUnavailable", err)
	}
}

func TestRelease(t *testing.T) {
	s := newStand(t)
	up := anon.NewUpdater(s.client, lock.NewMemory())
	ctx := context.Background()
	free := s.stub(t)
	s.request(t, free, "held@example.com")
	taken := s.stub(t)
	s.request(t, taken, s.fa.Variable("regularEmail"))
	proved := s.stub(t)
	s.request(t, proved, "proved@example.com")
	s.setPassword(t, "proved@example.com")
	asked := s.clock.Now()
	// Asked 2 s before cutoff (setPassword moved the clock): exactly at the cutoff is kept.
	if ok, err := anon.Release(ctx, up, free, asked.Add(-2*time.Second), s.clock.Now()); ok || err != nil {
		t.Errorf("asked after the cutoff: released=%v err=%v", ok, err)
	}
	cutoff := asked.Add(time.Millisecond)
	for name, tc := range map[string]struct {
		id   string
		want bool
	}{"free": {free, true}, "taken": {taken, true}, "password set": {proved, false}} {
		ok, err := anon.Release(ctx, up, tc.id, cutoff, asked)
		if err != nil || ok != tc.want {
			t.Errorf("%s: released=%v err=%v, want %v", name, ok, err, tc.want)
		}
	}
	for _, id := range []string{free, taken} {
		u := s.user(t, id)
		if u.Email != "" || u.Data[anon.DataEmailRequested] != nil || u.Data[anon.DataEmailPending] != nil || u.Data[anon.DataEmailReleasedAt] != float64(asked.UnixMilli()) {
			t.Errorf("released %s: email %q data %v", id, u.Email, u.Data)
		}
		if anon.NeverAskedForAddress(u) {
			t.Errorf("released %s may take an address in place again: its old links could still be live", id)
		}
	}
	if u := s.user(t, proved); u.Email != "proved@example.com" {
		t.Errorf("the proved stub lost its address: %q", u.Email)
	}
	// The login FusionAuth records when a stub is created with its password is no login
	// of a person: such a stub is released like any other.
	if u := s.user(t, free); u.LastLoginInstant != u.InsertInstant {
		t.Errorf("a stub's creation login: lastLoginInstant %d, insertInstant %d; want them equal", u.LastLoginInstant, u.InsertInstant)
	}
	if ok, err := anon.Release(ctx, up, "00000000-0000-4000-8000-00000000dead", cutoff, asked); ok || err != nil {
		t.Errorf("a user gone: released=%v err=%v", ok, err)
	}
	if !anon.NeverAskedForAddress(s.user(t, s.stub(t))) {
		t.Error("a fresh stub may not take its first address in place")
	}
}

const day = 24 * time.Hour

// TestRequestedSaysWhenTheOwnerWasTold: Requested.Taken is true exactly when the
// account-exists email went out: a first address, the same one again and a change of
// address to one another account holds; not for a free address, a second click that
// sends nothing, or a send that failed.
func TestRequestedSaysWhenTheOwnerWasTold(t *testing.T) {
	s := newStand(t)
	taken := s.fa.Variable("regularEmail")
	ask := func(id, email string) (anon.Requested, error) {
		return s.conv.RequestConversion(context.Background(), id, email)
	}
	id := s.stub(t)
	for _, step := range []struct {
		email, why string
		advance    time.Duration
		taken      bool
	}{
		{taken, "a first address another account holds", 0, true},
		{taken, "a second click on it: nothing sent", time.Second, false},
		{taken, "the same address again, later", 20 * time.Second, true},
		{"free@example.com", "a change of address to a free one", 20 * time.Second, false},
		{taken, "a change of address back to the taken one (an hour on: within the limits)", time.Hour, true},
	} {
		s.clock.Advance(step.advance)
		got, err := ask(id, step.email)
		if err != nil || got.Taken != step.taken {
			t.Fatalf("%s: %+v %v, want Taken %v", step.why, got, err, step.taken)
		}
		id = got.Holder
	}
	if got, err := ask(s.stub(t), "another.free@example.com"); err != nil || got.Taken {
		t.Errorf("a first address that is free: %+v %v, want not taken", got, err)
	}
	noTemplate := anon.NewConverter(s.client, lock.NewMemory(), anon.ConverterOptions{Now: s.clock.Now})
	if got, err := noTemplate.RequestConversion(context.Background(), s.stub(t), taken); !errors.Is(err, anon.ErrEmailNotSent) || got.Taken {
		t.Errorf("the owner not told (no template): %+v %v, want ErrEmailNotSent and not taken", got, err)
	}
}
