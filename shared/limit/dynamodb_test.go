package limit

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/changebank/anonuser/shared/lock/dynamotest"
)

// TestDynamoDBItem checks the item Allow writes: its id, the count and the TTL attribute.
func TestDynamoDBItem(t *testing.T) {
	d, srv := newDynamoDB(t)
	for range 2 {
		if !allow(t, d, perMinute, "1.2.3.4", t0) {
			t.Fatalf("refused, want allowed")
		}
	}
	const id = "signin#1.2.3.4#1777636800" // t0's minute starts at 12:00:00 UTC
	want := map[string]dynamotest.Attr{
		"id":        {Type: "S", Value: id},
		"hits":      {Type: "N", Value: "2"},
		"expiresAt": {Type: "N", Value: "1777640460"}, // the window's end, 12:01, plus an hour
	}
	if got, ok := srv.Item(testTable, id); !ok || !maps.Equal(got, want) {
		t.Fatalf("item=%v (found %v), want %v", got, ok, want)
	}

	// A refusal leaves the item as it was.
	allow(t, d, perMinute, "1.2.3.4", t0)
	want["hits"] = dynamotest.Attr{Type: "N", Value: "3"}
	if allow(t, d, perMinute, "1.2.3.4", t0) {
		t.Fatalf("allowed after Max, want refused")
	}
	if got, _ := srv.Item(testTable, id); !maps.Equal(got, want) {
		t.Errorf("item after a refusal=%v, want %v", got, want)
	}
}

// TestDynamoDBRefusalRemembered: once DynamoDB refuses a client in a window, its further
// events there cost no call; the next window asks again.
func TestDynamoDBRefusalRemembered(t *testing.T) {
	d, srv := newDynamoDB(t)
	for range 3 {
		allow(t, d, perMinute, "c", t0)
	}
	if allow(t, d, perMinute, "c", t0) {
		t.Fatalf("allowed after Max, want refused")
	}
	calls := srv.Calls("UpdateItem")
	if calls != 4 {
		t.Fatalf("UpdateItem calls=%d, want 4 (3 allowed, 1 refused)", calls)
	}
	for range 100 {
		if allow(t, d, perMinute, "c", t0.Add(30*time.Second)) {
			t.Fatalf("allowed in the refused window, want refused")
		}
	}
	if got := srv.Calls("UpdateItem"); got != calls {
		t.Errorf("UpdateItem calls=%d after remembered refusals, want %d", got, calls)
	}
	// Another client, rule or window is not refused by the memory.
	for _, c := range []struct {
		rule   Rule
		client string
		now    time.Time
	}{
		{perMinute, "other", t0},
		{Rule{Name: "other", Max: 1, Per: time.Minute}, "c", t0},
		{perMinute, "c", t0.Add(time.Minute)},
	} {
		if !allow(t, d, c.rule, c.client, c.now) {
			t.Errorf("%s, %s at %s: refused, want allowed", c.rule.Name, c.client, c.now)
		}
	}
	if got := srv.Calls("UpdateItem"); got != calls+3 {
		t.Errorf("UpdateItem calls=%d, want %d", got, calls+3)
	}
}

// TestDynamoDBErrors: a failure other than a failed condition is false and an error
// naming the rule and the table and wrapping DynamoDB's; it is not remembered.
func TestDynamoDBErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		errType  string
		wantCode string
		attempts int // the standard retryer's: server errors and throttling three times
	}{
		{"internal server error", http.StatusInternalServerError,
			"com.amazonaws.dynamodb.v20120810#InternalServerError", "InternalServerError", 3},
		{"throttled", http.StatusBadRequest,
			"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "ProvisionedThroughputExceededException", 3},
		{"validation", http.StatusBadRequest,
			"com.amazon.coral.validate#ValidationException", "ValidationException", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, srv := newDynamoDB(t)
			srv.Fail(tt.status, tt.errType, "injected")
			ok, err := d.Allow(t.Context(), perMinute, "secret-client", t0)
			if ok {
				t.Errorf("Allow=true, want false with the error")
			}
			if err == nil {
				t.Fatalf("err=nil, want %s", tt.wantCode)
			}
			for _, want := range []string{`limit "signin"`, "update item", "table " + testTable} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err=%q, want it to say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secret-client") {
				t.Errorf("err=%q names the client, want it not to", err)
			}
			if ae, ok := errors.AsType[*Error](err); !ok || ae.Code != tt.wantCode {
				t.Errorf("err=%v, want it to wrap the service's %s", err, tt.wantCode)
			}
			if got := srv.Calls("UpdateItem"); got != tt.attempts {
				t.Errorf("UpdateItem calls=%d, want %d", got, tt.attempts)
			}
			srv.Restore()
			if !allow(t, d, perMinute, "secret-client", t0) {
				t.Errorf("after Restore: refused, want allowed (a failure is not a refusal)")
			}
		})
	}

	t.Run("unknown table", func(t *testing.T) {
		_, srv := newDynamoDB(t)
		d, err := NewDynamoDB(DynamoDBOptions{Table: "missing", Region: dynamotest.Region, Credentials: credentials.NewStaticCredentialsProvider(dynamotest.AccessKeyID, dynamotest.SecretAccessKey, ""), Endpoint: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := d.Allow(t.Context(), perMinute, "c", t0)
		if ae, isAE := errors.AsType[*Error](err); ok || !isAE || ae.Code != "ResourceNotFoundException" {
			t.Errorf("Allow=(%v, %v), want (false, ResourceNotFoundException)", ok, err)
		}
	})
}

// TestNewDynamoDB checks the options: a table is required, and one attempt of the default
// client gives up after 2 s.
func TestNewDynamoDB(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("a", "b", "")
	if _, err := NewDynamoDB(DynamoDBOptions{Region: "eu-west-1", Credentials: creds}); err == nil {
		t.Errorf("no table: err=nil, want an error")
	}
	if _, err := NewDynamoDB(DynamoDBOptions{Table: "limits", Credentials: creds}); err == nil {
		t.Errorf("no region: err=nil, want an error")
	}
	d, err := NewDynamoDB(DynamoDBOptions{Table: "limits", Region: "eu-west-1", Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.table.HTTPTimeout(); got != 2*time.Second {
		t.Errorf("attempt timeout %v, want 2s", got)
	}
	if got, want := d.table.Endpoint(), "https://dynamodb.eu-west-1.amazonaws.com"; got != want {
		t.Errorf("endpoint %s, want %s", got, want)
	}
	if d.refused.capacity != 10_000 {
		t.Errorf("refusals remembered: at most %d, want 10000", d.refused.capacity)
	}
}

// TestRefusalsBounded: the memory of refusals holds at most its capacity, dropping
// ended windows first and then the oldest refusals.
func TestRefusalsBounded(t *testing.T) {
	r := newRefusals(3)
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	r.add("a", at(100), at(0))
	r.add("b", at(50), at(0)) // ends first, although not the oldest
	r.add("c", at(100), at(0))
	r.add("c", at(100), at(0)) // again: no new entry
	checkHolds(t, r, "a", "b", "c")

	// Full at 50, when b's window has just ended: b goes, not a, the oldest.
	r.add("d", at(200), at(50))
	checkHolds(t, r, "a", "c", "d")

	// Full at 100, when a's and c's windows end: one sweep drops both.
	r.add("e", at(300), at(100))
	checkHolds(t, r, "d", "e")

	// Full at 120, nothing ended: the oldest goes.
	r.add("f", at(300), at(110))
	r.add("g", at(300), at(120))
	checkHolds(t, r, "e", "f", "g")
}

func checkHolds(t *testing.T, r *refusals, ids ...string) {
	t.Helper()
	var got []string
	for el := r.order.Front(); el != nil; el = el.Next() {
		got = append(got, el.Value.(refusal).id)
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) || len(r.byID) != len(ids) {
		t.Errorf("holds %v (%d by id), want %v", got, len(r.byID), ids)
	}
	for _, id := range ids {
		if !r.has(id) {
			t.Errorf("has(%s)=false, want true", id)
		}
	}
}

// TestDynamoDBRefusalsBounded: a flood of refused clients keeps at most the bound of
// refusals in memory; the oldest are forgotten and cost a call again.
func TestDynamoDBRefusalsBounded(t *testing.T) {
	d, srv := newDynamoDB(t)
	one := Rule{Name: "one", Max: 1, Per: time.Hour}
	d.refused = newRefusals(50) // the same code with a smaller bound, to keep the test short
	for i := range 60 {
		c := fmt.Sprint("client-", i)
		allow(t, d, one, c, t0)
		if allow(t, d, one, c, t0) {
			t.Fatalf("%s: allowed twice, want refused", c)
		}
	}
	if n := len(d.refused.byID); n != 50 {
		t.Errorf("refusals remembered=%d, want 50", n)
	}
	calls := srv.Calls("UpdateItem")
	allow(t, d, one, "client-59", t0) // remembered
	if got := srv.Calls("UpdateItem"); got != calls {
		t.Errorf("newest refusal: UpdateItem calls=%d, want %d", got, calls)
	}
	allow(t, d, one, "client-0", t0) // forgotten
	if got := srv.Calls("UpdateItem"); got != calls+1 {
		t.Errorf("oldest refusal: UpdateItem calls=%d, want %d", got, calls+1)
	}
}
