package secrets_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/secrets/smtest"
)

// TestAgreesWithTheSDK reads the same secrets through this client and the AWS SDK's own,
// against the fake endpoint that checks every signature: both must see the same values and
// the same missing secret.
func TestAgreesWithTheSDK(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{"app/key": "v1", "app/json": `{"apiKey":"k"}`})
	srv.SetBinary("app/bin", []byte{0, 1, 0xff})
	ours, sdk := srv.Client(t), srv.SDKClient(t)
	for _, id := range []string{"app/key", srv.ARN("app/key"), "app/json", "app/bin"} {
		t.Run(id, func(t *testing.T) {
			got, err := ours.GetSecretValue(t.Context(), id)
			if err != nil {
				t.Fatalf("GetSecretValue: got error %v, want nil", err)
			}
			want, err := sdk.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
			if err != nil {
				t.Fatalf("SDK GetSecretValue: got error %v, want nil", err)
			}
			if got.ARN != aws.ToString(want.ARN) || got.Name != aws.ToString(want.Name) || got.VersionID != aws.ToString(want.VersionId) {
				t.Errorf("ids: got (%q, %q, %q), want the SDK's (%q, %q, %q)", got.ARN, got.Name, got.VersionID,
					aws.ToString(want.ARN), aws.ToString(want.Name), aws.ToString(want.VersionId))
			}
			if (got.String == nil) != (want.SecretString == nil) || aws.ToString(got.String) != aws.ToString(want.SecretString) {
				t.Errorf("SecretString: got %v, want the SDK's %v", got.String, want.SecretString)
			}
			if string(got.Binary) != string(want.SecretBinary) {
				t.Errorf("SecretBinary: got %q, want the SDK's %q", got.Binary, want.SecretBinary)
			}
		})
	}

	_, err := ours.GetSecretValue(t.Context(), "app/missing")
	if !errors.Is(err, secrets.ErrNotFound) || !strings.Contains(err.Error(), `"app/missing"`) {
		t.Errorf("missing secret: got %v, want an error naming it that matches ErrNotFound", err)
	}
	if e, ok := errors.AsType[*secrets.Error](err); !ok || e.Code != "ResourceNotFoundException" || e.StatusCode != http.StatusBadRequest {
		t.Errorf("missing secret: got %#v, want *Error ResourceNotFoundException 400", err)
	}
	_, err = sdk.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/missing")})
	if _, ok := errors.AsType[*types.ResourceNotFoundException](err); !ok {
		t.Errorf("SDK on the missing secret: got %v, want *types.ResourceNotFoundException", err)
	}
}

// TestWrongCredentialsAreRefused shows the fake checks the signature this client makes:
// a wrong secret key, and an unknown key id, are refused without a read, and not retried.
func TestWrongCredentialsAreRefused(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{"app/key": "v1"})
	tests := map[string]struct {
		id, secret string
		wantCode   string
	}{
		"wrong secret key": {smtest.AccessKeyID, "not-the-secret", "InvalidSignatureException"},
		"unknown key id":   {"AKIDUNKNOWN", smtest.SecretAccessKey, "UnrecognizedClientException"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := secrets.New(secrets.Options{Region: smtest.Region, Endpoint: srv.URL,
				Credentials: credentials.NewStaticCredentialsProvider(tc.id, tc.secret, "")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetSecretValue(t.Context(), "app/key")
			if e, ok := errors.AsType[*secrets.Error](err); !ok || e.Code != tc.wantCode {
				t.Errorf("GetSecretValue: got %v, want *Error %s", err, tc.wantCode)
			}
		})
	}
	if got := srv.Reads("app/key"); got != 0 {
		t.Errorf("reads: got %d, want 0", got)
	}
}

// fakeService answers with the given responses in turn (status, body), counting requests.
func fakeService(tb testing.TB, answers ...[2]any) (*httptest.Server, *atomic.Int32) {
	tb.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		i := int(n.Add(1)) - 1
		a := answers[min(i, len(answers)-1)]
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(a[0].(int))
		_, _ = io.WriteString(w, a[1].(string))
	}))
	tb.Cleanup(srv.Close)
	return srv, &n
}

func TestRetries(t *testing.T) {
	ok := [2]any{200, `{"Name":"app/key","SecretString":"v1"}`}
	tests := []struct {
		name      string
		answers   [][2]any
		wantErr   string // "" for success
		wantCalls int32
	}{
		{name: "5xx then success", answers: [][2]any{{500, `{"__type":"InternalServiceError","Message":"x"}`}, ok}, wantCalls: 2},
		{name: "throttled then success", answers: [][2]any{{400, `{"__type":"com.amazonaws.secretsmanager#ThrottlingException:http://internal","message":"slow down"}`}, ok}, wantCalls: 2},
		{name: "429 then success", answers: [][2]any{{429, `{}`}, ok}, wantCalls: 2},
		{name: "access denied is final", answers: [][2]any{{400, `{"__type":"AccessDeniedException","Message":"no"}`}, ok},
			wantErr: "AccessDeniedException", wantCalls: 1},
		{name: "three failures give up", answers: [][2]any{{503, `{"__type":"ServiceUnavailable"}`}},
			wantErr: "ServiceUnavailable", wantCalls: 3},
		{name: "unreadable result", answers: [][2]any{{200, `{"SecretString":"v1-SECRET-`}},
			wantErr: "not a GetSecretValue result", wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := fakeService(t, tc.answers...)
			c, err := secrets.New(secrets.Options{Region: "eu-west-1", Endpoint: srv.URL,
				Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.GetSecretValue(t.Context(), "app/key")
			switch {
			case tc.wantErr == "" && (err != nil || aws.ToString(v.String) != "v1"):
				t.Errorf("GetSecretValue: got (%v, %v), want v1", v.String, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("GetSecretValue: got error %v, want one containing %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), "SECRET"):
				t.Errorf("error %q quotes the value", err)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("requests: got %d, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{"app/key": "v1"})
	lambdaEnv := map[string]string{
		"AWS_REGION":                       smtest.Region,
		"AWS_ACCESS_KEY_ID":                smtest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            smtest.SecretAccessKey,
		"AWS_SESSION_TOKEN":                "session-token-of-the-role",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL,
		"AWS_ENDPOINT_URL":                 "http://127.0.0.1:9/not-this-one",
	}
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}
	c, err := secrets.FromEnv(t.Context(), lookup(lambdaEnv))
	if err != nil {
		t.Fatalf("FromEnv: got error %v, want nil", err)
	}
	// The fake verifies the signature, which covers the session token's header.
	if v, err := c.GetSecretValue(t.Context(), "app/key"); err != nil || aws.ToString(v.String) != "v1" {
		t.Fatalf("GetSecretValue: got (%v, %v), want v1 from the endpoint in AWS_ENDPOINT_URL_SECRETS_MANAGER", v.String, err)
	}

	var token atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token.Store(r.Header.Get("X-Amz-Security-Token"))
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"SecretString":"v"}`)
	}))
	t.Cleanup(hook.Close)
	env := map[string]string{}
	for k, v := range lambdaEnv {
		env[k] = v
	}
	delete(env, "AWS_ENDPOINT_URL_SECRETS_MANAGER")
	env["AWS_ENDPOINT_URL"] = hook.URL
	c, err = secrets.FromEnv(t.Context(), lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecretValue(t.Context(), "app/key"); err != nil {
		t.Fatalf("GetSecretValue via AWS_ENDPOINT_URL: %v", err)
	}
	if got := token.Load(); got != "session-token-of-the-role" {
		t.Errorf("X-Amz-Security-Token: got %v, want AWS_SESSION_TOKEN", got)
	}

	for name, tc := range map[string]struct {
		drop []string
		want []string
	}{
		"no region":     {drop: []string{"AWS_REGION"}, want: []string{"AWS_REGION"}},
		"no access key": {drop: []string{"AWS_ACCESS_KEY_ID"}, want: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "-tags awsdefaultchain"}},
		"no secret key": {drop: []string{"AWS_SECRET_ACCESS_KEY"}, want: []string{"AWS_SECRET_ACCESS_KEY"}},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range lambdaEnv {
				env[k] = v
			}
			for _, k := range tc.drop {
				delete(env, k)
			}
			_, err := secrets.FromEnv(t.Context(), lookup(env))
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("FromEnv: got %v, want an error naming %s", err, w)
				}
			}
		})
	}
}
