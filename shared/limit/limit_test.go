package limit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/changebank/anonuser/shared/lock/dynamotest"
)

const testTable = "limits"

// t0 is 2026-05-01T12:00:00.123456789Z: inside a minute, an hour and a day window, with
// a sub-second part so that window arithmetic shows.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)

var perMinute = Rule{Name: "signin", Max: 3, Per: time.Minute}

// newDynamoDB returns a DynamoDB limiter on a fresh fake endpoint.
func newDynamoDB(tb testing.TB) (*DynamoDB, *dynamotest.Server) {
	tb.Helper()
	srv := dynamotest.NewServer(tb, dynamotest.Table{Name: testTable, Key: "id"})
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: dynamotest.AccessKeyID, SecretAccessKey: dynamotest.SecretAccessKey}, nil
	})
	d, err := NewDynamoDB(DynamoDBOptions{Table: testTable, Region: dynamotest.Region, Credentials: creds, Endpoint: srv.URL})
	if err != nil {
		tb.Fatal(err)
	}
	return d, srv
}

// forEach runs f on a fresh instance of each implementation.
func forEach(t *testing.T, f func(t *testing.T, l Limiter)) {
	t.Helper()
	t.Run("Memory", func(t *testing.T) { f(t, NewMemory()) })
	t.Run("DynamoDB", func(t *testing.T) {
		d, _ := newDynamoDB(t)
		f(t, d)
	})
}

// allow calls Allow and fails the test on an error.
func allow(t *testing.T, l Limiter, r Rule, client string, now time.Time) bool {
	t.Helper()
	ok, err := l.Allow(t.Context(), r, client, now)
	if err != nil {
		t.Fatalf("Allow(%s, %s, %s): %v", r.Name, client, now.Format(time.RFC3339Nano), err)
	}
	return ok
}

// TestMaxThenRefused: Max events in a window are allowed, the next ones refused, and the
// refusals are not counted (the next window starts from zero again).
func TestMaxThenRefused(t *testing.T) {
	forEach(t, func(t *testing.T, l Limiter) {
		for i := range 3 {
			if !allow(t, l, perMinute, "1.2.3.4", t0.Add(time.Duration(i)*time.Second)) {
				t.Fatalf("event %d refused, want allowed", i+1)
			}
		}
		for i := range 5 {
			if allow(t, l, perMinute, "1.2.3.4", t0.Add(10*time.Second)) {
				t.Fatalf("event %d after Max allowed, want refused", i+4)
			}
		}
	})
}

// TestWindows: windows are aligned to the epoch, and a new window allows again.
func TestWindows(t *testing.T) {
	minuteStart := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		per      time.Duration
		fill     time.Time // Max events here fill the window
		same     time.Time // still in that window: refused
		next     time.Time // in the next window: allowed
		previous time.Time // in the window before: allowed
	}{
		{"minute", time.Minute, t0, minuteStart.Add(time.Minute - time.Nanosecond), minuteStart.Add(time.Minute), minuteStart.Add(-time.Nanosecond)},
		{"7 days, aligned to Thursday 1970-01-01 rather than year 1",
			7 * 24 * time.Hour, time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 6, 23, 59, 59, 0, time.UTC),
			time.Date(2026, 5, 7, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 29, 23, 59, 59, 0, time.UTC)},
		{"90 s, not a divisor of a minute", 90 * time.Second, time.Unix(1777636800, 0), time.Unix(1777636889, 0),
			time.Unix(1777636890, 0), time.Unix(1777636799, 0)},
		{"before the epoch", time.Minute, time.Unix(-60, 0), time.Unix(-1, 0), time.Unix(0, 0), time.Unix(-61, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEach(t, func(t *testing.T, l Limiter) {
				r := Rule{Name: "r", Max: 2, Per: tt.per}
				for range r.Max {
					if !allow(t, l, r, "c", tt.fill) {
						t.Fatalf("filling the window: refused, want allowed")
					}
				}
				if allow(t, l, r, "c", tt.same) {
					t.Errorf("at %s, same window: allowed, want refused", tt.same.UTC())
				}
				if !allow(t, l, r, "c", tt.next) {
					t.Errorf("at %s, next window: refused, want allowed", tt.next.UTC())
				}
				if !allow(t, l, r, "c", tt.previous) {
					t.Errorf("at %s, previous window: refused, want allowed", tt.previous.UTC())
				}
			})
		})
	}
}

// TestIndependent: rules and clients count apart, even with the same Per.
func TestIndependent(t *testing.T) {
	forEach(t, func(t *testing.T, l Limiter) {
		other := Rule{Name: "register", Max: 1, Per: time.Minute}
		for range 3 {
			allow(t, l, perMinute, "a", t0)
		}
		if allow(t, l, perMinute, "a", t0) {
			t.Fatalf("a under %s: allowed after Max, want refused", perMinute.Name)
		}
		if !allow(t, l, perMinute, "b", t0) {
			t.Errorf("b under %s: refused, want allowed (another client)", perMinute.Name)
		}
		if !allow(t, l, other, "a", t0) {
			t.Errorf("a under %s: refused, want allowed (another rule)", other.Name)
		}
		if allow(t, l, other, "a", t0) {
			t.Errorf("a under %s: allowed after its Max 1, want refused", other.Name)
		}
		// A '#' in the client cannot make one client's id another's.
		for range 3 {
			allow(t, l, perMinute, "x#1", t0)
		}
		if !allow(t, l, perMinute, "x", t0) {
			t.Errorf("x: refused after x#1 used its Max, want allowed")
		}
	})
}

// TestConcurrent: 50 events at once for one client with Max 30 let exactly 30 through.
func TestConcurrent(t *testing.T) {
	forEach(t, func(t *testing.T, l Limiter) {
		r := Rule{Name: "burst", Max: 30, Per: time.Hour}
		var wg sync.WaitGroup
		var allowed atomic.Int32
		for range 50 {
			wg.Go(func() {
				ok, err := l.Allow(t.Context(), r, "c", t0)
				if err != nil {
					t.Errorf("Allow: %v", err)
				}
				if ok {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if got := allowed.Load(); got != 30 {
			t.Errorf("allowed %d, want 30", got)
		}
	})
}

// TestInvalid: an invalid rule, an empty client, an unplaceable now or a done context is
// an error with false, for both, before any I/O.
func TestInvalid(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		rule     Rule
		client   string
		now      time.Time
		contains string
	}{
		{"empty name", nil, Rule{Max: 1, Per: time.Second}, "c", t0, "empty name"},
		{"'#' in the name", nil, Rule{Name: "a#b", Max: 1, Per: time.Second}, "c", t0, "name contains '#'"},
		{"Max 0", nil, Rule{Name: "r", Max: 0, Per: time.Second}, "c", t0, "max 0 is below 1"},
		{"Per under a second", nil, Rule{Name: "r", Max: 1, Per: time.Second - 1}, "c", t0, "shorter than 1s"},
		{"every problem at once", nil, Rule{Name: "", Max: -1, Per: 0}, "c", t0, "empty name\nmax -1 is below 1\nper 0s is shorter than 1s"},
		{"empty client", nil, perMinute, "", t0, `limit "signin": empty client`},
		{"zero now", nil, perMinute, "c", time.Time{}, "outside the years"},
		{"now after 2262", nil, perMinute, "c", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), "outside the years"},
		{"context done", done, perMinute, "c", t0, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("Memory", func(t *testing.T) { checkInvalid(t, NewMemory(), tt.ctx, tt.rule, tt.client, tt.now, tt.contains) })
			t.Run("DynamoDB", func(t *testing.T) {
				d, srv := newDynamoDB(t)
				checkInvalid(t, d, tt.ctx, tt.rule, tt.client, tt.now, tt.contains)
				if n := srv.Calls("UpdateItem"); n != 0 {
					t.Errorf("UpdateItem calls=%d, want 0", n)
				}
			})
		})
	}
	if err := perMinute.Validate(); err != nil {
		t.Errorf("Validate of a valid rule=%v, want nil", err)
	}
	if err := (Rule{Name: "r", Max: 1, Per: time.Second}).Validate(); err != nil {
		t.Errorf("Validate of the smallest valid rule=%v, want nil", err)
	}
}

func checkInvalid(t *testing.T, l Limiter, ctx context.Context, r Rule, client string, now time.Time, contains string) {
	t.Helper()
	if ctx == nil {
		ctx = t.Context()
	}
	ok, err := l.Allow(ctx, r, client, now)
	if ok || err == nil || !strings.Contains(err.Error(), contains) {
		t.Errorf("Allow=(%v, %v), want (false, an error saying %q)", ok, err, contains)
	}
}

// TestWindowOf pins the window arithmetic on its own.
func TestWindowOf(t *testing.T) {
	tests := []struct {
		per        time.Duration
		now        time.Time
		start, end int64 // Unix ns
	}{
		{time.Minute, time.Unix(125, 5), 120e9, 180e9},
		{time.Minute, time.Unix(120, 0), 120e9, 180e9},
		{time.Minute, time.Unix(-1, 0), -60e9, 0},
		{1500 * time.Millisecond, time.Unix(2, 0), 1.5e9, 3e9},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.per, tt.now.UnixNano()), func(t *testing.T) {
			start, end, err := window(t.Context(), Rule{Name: "r", Max: 1, Per: tt.per}, "c", tt.now)
			if err != nil || start.UnixNano() != tt.start || end.UnixNano() != tt.end {
				t.Errorf("window=[%d, %d) (%v), want [%d, %d)", start.UnixNano(), end.UnixNano(), err, tt.start, tt.end)
			}
		})
	}
}
