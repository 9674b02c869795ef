package awsjson_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/changebank/anonuser/shared/awsjson"
)

func newClient(t *testing.T, endpoint string) *awsjson.Client {
	t.Helper()
	c, err := awsjson.New(awsjson.Options{Service: "dynamodb", ContentType: "application/x-amz-json-1.0", TargetPrefix: "DynamoDB_20120810",
		Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCall: the request is a signed POST naming the operation; an error answer is an
// *Error with the code stripped of its namespace; what the SDK retries is tried three
// times, what it does not once.
func TestCall(t *testing.T) {
	for name, tc := range map[string]struct {
		status   int
		body     string
		wantCode string
		attempts int32
	}{
		"ok":                 {http.StatusOK, `{"x":1}`, "", 1},
		"condition failed":   {http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"m"}`, "ConditionalCheckFailedException", 1},
		"throttled":          {http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"}`, "ThrottlingException", 3},
		"server error":       {http.StatusInternalServerError, `{}`, "UnknownError", 3},
		"code with a suffix": {http.StatusBadRequest, `{"code":"ValidationException:extra"}`, "ValidationException", 1},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				b, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.PutItem" ||
					r.Header.Get("Content-Type") != "application/x-amz-json-1.0" || string(b) != `{"a":1}` ||
					!strings.Contains(r.Header.Get("Authorization"), "Credential=AKID/") || !strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/dynamodb/aws4_request") {
					t.Errorf("request: %s %v %s", r.Method, r.Header, b)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			out, err := newClient(t, srv.URL).Call(context.Background(), "PutItem", []byte(`{"a":1}`))
			if tc.wantCode == "" && (err != nil || string(out) != tc.body) {
				t.Errorf("Call = %s, %v; want the body", out, err)
			}
			if tc.wantCode != "" && !awsjson.IsCode(fmt.Errorf("wrapped: %w", err), tc.wantCode) {
				t.Errorf("Call error %v, want code %s", err, tc.wantCode)
			}
			if calls.Load() != tc.attempts {
				t.Errorf("attempts %d, want %d", calls.Load(), tc.attempts)
			}
		})
	}
}

func TestDefaultEndpointAndOptions(t *testing.T) {
	for region, want := range map[string]string{
		"eu-west-1": "https://dynamodb.eu-west-1.amazonaws.com", "cn-north-1": "https://dynamodb.cn-north-1.amazonaws.com.cn",
	} {
		if got := newClient(t, "").Endpoint(); region == "eu-west-1" && got != want {
			t.Errorf("endpoint %s, want %s", got, want)
		}
		if got := "https://dynamodb." + region + "." + awsjson.DNSSuffix(region); got != want {
			t.Errorf("%s: %s, want %s", region, got, want)
		}
	}
	for name, o := range map[string]awsjson.Options{
		"no service":        {ContentType: "c", TargetPrefix: "p", Region: "r", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		"no region":         {Service: "s", ContentType: "c", TargetPrefix: "p", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		"no credentials":    {Service: "s", ContentType: "c", TargetPrefix: "p", Region: "r"},
		"relative endpoint": {Service: "s", ContentType: "c", TargetPrefix: "p", Region: "r", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), Endpoint: "localhost:1"},
	} {
		if _, err := awsjson.New(o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
