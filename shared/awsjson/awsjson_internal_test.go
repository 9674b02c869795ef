package awsjson

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

var creds = credentials.NewStaticCredentialsProvider("AKID", "secret", "")

func options() Options {
	return Options{Service: "dynamodb", ContentType: "application/x-amz-json-1.0", TargetPrefix: "DynamoDB_20120810",
		Region: "eu-west-1", Credentials: creds}
}

// TestDefaults: what New fills in, and what it keeps when it is given.
func TestDefaults(t *testing.T) {
	c, err := New(options())
	if err != nil {
		t.Fatal(err)
	}
	if c.o.Name != "dynamodb client" || c.o.Timeout != 5*time.Second || c.HTTPTimeout() != 5*time.Second ||
		c.o.MaxAttempts != 3 || c.o.MaxResponse != 1<<20 {
		t.Errorf("defaults: name %q, timeout %v (HTTP %v), attempts %d, max response %d; want dynamodb client, 5s, 3, 1 MiB",
			c.o.Name, c.o.Timeout, c.HTTPTimeout(), c.o.MaxAttempts, c.o.MaxResponse)
	}
	if dialer.Timeout != 2*time.Second {
		t.Errorf("dial timeout %v, want 2s", dialer.Timeout)
	}
	o := options()
	o.Name, o.Timeout, o.Endpoint = "dynamodb locks", 2*time.Second, "https://localhost:4566/"
	if c, err = New(o); err != nil {
		t.Fatal(err)
	}
	if c.o.Name != "dynamodb locks" || c.HTTPTimeout() != 2*time.Second || c.Endpoint() != "https://localhost:4566" {
		t.Errorf("given: name %q, timeout %v, endpoint %s; want them kept (the endpoint without its slash)", c.o.Name, c.HTTPTimeout(), c.Endpoint())
	}
	o.Endpoint = "ftp://localhost:21"
	if _, err := New(o); err == nil || !strings.HasPrefix(err.Error(), "dynamodb locks: ") {
		t.Errorf("ftp endpoint: %v, want an error naming the client", err)
	}
	o.Name, o.Region = "", ""
	if _, err := New(o); err == nil || !strings.HasPrefix(err.Error(), "dynamodb client: ") {
		t.Errorf("no region: %v, want an error naming the default client name", err)
	}
}

// TestWaitsOnlyBetweenAttempts: a call that succeeds at once never waits; one tried
// three times waits twice, each within the jitter's 50 ms to 1 s cap.
func TestWaitsOnlyBetweenAttempts(t *testing.T) {
	for status, want := range map[int]int{http.StatusOK: 0, http.StatusServiceUnavailable: 2} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
		o := options()
		o.Endpoint = srv.URL
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		var waits []time.Duration
		c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
		_, _ = c.Call(context.Background(), "PutItem", []byte(`{}`))
		srv.Close()
		if len(waits) != want {
			t.Errorf("HTTP %d: waited %v, want %d waits", status, waits, want)
		}
		for _, d := range waits {
			if d < 0 || d > time.Second {
				t.Errorf("HTTP %d: wait %v outside 0..1s", status, d)
			}
		}
	}
}

// TestErrorCodeAndMessage: the code loses a leading namespace and a trailing suffix even
// when either is empty; the message is read from "Message" or "message".
func TestErrorCodeAndMessage(t *testing.T) {
	for body, want := range map[string]Error{
		`{"__type":"#ResourceNotFoundException","Message":"gone"}`:     {400, "ResourceNotFoundException", "gone"},
		`{"__type":":nothing","message":"lower"}`:                      {400, "UnknownError", "lower"},
		`{"code":"ValidationException:x","Message":"M","message":"m"}`: {400, "ValidationException", "M"},
	} {
		rec := httptest.NewRecorder()
		rec.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(rec, body)
		resp := rec.Result()
		raw, _ := io.ReadAll(resp.Body)
		if got := apiError(resp, raw); *got != want {
			t.Errorf("%s: %+v, want %+v", body, *got, want)
		}
	}
}
