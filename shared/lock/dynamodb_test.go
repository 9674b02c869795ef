package lock

import (
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/lock/dynamotest"
)

// TestDynamoDBItem checks the item TryLock writes: the attributes, their types and units.
func TestDynamoDBItem(t *testing.T) {
	l, srv := newDynamoDB(t)
	if ok, err := l.TryLock(t.Context(), "user-1", "a", t0, t0.Add(10*time.Second)); !ok || err != nil {
		t.Fatalf("TryLock=(%v, %v), want (true, nil)", ok, err)
	}
	want := map[string]dynamotest.Attr{
		"id":         {Type: "S", Value: "user-1"},
		"owner":      {Type: "S", Value: "a"},
		"leaseUntil": {Type: "N", Value: "1777636810123"}, // t0+10 s in Unix milliseconds
		"expiresAt":  {Type: "N", Value: "1777640410"},    // an hour later, in Unix seconds
	}
	got, ok := srv.Item(testTable, "user-1")
	if !ok || !maps.Equal(got, want) {
		t.Fatalf("item=%v (found %v), want %v", got, ok, want)
	}

	// A refused TryLock leaves the item as it was.
	if ok, err := l.TryLock(t.Context(), "user-1", "b", t0.Add(time.Second), t0.Add(time.Hour)); ok || err != nil {
		t.Fatalf("TryLock by b=(%v, %v), want (false, nil)", ok, err)
	}
	if got, _ := srv.Item(testTable, "user-1"); !maps.Equal(got, want) {
		t.Fatalf("item after a refused TryLock=%v, want %v", got, want)
	}

	// Unlock by another keeps it; by the owner deletes it.
	if err := l.Unlock(t.Context(), "user-1", "b"); err != nil {
		t.Fatalf("Unlock by b=%v, want nil", err)
	}
	if _, ok := srv.Item(testTable, "user-1"); !ok {
		t.Fatalf("item gone after Unlock by a non-owner, want it kept")
	}
	if err := l.Unlock(t.Context(), "user-1", "a"); err != nil {
		t.Fatalf("Unlock by a=%v, want nil", err)
	}
	if got, ok := srv.Item(testTable, "user-1"); ok {
		t.Fatalf("item after Unlock by its owner=%v, want none", got)
	}
}

// TestDynamoDBErrors checks that failures other than a failed condition come back as
// errors naming the key and the table and wrapping the service's error.
func TestDynamoDBErrors(t *testing.T) {
	tests := []struct {
		name     string
		table    string // the lock's table; the fake holds only testTable
		status   int    // Fail's status; 0 for none
		errType  string
		wantCode string
		attempts int // requests per call: what the SDK's standard retryer retries is tried three times
	}{
		{"internal server error", testTable, http.StatusInternalServerError,
			"com.amazonaws.dynamodb.v20120810#InternalServerError", "InternalServerError", 3},
		{"validation", testTable, http.StatusBadRequest,
			"com.amazon.coral.validate#ValidationException", "ValidationException", 1},
		{"throttled", testTable, http.StatusBadRequest,
			"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "ProvisionedThroughputExceededException", 3},
		{"unknown table", "missing", 0, "", "ResourceNotFoundException", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := dynamotest.NewServer(t, dynamotest.Table{Name: testTable, Key: "id"})
			l := dynamoDBOn(t, srv, tt.table)
			if tt.status != 0 {
				srv.Fail(tt.status, tt.errType, "injected")
			}
			ok, err := l.TryLock(t.Context(), "user-1", "a", t0, t0.Add(time.Second))
			if ok {
				t.Errorf("TryLock=true, want false with the error")
			}
			checkError(t, "TryLock", err, "put item", tt.table, tt.wantCode)
			checkError(t, "Unlock", l.Unlock(t.Context(), "user-1", "a"), "delete item", tt.table, tt.wantCode)
			if p, d := srv.Calls("PutItem"), srv.Calls("DeleteItem"); p != tt.attempts || d != tt.attempts {
				t.Errorf("requests: PutItem %d, DeleteItem %d, want %d each", p, d, tt.attempts)
			}
		})
	}
}

func checkError(t *testing.T, call string, err error, doing, table, wantCode string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: err=nil, want %s", call, wantCode)
	}
	for _, want := range []string{`lock "user-1"`, doing, "table " + table} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err=%q, want it to say %q", call, err, want)
		}
	}
	if ae, ok := errors.AsType[*Error](err); !ok || ae.Code != wantCode {
		t.Errorf("%s: err=%v, want it to wrap the service's %s", call, err, wantCode)
	}
}
