package dynamotest_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// upd is an UpdateItem of key in table "t"; cond "" sends no condition.
func upd(key, expr, cond string, names map[string]string, values map[string]types.AttributeValue) *dynamodb.UpdateItemInput {
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String("t"),
		Key:                       map[string]types.AttributeValue{"pk": s(key)},
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	return in
}

// attrs are the fake's stored attributes for want, written as name, type, value triples.
func attrs(kv ...string) map[string]dynamotest.Attr {
	m := map[string]dynamotest.Attr{}
	for i := 0; i < len(kv); i += 3 {
		m[kv[i]] = dynamotest.Attr{Type: kv[i+1], Value: kv[i+2]}
	}
	return m
}

// TestUpdateItemCounter runs a rate limiter's counter through UpdateItem: ADD creates
// the item, increments it, and the condition refuses the increment at the maximum.
func TestUpdateItemCounter(t *testing.T) {
	srv, c := newServer(t)
	hit := func() error {
		_, err := c.UpdateItem(t.Context(), upd("c", "ADD #h :one SET #e = :exp", "attribute_not_exists(#h) OR #h < :max",
			map[string]string{"#h": "hits", "#e": "expiresAt"}, vals(":one", "N", "1", ":exp", "N", "1700003600", ":max", "N", "3")))
		return err
	}
	for i := 1; i <= 3; i++ {
		if err := hit(); err != nil {
			t.Fatalf("hit %d: err=%v, want nil", i, err)
		}
		want := attrs("pk", "S", "c", "hits", "N", strconv.Itoa(i), "expiresAt", "N", "1700003600")
		if got, _ := srv.Item("t", "c"); !maps.Equal(got, want) {
			t.Fatalf("after hit %d: item=%v, want %v", i, got, want)
		}
	}
	err := hit()
	checkCode(t, err, "ConditionalCheckFailedException", http.StatusBadRequest)
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok {
		t.Errorf("err=%v, want a *types.ConditionalCheckFailedException", err)
	}
	if got, _ := srv.Item("t", "c"); got["hits"].Value != "3" {
		t.Errorf("after a refused hit: hits=%v, want 3", got["hits"])
	}
	if got := srv.Calls("UpdateItem"); got != 4 {
		t.Errorf("Calls(UpdateItem)=%d, want 4", got)
	}
}

// TestUpdateItem checks SET and ADD together and apart, the operands, the numbers' form
// and ReturnValues, against the seed item {pk: k, num: 9, str: b, owner: a}.
func TestUpdateItem(t *testing.T) {
	tests := []struct {
		name     string
		in       *dynamodb.UpdateItemInput
		rv       types.ReturnValue
		want     map[string]dynamotest.Attr      // the item afterwards
		returned map[string]types.AttributeValue // UpdateItemOutput.Attributes
	}{
		{"ADD to a number", upd("k", "ADD num :v", "", nil, vals(":v", "N", "-10")), "",
			attrs("pk", "S", "k", "num", "N", "-1", "str", "S", "b", "owner", "S", "a"), nil},
		{"ADD creates the attribute", upd("k", "ADD other :v", "", nil, vals(":v", "N", "2")), "",
			attrs("pk", "S", "k", "num", "N", "9", "str", "S", "b", "owner", "S", "a", "other", "N", "2"), nil},
		{"ADD creates the item", upd("new", "ADD n :v", "", nil, vals(":v", "N", "5")), "",
			attrs("pk", "S", "new", "n", "N", "5"), nil},
		{"SET and ADD, in either order, in any case", upd("k", "set str = :s add num :v", "", nil, vals(":s", "S", "c", ":v", "N", "1")), "",
			attrs("pk", "S", "k", "num", "N", "10", "str", "S", "c", "owner", "S", "a"), nil},
		{"ADD and SET, several actions", upd("k", "ADD num :v, other :v SET str = :s, #o = :s", "", map[string]string{"#o": "owner"},
			vals(":s", "S", "z", ":v", "N", "1")), "",
			attrs("pk", "S", "k", "num", "N", "10", "str", "S", "z", "owner", "S", "z", "other", "N", "1"), nil},
		{"SET from another attribute reads the item before the update", upd("k", "ADD num :v SET other = num", "", nil, vals(":v", "N", "1")), "",
			attrs("pk", "S", "k", "num", "N", "10", "str", "S", "b", "owner", "S", "a", "other", "N", "9"), nil},
		{"exact decimal arithmetic", upd("k", "ADD num :v, other :w", "", nil, vals(":v", "N", "0.04", ":w", "N", "-0.0")), "",
			attrs("pk", "S", "k", "num", "N", "9.04", "str", "S", "b", "owner", "S", "a", "other", "N", "0"), nil},
		{"numbers beyond float64, canonical form", upd("new", "ADD n :v SET m = :m", "", nil, vals(":v", "N", "0012345678901234567890.50", ":m", "N", "1.5e2")), "",
			attrs("pk", "S", "new", "n", "N", "12345678901234567890.5", "m", "N", "150"), nil},
		{"condition on the existing item, value used only there", upd("k", "SET str = :s", "num = :nine", nil, vals(":s", "S", "c", ":nine", "N", "9")), "",
			attrs("pk", "S", "k", "num", "N", "9", "str", "S", "c", "owner", "S", "a"), nil},
		{"ReturnValues ALL_NEW", upd("k", "ADD num :v", "", nil, vals(":v", "N", "1")), types.ReturnValueAllNew,
			attrs("pk", "S", "k", "num", "N", "10", "str", "S", "b", "owner", "S", "a"),
			map[string]types.AttributeValue{"pk": s("k"), "num": n("10"), "str": s("b"), "owner": s("a")}},
		{"ReturnValues ALL_NEW of a new item", upd("new", "ADD n :v", "", nil, vals(":v", "N", "1")), types.ReturnValueAllNew,
			attrs("pk", "S", "new", "n", "N", "1"), map[string]types.AttributeValue{"pk": s("new"), "n": n("1")}},
		{"ReturnValues UPDATED_NEW", upd("k", "ADD num :v SET str = :s", "", nil, vals(":v", "N", "1", ":s", "S", "c")), types.ReturnValueUpdatedNew,
			attrs("pk", "S", "k", "num", "N", "10", "str", "S", "c", "owner", "S", "a"),
			map[string]types.AttributeValue{"num": n("10"), "str": s("c")}},
		{"ReturnValues NONE", upd("k", "ADD num :v", "", nil, vals(":v", "N", "1")), types.ReturnValueNone,
			attrs("pk", "S", "k", "num", "N", "10", "str", "S", "b", "owner", "S", "a"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newServer(t)
			tt.in.ReturnValues = tt.rv
			out, err := c.UpdateItem(t.Context(), tt.in)
			if err != nil {
				t.Fatalf("err=%v, want nil", err)
			}
			key := tt.in.Key["pk"].(*types.AttributeValueMemberS).Value
			if got, _ := srv.Item("t", key); !maps.Equal(got, tt.want) {
				t.Errorf("item=%v, want %v", got, tt.want)
			}
			if !equalAttributes(out.Attributes, tt.returned) {
				t.Errorf("Attributes=%v, want %v", out.Attributes, tt.returned)
			}
		})
	}
}

// TestUpdateItemExact checks that ADD sums exactly, as DynamoDB's decimal numbers do:
// 0.1 + 0.2 is 0.3, and a 38-digit number plus one is one more.
func TestUpdateItemExact(t *testing.T) {
	srv, c := newServer(t)
	for _, v := range []string{"0.1", "0.2", "12345678901234567890123456789012345678", "1"} {
		if _, err := c.UpdateItem(t.Context(), upd("x", "ADD n :v", "", nil, vals(":v", "N", v))); err != nil {
			t.Fatalf("ADD %s: %v", v, err)
		}
	}
	if got, _ := srv.Item("t", "x"); got["n"].Value != "12345678901234567890123456789012345679.3" {
		t.Errorf("n=%v, want 12345678901234567890123456789012345679.3", got["n"])
	}
}

// equalAttributes compares S and N attribute values.
func equalAttributes(a, b map[string]types.AttributeValue) bool {
	str := func(v types.AttributeValue) string {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			return "S:" + v.Value
		case *types.AttributeValueMemberN:
			return "N:" + v.Value
		}
		return "?"
	}
	return maps.EqualFunc(a, b, func(x, y types.AttributeValue) bool { return str(x) == str(y) })
}

// TestUpdateItemRefusals checks that what DynamoDB refuses in UpdateItem, and what the
// fake does not implement, answers an error and leaves the item as it was.
func TestUpdateItemRefusals(t *testing.T) {
	const invalid = "ValidationException"
	one := vals(":v", "N", "1")
	tests := []struct {
		name     string
		in       *dynamodb.UpdateItemInput
		code     string
		contains string
	}{
		{"REMOVE", upd("k", "REMOVE str", "", nil, nil), invalid, "not implemented: REMOVE in an update expression"},
		{"DELETE", upd("k", "DELETE str :v", "", nil, one), invalid, "not implemented: DELETE in an update expression"},
		{"SET the key", upd("k", "SET pk = :s", "", nil, vals(":s", "S", "x")), invalid, "Cannot update attribute pk. This attribute is part of the key"},
		{"ADD to the key by placeholder", upd("k", "ADD #k :v", "", map[string]string{"#k": "pk"}, one), invalid, "Cannot update attribute pk"},
		{"ADD to a string", upd("k", "ADD str :v", "", nil, one), invalid, "An operand in the update expression has an incorrect data type"},
		{"ADD a string", upd("k", "ADD num :s", "", nil, vals(":s", "S", "x")), invalid, "operator: ADD, operand type: STRING"},
		{"ADD a path", upd("k", "ADD num str", "", nil, nil), invalid, "Syntax error"},
		{"unused value", upd("k", "ADD num :v", "", nil, vals(":v", "N", "1", ":x", "N", "2")), invalid, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"},
		{"unused name", upd("k", "ADD num :v", "", map[string]string{"#o": "owner"}, one), invalid, "Value provided in ExpressionAttributeNames unused in expressions: keys: {#o}"},
		{"undefined value", upd("k", "ADD num :x", "", nil, one), invalid, "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :x"},
		{"undefined name in the condition", upd("k", "ADD num :v", "#x = :v", nil, one), invalid, "Invalid ConditionExpression: An expression attribute name used in the document path is not defined"},
		{"reserved word", upd("k", "SET owner = :v", "", nil, one), invalid, "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: owner"},
		{"SET twice", upd("k", "SET str = :v SET other = :v", "", nil, one), invalid, `The "SET" section can only be used once`},
		{"ADD twice", upd("k", "ADD num :v add other :v", "", nil, one), invalid, `The "ADD" section can only be used once`},
		{"one path twice", upd("k", "SET other = :v ADD other :v", "", nil, one), invalid, "Two document paths overlap"},
		{"if_not_exists", upd("k", "SET num = if_not_exists(num, :v)", "", nil, one), invalid, "not implemented: update function if_not_exists"},
		{"arithmetic", upd("k", "SET num = num + :v", "", nil, one), invalid, `not implemented: "+" in an update expression`},
		{"a nested path", upd("k", "SET a.b = :v", "", nil, one), invalid, `not implemented: "." in an update expression`},
		{"SET without =", upd("k", "SET num :v", "", nil, one), invalid, `not implemented: ":v" in an update expression`},
		{"a word that is no clause", upd("k", "PUT num = :v", "", nil, one), invalid, `not implemented: "PUT" in an update expression`},
		{"unfinished", upd("k", "SET num =", "", nil, nil), invalid, "Invalid UpdateExpression: Syntax error; token: <EOF>"},
		{"empty expression", upd("k", "  ", "", nil, nil), invalid, "Invalid UpdateExpression: The expression can not be empty;"},
		{"an unknown character", upd("k", "SET num = :v!", "", nil, one), invalid, "Invalid UpdateExpression: Syntax error"},
		{"SET from a missing attribute", upd("k", "SET num = other", "", nil, nil), invalid, "refers to an attribute that does not exist in the item"},
		{"no UpdateExpression", &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("k")}},
			invalid, "not implemented: UpdateItem without UpdateExpression"},
		{"ReturnValues ALL_OLD", func() *dynamodb.UpdateItemInput {
			in := upd("k", "ADD num :v", "", nil, one)
			in.ReturnValues = types.ReturnValueAllOld
			return in
		}(), invalid, "not implemented: UpdateItem ReturnValues ALL_OLD"},
		{"an unknown ReturnValues", func() *dynamodb.UpdateItemInput {
			in := upd("k", "ADD num :v", "", nil, one)
			in.ReturnValues = "EVERYTHING"
			return in
		}(), invalid, "Value 'EVERYTHING' at 'returnValues' failed to satisfy constraint"},
		{"another parameter", func() *dynamodb.UpdateItemInput {
			in := upd("k", "ADD num :v", "", nil, one)
			in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
			return in
		}(), invalid, "not implemented: UpdateItem parameter ReturnConsumedCapacity"},
		{"key with another attribute", &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: seed,
			UpdateExpression: aws.String("ADD num :v"), ExpressionAttributeValues: one}, invalid, "does not match the schema"},
		{"unknown table", &dynamodb.UpdateItemInput{TableName: aws.String("other"), Key: map[string]types.AttributeValue{"pk": s("k")},
			UpdateExpression: aws.String("ADD num :v"), ExpressionAttributeValues: one}, "ResourceNotFoundException", "Requested resource not found"},
		{"failed condition", upd("k", "ADD num :v", "num < :v", nil, one), "ConditionalCheckFailedException", "The conditional request failed"},
		{"failed condition on a missing item", upd("none", "ADD num :v", "num < :v", nil, one), "ConditionalCheckFailedException", "The conditional request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newServer(t)
			before, _ := srv.Item("t", "k")
			_, err := c.UpdateItem(t.Context(), tt.in)
			checkCode(t, err, tt.code, http.StatusBadRequest)
			if err != nil && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err=%v, want it to say %q", err, tt.contains)
			}
			if after, _ := srv.Item("t", "k"); !maps.Equal(after, before) {
				t.Errorf("item=%v after a refused request, want %v", after, before)
			}
			if _, ok := srv.Item("t", "none"); ok {
				t.Errorf("a refused request created an item")
			}
		})
	}
}

// TestUpdateItemConcurrent sends 50 conditional increments at once with a maximum of
// 30: the condition and the write are one step, so exactly 30 succeed.
func TestUpdateItemConcurrent(t *testing.T) {
	srv, c := newServer(t)
	var wg sync.WaitGroup
	var ok, refused atomic.Int32
	for range 50 {
		wg.Go(func() {
			_, err := c.UpdateItem(t.Context(), upd("c", "ADD #h :one", "attribute_not_exists(#h) OR #h < :max",
				map[string]string{"#h": "hits"}, vals(":one", "N", "1", ":max", "N", "30")))
			switch _, failed := errors.AsType[*types.ConditionalCheckFailedException](err); {
			case err == nil:
				ok.Add(1)
			case failed:
				refused.Add(1)
			default:
				t.Errorf("UpdateItem: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 30 || refused.Load() != 20 {
		t.Errorf("succeeded %d, refused %d, want 30 and 20", ok.Load(), refused.Load())
	}
	if got, _ := srv.Item("t", "c"); got["hits"].Value != "30" {
		t.Errorf("hits=%v, want 30", got["hits"])
	}
	if got := srv.Calls("UpdateItem"); got != 50 {
		t.Errorf("Calls(UpdateItem)=%d, want 50", got)
	}
}
