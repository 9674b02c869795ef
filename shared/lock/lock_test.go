package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/changebank/anonuser/shared/lock/dynamotest"
)

// locker is the consumer's method set; both implementations run through the same suite.
type locker interface {
	TryLock(ctx context.Context, key, owner string, now, until time.Time) (bool, error)
	Unlock(ctx context.Context, key, owner string) error
}

var (
	_ locker = (*Memory)(nil)
	_ locker = (*DynamoDB)(nil)
)

const testTable = "locks"

// t0 has a sub-millisecond part, so that millisecond truncation shows.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)

// newDynamoDB returns a DynamoDB lock on a fresh fake endpoint.
func newDynamoDB(tb testing.TB) (*DynamoDB, *dynamotest.Server) {
	tb.Helper()
	srv := dynamotest.NewServer(tb, dynamotest.Table{Name: testTable, Key: "id"})
	return dynamoDBOn(tb, srv, testTable), srv
}

// dynamoDBOn returns this package's client for table on srv, with the fake's credentials.
func dynamoDBOn(tb testing.TB, srv *dynamotest.Server, table string) *DynamoDB {
	tb.Helper()
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: dynamotest.AccessKeyID, SecretAccessKey: dynamotest.SecretAccessKey}, nil
	})
	d, err := NewDynamoDB(DynamoDBOptions{Table: table, Region: dynamotest.Region, Credentials: creds, Endpoint: srv.URL})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// forEach runs f on a fresh instance of each implementation.
func forEach(t *testing.T, f func(t *testing.T, l locker)) {
	t.Helper()
	t.Run("Memory", func(t *testing.T) { f(t, NewMemory()) })
	t.Run("DynamoDB", func(t *testing.T) {
		l, _ := newDynamoDB(t)
		f(t, l)
	})
}

// step is one call: TryLock when unlock is false (now and until are offsets from t0),
// else Unlock.
type step struct {
	unlock     bool
	key, owner string
	now, until time.Duration
	want       bool // TryLock's answer
}

func lock(key, owner string, now, until time.Duration, want bool) step {
	return step{key: key, owner: owner, now: now, until: until, want: want}
}

func unlock(key, owner string) step { return step{unlock: true, key: key, owner: owner} }

func TestBehaviour(t *testing.T) {
	const s, ms = time.Second, time.Millisecond
	tests := []struct {
		name  string
		steps []step
	}{
		{"free key is taken", []step{lock("k", "a", 0, 10*s, true)}},
		{"live lease held by another is refused, and not extended", []step{
			lock("k", "a", 0, 10*s, true),
			lock("k", "b", 5*s, 60*s, false),
			lock("k", "c", 10*s+ms, 20*s, true), // a's lease ended at 10 s, b's attempt changed nothing
		}},
		{"lease ending exactly at now is still live", []step{
			lock("k", "a", 0, 10*s, true),
			lock("k", "b", 10*s, 20*s, false),
		}},
		{"expired lease is taken over", []step{
			lock("k", "a", 0, 10*s, true),
			lock("k", "b", 10*s+ms, 20*s, true),
			lock("k", "a", 11*s, 30*s, false), // now b's
		}},
		{"times compare in milliseconds", []step{
			lock("k", "a", 0, 10*s+100*time.Microsecond, true),
			lock("k", "b", 10*s+500*time.Microsecond, 20*s, false), // later, but in the millisecond a's lease ends
			lock("k", "b", 10*s+ms, 20*s, true),
		}},
		{"same owner re-locking a live lease extends it", []step{
			lock("k", "a", 0, 10*s, true),
			lock("k", "a", 1*s, 20*s, true),      // a retried PutItem whose first try took the lease succeeds
			lock("k", "b", 10*s+ms, 20*s, false), // a's lease now runs to 20 s
			lock("k", "b", 20*s+ms, 30*s, true),
		}},
		{"same owner re-locks after its lease ended", []step{
			lock("k", "a", 0, 10*s, true),
			lock("k", "a", 11*s, 20*s, true),
			lock("k", "b", 15*s, 30*s, false),
		}},
		{"keys are independent", []step{
			lock("k1", "a", 0, 10*s, true),
			lock("k2", "b", 1*s, 10*s, true),
			lock("k1", "b", 2*s, 10*s, false),
		}},
		{"unlock by the owner frees the key", []step{
			lock("k", "a", 0, 10*s, true),
			unlock("k", "a"),
			lock("k", "b", 1*s, 10*s, true),
		}},
		{"unlock by another leaves the holder's lease", []step{
			lock("k", "a", 0, 10*s, true),
			unlock("k", "b"),
			lock("k", "c", 1*s, 10*s, false),
			unlock("k", "a"),
			lock("k", "c", 2*s, 10*s, true),
		}},
		{"unlock after our lease was taken over leaves the new holder's", []step{
			lock("k", "a", 0, 10*s, true),
			lock("k", "b", 11*s, 30*s, true),
			unlock("k", "a"),
			lock("k", "c", 12*s, 30*s, false),
		}},
		{"unlock of a missing key is nil and changes nothing", []step{
			unlock("k", "a"),
			lock("k", "b", 0, 10*s, true),
			unlock("other", "b"),
			lock("k", "c", 1*s, 10*s, false),
		}},
		{"unlock twice is nil", []step{
			lock("k", "a", 0, 10*s, true),
			unlock("k", "a"),
			unlock("k", "a"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEach(t, func(t *testing.T, l locker) {
				for i, st := range tt.steps {
					if st.unlock {
						if err := l.Unlock(t.Context(), st.key, st.owner); err != nil {
							t.Fatalf("step %d: Unlock(%s, %s)=%v, want nil", i, st.key, st.owner, err)
						}
						continue
					}
					got, err := l.TryLock(t.Context(), st.key, st.owner, t0.Add(st.now), t0.Add(st.until))
					if err != nil || got != st.want {
						t.Fatalf("step %d: TryLock(%s, %s, +%v, +%v)=(%v, %v), want (%v, nil)",
							i, st.key, st.owner, st.now, st.until, got, err, st.want)
					}
				}
			})
		})
	}
}

func TestInvalidArguments(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		key, owner string
		now, until time.Time
		unlock     bool
	}{
		{name: "TryLock: empty key", key: "", owner: "a", now: t0, until: t0.Add(time.Second)},
		{name: "TryLock: empty owner", key: "k", owner: "", now: t0, until: t0.Add(time.Second)},
		{name: "TryLock: zero now", key: "k", owner: "a", now: time.Time{}, until: t0},
		{name: "TryLock: until equal to now", key: "k", owner: "a", now: t0, until: t0},
		{name: "TryLock: until before now", key: "k", owner: "a", now: t0, until: t0.Add(-time.Second)},
		{name: "TryLock: until in now's millisecond", key: "k", owner: "a", now: t0, until: t0.Add(500 * time.Microsecond)},
		{name: "TryLock: context done", ctx: canceled, key: "k", owner: "a", now: t0, until: t0.Add(time.Second)},
		{name: "Unlock: empty key", key: "", owner: "a", unlock: true},
		{name: "Unlock: empty owner", key: "k", owner: "", unlock: true},
		{name: "Unlock: context done", ctx: canceled, key: "k", owner: "a", unlock: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			forEach(t, func(t *testing.T, l locker) {
				var err error
				if tt.unlock {
					err = l.Unlock(ctx, tt.key, tt.owner)
				} else {
					var got bool
					got, err = l.TryLock(ctx, tt.key, tt.owner, tt.now, tt.until)
					if got {
						t.Errorf("TryLock=true, want false with the error")
					}
				}
				if err == nil {
					t.Fatalf("err=nil, want an error")
				}
				if tt.ctx != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("err=%v, want one wrapping context.Canceled", err)
				}
			})
			// The argument was refused before anything reached DynamoDB.
			l, srv := newDynamoDB(t)
			if tt.unlock {
				_ = l.Unlock(ctx, tt.key, tt.owner)
			} else {
				_, _ = l.TryLock(ctx, tt.key, tt.owner, tt.now, tt.until)
			}
			if n := srv.Calls("PutItem") + srv.Calls("DeleteItem"); n != 0 {
				t.Errorf("requests to DynamoDB=%d, want 0", n)
			}
		})
	}
}

// TestRace has 50 goroutines try the same key at the same now: exactly one wins.
func TestRace(t *testing.T) {
	forEach(t, func(t *testing.T, l locker) {
		const n = 50
		var wins, fails atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				ok, err := l.TryLock(t.Context(), "k", fmt.Sprintf("owner-%d", i), t0, t0.Add(time.Minute))
				switch {
				case err != nil:
					t.Errorf("TryLock: %v", err)
					fails.Add(1)
				case ok:
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if w := wins.Load(); w != 1 || fails.Load() != 0 {
			t.Fatalf("winners=%d (errors %d), want exactly 1", w, fails.Load())
		}
	})
}
