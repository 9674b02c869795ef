package anon_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/lock"
)

// recordingLocks is a lease table that records what it was asked, and can fail.
type recordingLocks struct {
	*lock.Memory
	mu      sync.Mutex
	taken   []string // key/owner of each lease taken
	release []string // key/owner of each release
	fail    error
	// unlockFail fails each release (after recording it); the lease stays held.
	unlockFail error
}

func (r *recordingLocks) TryLock(ctx context.Context, key, owner string, now, until time.Time) (bool, error) {
	if r.fail != nil {
		return false, r.fail
	}
	ok, err := r.Memory.TryLock(ctx, key, owner, now, until)
	if ok {
		r.mu.Lock()
		r.taken = append(r.taken, key+"/"+owner)
		r.mu.Unlock()
	}
	return ok, err
}

func (r *recordingLocks) Unlock(ctx context.Context, key, owner string) error {
	r.mu.Lock()
	r.release = append(r.release, key+"/"+owner)
	r.mu.Unlock()
	if r.unlockFail != nil {
		return r.unlockFail
	}
	return r.Memory.Unlock(ctx, key, owner)
}

// TestUpdateHoldsTheProfileLease: an Update takes the profile's lease before its read,
// holds it through its write (nobody else can take it meanwhile) and gives it back.
func TestUpdateHoldsTheProfileLease(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	locks := &recordingLocks{Memory: lock.NewMemory()}
	up := anon.NewUpdater(s.client, locks)
	_, err := up.Update(context.Background(), id, func(u faclient.User) (anon.Edit, error) {
		now := time.Now()
		if ok, _ := locks.Memory.TryLock(context.Background(), "profile#"+id, "someone-else", now, now.Add(time.Second)); ok {
			t.Error("another writer took the lease while the update held it")
		}
		u.Data["watchCount"] = 2
		return anon.Edit{Data: u.Data}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(locks.taken) != 1 || len(locks.release) != 1 || locks.taken[0] != locks.release[0] {
		t.Errorf("leases taken %v, released %v; want the one lease on profile#%s taken and released by its owner", locks.taken, locks.release, id)
	}
	if ok, _ := locks.Memory.TryLock(context.Background(), "profile#"+id, "next", time.Now(), time.Now().Add(time.Second)); !ok {
		t.Error("the lease is still held after the update")
	}
}

// TestExclusiveNestsUpdatesOfTheSameProfile: inside Exclusive, an Update of the same
// profile uses the lease already held (it would wait for itself otherwise), and one of
// another profile takes that profile's own.
func TestExclusiveNestsUpdatesOfTheSameProfile(t *testing.T) {
	s := newStand(t)
	a, b := s.stub(t), s.stub(t)
	locks := &recordingLocks{Memory: lock.NewMemory()}
	up := anon.NewUpdater(s.client, locks).WithoutWaits()
	err := up.Exclusive(context.Background(), a, func(ctx context.Context) error {
		for _, id := range []string{a, b} {
			if _, err := up.Update(ctx, id, func(u faclient.User) (anon.Edit, error) {
				u.Data["watchCount"] = 5
				return anon.Edit{Data: u.Data}, nil
			}); err != nil {
				return err
			}
		}
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > 10*time.Second {
			t.Errorf("work under a lease has deadline %v (set %v), want one before the lease ends", dl, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("nested updates: %v", err)
	}
	if len(locks.taken) != 2 || len(locks.release) != 2 {
		t.Errorf("leases taken %v, released %v; want one per profile", locks.taken, locks.release)
	}
}

// TestBusyAndFailingLeases: a profile whose lease someone else holds is ErrContended,
// nothing read; a lease table that fails is ErrUnavailable, nothing read.
func TestBusyAndFailingLeases(t *testing.T) {
	s := newStand(t)
	id := s.stub(t)
	store := &countingStore{Client: s.client}
	locks := &recordingLocks{Memory: lock.NewMemory()}
	now := time.Now()
	if ok, _ := locks.Memory.TryLock(context.Background(), "profile#"+id, "holder", now, now.Add(time.Minute)); !ok {
		t.Fatal("could not take the lease for the test")
	}
	write := func(u faclient.User) (anon.Edit, error) { return anon.Edit{Data: map[string]any{"watchCount": 9}}, nil }
	if _, err := anon.NewUpdater(store, locks).WithoutWaits().Update(context.Background(), id, write); !errors.Is(err, anon.ErrContended) || store.reads != 0 {
		t.Errorf("busy lease: %v after %d reads, want ErrContended and no read", err, store.reads)
	}
	locks.fail = errors.New("dynamodb down")
	if _, err := anon.NewUpdater(store, locks).Update(context.Background(), id, write); !errors.Is(err, anon.ErrUnavailable) || store.reads != 0 {
		t.Errorf("failing lease table: %v after %d reads, want ErrUnavailable and no read", err, store.reads)
	}
	// The visit still shows the page: the profile as read once more.
	locks.fail = nil
	p, err := anon.New(s.client, locks).WithoutWaits().RecordWatch(context.Background(), id)
	if !errors.Is(err, anon.ErrContended) || p.UserID != id || p.WatchCount != 1 {
		t.Errorf("a visit to a busy profile: %+v, %v; want ErrContended and the profile as it is", p, err)
	}
}

// TestReconcile converts only a stub that proved its address and logged in since; the
// login FusionAuth records at creation is no such login.
func TestReconcile(t *testing.T) {
	s := newStand(t)
	ctx := context.Background()
	up := anon.NewUpdater(s.client, s.locks)
	created := s.stub(t)
	s.request(t, created, "created@example.com")
	proved := s.stub(t)
	s.request(t, proved, "proved@example.com")
	s.setPassword(t, "proved@example.com")
	loggedIn := s.stub(t)
	s.request(t, loggedIn, "logged.in@example.com")
	password := s.setPassword(t, "logged.in@example.com")
	s.clock.Advance(time.Second)
	if _, err := s.admin.Login(ctx, faclient.LoginRequest{LoginID: "logged.in@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		id   string
		want bool
	}{"creation login only": {created, false}, "proved, no login": {proved, false}, "proved and logged in": {loggedIn, true}} {
		if u := s.user(t, tc.id); anon.LoggedIn(u) != tc.want {
			t.Errorf("%s: LoggedIn = %v, want %v (insert %d, password %d, login %d)", name, !tc.want, tc.want, u.InsertInstant, u.PasswordLastUpdateInstant, u.LastLoginInstant)
		}
		if ok, err := anon.Reconcile(ctx, up, tc.id, s.clock.Now()); ok != tc.want || err != nil {
			t.Errorf("%s: reconciled=%v err=%v, want %v", name, ok, err, tc.want)
		}
	}
	if u := s.user(t, loggedIn); u.Data[anon.DataAnonymous] != false || u.Data[anon.DataAddressPassword] != nil {
		t.Errorf("reconciled stub: %v, want converted without its password record", u.Data)
	}
}

// TestFailedReleaseIsLoggedNotReturned: when the lease cannot be given back the update,
// already written, still succeeds, and a warning names the profile (the lease ends by
// itself); a release that works logs nothing.
func TestFailedReleaseIsLoggedNotReturned(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	s := newStand(t)
	id := s.stub(t)
	locks := &recordingLocks{Memory: lock.NewMemory()}
	up := anon.NewUpdater(s.client, locks).WithoutWaits()
	write := func(u faclient.User) (anon.Edit, error) {
		u.Data["watchCount"] = 3
		return anon.Edit{Data: u.Data}, nil
	}
	if _, err := up.Update(context.Background(), id, write); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "not released") {
		t.Errorf("a release that worked logged %s", logs.String())
	}
	locks.unlockFail = errors.New("dynamodb down")
	if _, err := up.Update(context.Background(), id, write); err != nil {
		t.Fatalf("update whose release failed: %v, want success (the write is done)", err)
	}
	if out := logs.String(); !strings.Contains(out, `"level":"WARN"`) || !strings.Contains(out, "not released") || !strings.Contains(out, id) {
		t.Errorf("failed release logged %q, want a warning naming the profile", out)
	}
}
