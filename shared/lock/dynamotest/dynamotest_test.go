package dynamotest_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/changebank/anonuser/shared/lock/dynamotest"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// seed is the item every case starts from, in table "t" (partition key "pk").
var seed = map[string]types.AttributeValue{"pk": s("k"), "num": n("9"), "str": s("b"), "owner": s("a")}

func newServer(t *testing.T) (*dynamotest.Server, *dynamodb.Client) {
	t.Helper()
	srv := dynamotest.NewServer(t, dynamotest.Table{Name: "t", Key: "pk"})
	c := srv.Client(t)
	if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("t"), Item: seed}); err != nil {
		t.Fatalf("unconditional PutItem: %v", err)
	}
	return srv, c
}

// put is a conditional PutItem of {pk: key, new: "yes"}.
func put(key, cond string, names map[string]string, values map[string]types.AttributeValue) func(context.Context, *dynamodb.Client) error {
	return func(ctx context.Context, c *dynamodb.Client) error {
		in := &dynamodb.PutItemInput{
			TableName:                 aws.String("t"),
			Item:                      map[string]types.AttributeValue{"pk": s(key), "new": s("yes")},
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}
		if cond != "" {
			in.ConditionExpression = aws.String(cond)
		}
		_, err := c.PutItem(ctx, in)
		return err
	}
}

func vals(kv ...string) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{}
	for i := 0; i < len(kv); i += 3 {
		if kv[i+1] == "N" {
			m[kv[i]] = n(kv[i+2])
		} else {
			m[kv[i]] = s(kv[i+2])
		}
	}
	return m
}

// TestConditions runs condition expressions against the seed item (or no item, key "none")
// through the SDK: "" passes and writes, ConditionalCheckFailedException fails and
// writes nothing.
func TestConditions(t *testing.T) {
	const failed = "ConditionalCheckFailedException"
	tests := []struct {
		name string
		call func(context.Context, *dynamodb.Client) error
		want string // "" or the error code
	}{
		{"attribute_not_exists on a missing item", put("none", "attribute_not_exists(pk)", nil, nil), ""},
		{"attribute_not_exists on an existing item", put("k", "attribute_not_exists(pk)", nil, nil), failed},
		{"attribute_not_exists of a missing attribute", put("k", "attribute_not_exists(other)", nil, nil), ""},
		{"N compares as a number: 9 < 10", put("k", "num < :v", nil, vals(":v", "N", "10")), ""},
		{"N: 9 < 9 is false", put("k", "num < :v", nil, vals(":v", "N", "9")), failed},
		{"N: 9 = 9.0", put("k", "num = :v", nil, vals(":v", "N", "9.0")), ""},
		{"N with exponent: 9 < 1e1", put("k", "num < :v", nil, vals(":v", "N", "1e1")), ""},
		{"S compares by bytes: b < c", put("k", "str < :v", nil, vals(":v", "S", "c")), ""},
		{"S: b < a is false", put("k", "str < :v", nil, vals(":v", "S", "a")), failed},
		{"S: b < B is false (bytes, not case-folded)", put("k", "str < :v", nil, vals(":v", "S", "B")), failed},
		{"different types are never equal", put("k", "num = :v", nil, vals(":v", "S", "9")), failed},
		{"a missing attribute compares false", put("k", "other < :v", nil, vals(":v", "N", "1")), failed},
		{"a condition on a missing item sees no attributes", put("none", "num < :v", nil, vals(":v", "N", "10")), failed},
		{"OR: the second term holds", put("k", "attribute_not_exists(pk) OR num < :v", nil, vals(":v", "N", "10")), ""},
		{"or is a keyword in any case", put("k", "attribute_not_exists(pk) or num < :v", nil, vals(":v", "N", "10")), ""},
		{"OR: neither term holds", put("k", "attribute_not_exists(pk) OR num < :v", nil, vals(":v", "N", "1")), failed},
		{"name placeholder", put("k", "#o = :o", map[string]string{"#o": "owner"}, vals(":o", "S", "a")), ""},
		{"name placeholder, other value", put("k", "#o = :o", map[string]string{"#o": "owner"}, vals(":o", "S", "b")), failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newServer(t)
			before, _ := srv.Item("t", "k")
			err := tt.call(t.Context(), c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			}
			checkCode(t, err, tt.want, http.StatusBadRequest)
			if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok {
				t.Errorf("err=%v, want a *types.ConditionalCheckFailedException", err)
			}
			if after, _ := srv.Item("t", "k"); !maps.Equal(after, before) {
				t.Errorf("item=%v after a failed condition, want %v", after, before)
			}
			if _, ok := srv.Item("t", "none"); ok {
				t.Errorf("an item was written under a failed condition")
			}
		})
	}
}

// TestRefusals checks that what DynamoDB refuses, and what the fake does not implement,
// answers an error, never a success.
func TestRefusals(t *testing.T) {
	const invalid = "ValidationException"
	owner := map[string]string{"#o": "owner"}
	tests := []struct {
		name     string
		call     func(context.Context, *dynamodb.Client) error
		code     string
		contains string
	}{
		{"undefined value", put("k", "num < :x", nil, vals(":v", "N", "1")), invalid, "not defined; attribute value: :x"},
		{"undefined name", put("k", "#x = :o", owner, vals(":o", "S", "a")), invalid, "not defined; attribute name: #x"},
		{"unused value", put("k", "attribute_not_exists(pk)", nil, vals(":v", "N", "1")), invalid, "unused in expressions: keys: {:v}"},
		{"unused name", put("k", "num < :v", owner, vals(":v", "N", "1")), invalid, "unused in expressions: keys: {#o}"},
		{"names without an expression", put("k", "", owner, nil), invalid, "can only be specified when using expressions"},
		{"values without an expression", put("k", "", nil, vals(":v", "N", "1")), invalid, "can only be specified when using expressions"},
		{"reserved word as a bare name", put("k", "owner = :o", nil, vals(":o", "S", "a")), invalid, "reserved keyword: owner"},
		{"AND", put("k", "num < :v AND str < :v", nil, vals(":v", "N", "1")), invalid, `not implemented: "AND" in a condition expression`},
		{"<=", put("k", "num <= :v", nil, vals(":v", "N", "1")), invalid, `not implemented: "<=" in a condition expression`},
		{"another function", put("k", "attribute_exists(pk)", nil, nil), invalid, "not implemented: condition function attribute_exists"},
		{"parentheses", put("k", "(attribute_not_exists(pk))", nil, nil), invalid, `not implemented: "(" in a condition expression`},
		{"a nested path", put("k", "a.b = :v", nil, vals(":v", "N", "1")), invalid, `"." in a condition expression`},
		{"syntax error", put("k", "num <", nil, nil), invalid, "Syntax error"},
		{"a lone name", put("k", "num", nil, nil), invalid, "Syntax error"},
		{"a lone function name", put("k", "attribute_not_exists", nil, nil), invalid, "Syntax error"},
		{"unclosed function", put("k", "attribute_not_exists(pk", nil, nil), invalid, "Syntax error"},
		{"a value where a path must be", put("k", "attribute_not_exists(:v)", nil, vals(":v", "N", "1")), invalid, "Incorrect operand type"},
		{"an unknown character", put("k", "num ! :v", nil, vals(":v", "N", "1")), invalid, "Syntax error"},
		{"empty expression", put("k", " ", nil, nil), invalid, "can not be empty"},
		{"ReturnValues", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: seed, ReturnValues: types.ReturnValueAllOld})
			return err
		}, invalid, "not implemented: PutItem parameter ReturnValues"},
		{"another operation", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("k")}})
			return err
		}, invalid, "not implemented: operation GetItem"},
		{"another attribute type", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"),
				Item: map[string]types.AttributeValue{"pk": s("k"), "b": &types.AttributeValueMemberBOOL{Value: true}}})
			return err
		}, invalid, "not implemented: attribute type BOOL"},
		{"unknown table", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("other"), Item: seed})
			return err
		}, "ResourceNotFoundException", "Requested resource not found"},
		{"item without its key", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"x": s("k")}})
			return err
		}, invalid, "Missing the key pk"},
		{"key of the wrong type", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": n("1")}})
			return err
		}, invalid, "Type mismatch for key pk"},
		{"empty key", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("")}})
			return err
		}, invalid, "cannot contain an empty string value"},
		{"key with another attribute", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: seed})
			return err
		}, invalid, "does not match the schema"},
		{"not a number", func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": s("k"), "x": n("1/2")}})
			return err
		}, invalid, "cannot be converted to a numeric value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newServer(t)
			before, _ := srv.Item("t", "k")
			err := tt.call(t.Context(), c)
			checkCode(t, err, tt.code, http.StatusBadRequest)
			if err != nil && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err=%v, want it to say %q", err, tt.contains)
			}
			if after, _ := srv.Item("t", "k"); !maps.Equal(after, before) {
				t.Errorf("item=%v after a refused request, want %v", after, before)
			}
		})
	}
}

// TestDeleteItem checks an unconditional and a conditional delete.
func TestDeleteItem(t *testing.T) {
	srv, c := newServer(t)
	del := func(cond *string, values map[string]types.AttributeValue) error {
		_, err := c.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{
			TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("k")},
			ConditionExpression: cond, ExpressionAttributeValues: values,
		})
		return err
	}
	err := del(aws.String("str = :v"), vals(":v", "S", "zzz"))
	checkCode(t, err, "ConditionalCheckFailedException", http.StatusBadRequest)
	if _, ok := srv.Item("t", "k"); !ok {
		t.Fatalf("item deleted under a failed condition")
	}
	if err := del(aws.String("str = :v"), vals(":v", "S", "b")); err != nil {
		t.Fatalf("conditional DeleteItem: %v", err)
	}
	if _, ok := srv.Item("t", "k"); ok {
		t.Fatalf("item still there after DeleteItem")
	}
	if err := del(nil, nil); err != nil {
		t.Errorf("unconditional DeleteItem of a missing item=%v, want nil", err)
	}
	if p, d := srv.Calls("PutItem"), srv.Calls("DeleteItem"); p != 1 || d != 3 {
		t.Errorf("Calls: PutItem %d, DeleteItem %d, want 1 and 3", p, d)
	}
}

// TestCredentials checks the credential scope: key id, region and service.
func TestCredentials(t *testing.T) {
	srv := dynamotest.NewServer(t, dynamotest.Table{Name: "t", Key: "pk"})
	tests := []struct {
		name, keyID, region, code string
	}{
		{"the fake's own", dynamotest.AccessKeyID, dynamotest.Region, ""},
		{"another key", "AKIDOTHER", dynamotest.Region, "UnrecognizedClientException"},
		{"another region", dynamotest.AccessKeyID, "us-east-1", "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dynamodb.New(dynamodb.Options{
				Region:           tt.region,
				BaseEndpoint:     aws.String(srv.URL),
				Credentials:      credentials.NewStaticCredentialsProvider(tt.keyID, "secret", ""),
				RetryMaxAttempts: 1,
			})
			err := put("k", "", nil, nil)(t.Context(), c)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			}
			checkCode(t, err, tt.code, http.StatusBadRequest)
		})
	}
}

// TestFail checks that Fail answers every request with the given error until Restore.
func TestFail(t *testing.T) {
	srv, c := newServer(t)
	srv.Fail(http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "injected")
	err := put("new", "", nil, nil)(t.Context(), c)
	checkCode(t, err, "InternalServerError", http.StatusInternalServerError)
	if _, ok := errors.AsType[*types.InternalServerError](err); !ok {
		t.Errorf("err=%v, want a *types.InternalServerError", err)
	}
	if _, ok := srv.Item("t", "new"); ok {
		t.Errorf("a failed request wrote its item")
	}
	srv.Restore()
	if err := put("new", "", nil, nil)(t.Context(), c); err != nil {
		t.Fatalf("after Restore: err=%v, want nil", err)
	}
	if _, ok := srv.Item("t", "new"); !ok {
		t.Errorf("after Restore: item not written")
	}
}

// TestProtocol checks requests that are not the DynamoDB JSON 1.0 protocol.
func TestProtocol(t *testing.T) {
	srv := dynamotest.NewServer(t, dynamotest.Table{Name: "t", Key: "pk"})
	tests := []struct{ name, method, target, contentType string }{
		{"GET", http.MethodGet, "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0"},
		{"no target", http.MethodPost, "", "application/x-amz-json-1.0"},
		{"JSON 1.1", http.MethodPost, "DynamoDB_20120810.PutItem", "application/x-amz-json-1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", tt.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type string `json:"__type"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusBadRequest ||
				body.Type != "com.amazon.coral.validate#ValidationException" {
				t.Errorf("status=%d, __type=%q (%v), want 400 and a ValidationException", resp.StatusCode, body.Type, err)
			}
		})
	}
}

func checkCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("err=nil, want %s", code)
	}
	if ae, ok := errors.AsType[smithy.APIError](err); !ok || ae.ErrorCode() != code {
		t.Errorf("err=%v, want code %s", err, code)
	}
	if re, ok := errors.AsType[*awshttp.ResponseError](err); !ok || re.HTTPStatusCode() != status {
		t.Errorf("err=%v, want HTTP status %d", err, status)
	}
}
