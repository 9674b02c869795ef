package awsjson_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/changebank/anonuser/shared/awsjson"
	"github.com/changebank/anonuser/shared/lock/dynamotest"
)

// TestTable writes through a Table to the fake DynamoDB: Do names the table, S and N
// are the attribute values DynamoDB reads, and a failed condition is told apart from
// other failures.
func TestTable(t *testing.T) {
	srv := dynamotest.NewServer(t, dynamotest.Table{Name: "things", Key: "id"})
	creds := credentials.NewStaticCredentialsProvider(dynamotest.AccessKeyID, dynamotest.SecretAccessKey, "")
	if _, err := awsjson.NewTable("dynamodb things", awsjson.TableOptions{Region: dynamotest.Region, Credentials: creds}, 1<<12); err == nil || !strings.Contains(err.Error(), "dynamodb things: no table") {
		t.Errorf("no table: err=%v, want one naming the client", err)
	}
	tb, err := awsjson.NewTable("dynamodb things", awsjson.TableOptions{Table: "things", Region: dynamotest.Region, Credentials: creds, Endpoint: srv.URL, MaxAttempts: 1}, 1<<12)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Name() != "things" || tb.HTTPTimeout() != 2*time.Second || tb.Endpoint() != srv.URL {
		t.Errorf("table %q timeout %v endpoint %q, want things, 2s, the fake's", tb.Name(), tb.HTTPTimeout(), tb.Endpoint())
	}
	put := func() error {
		return tb.Do(t.Context(), "PutItem", map[string]any{
			"Item":                map[string]any{"id": awsjson.S("a"), "n": awsjson.N(-42)},
			"ConditionExpression": "attribute_not_exists(id)",
		})
	}
	if err := put(); err != nil || awsjson.ConditionFailed(err) {
		t.Fatalf("put: %v", err)
	}
	item, ok := srv.Item("things", "a")
	if !ok || item["n"] != (dynamotest.Attr{Type: "N", Value: "-42"}) || item["id"] != (dynamotest.Attr{Type: "S", Value: "a"}) {
		t.Errorf("stored item %v, want id S a and n N -42", item)
	}
	err = put()
	if !awsjson.ConditionFailed(err) {
		t.Errorf("second put: err=%v, want a failed condition", err)
	}
	srv.Fail(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "boom")
	if err := put(); err == nil || awsjson.ConditionFailed(err) {
		t.Errorf("put while failing: err=%v, want an error that is not a failed condition", err)
	}
	srv.Restore()
	if awsjson.ConditionFailed(nil) || awsjson.ConditionFailed(errors.New("ConditionalCheckFailedException")) {
		t.Error("ConditionFailed holds for nil or a plain error")
	}
	if err := tb.Do(t.Context(), "PutItem", map[string]any{"Item": map[string]any{"id": awsjson.S("b")}, "Bad": func() {}}); err == nil || !strings.Contains(err.Error(), "PutItem") {
		t.Errorf("unencodable input: err=%v, want one naming the operation", err)
	}
}
