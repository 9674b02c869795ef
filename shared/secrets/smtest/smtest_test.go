package smtest_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/changebank/anonuser/shared/secrets/smtest"
)

func TestGetSecretValue(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{"app/key": "v1"})
	client := srv.SDKClient(t)

	get := func(tb testing.TB, id string) (*secretsmanager.GetSecretValueOutput, error) {
		tb.Helper()
		return client.GetSecretValue(tb.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	}

	out, err := get(t, "app/key")
	if err != nil {
		t.Fatalf("GetSecretValue: got error %v, want nil", err)
	}
	if got := aws.ToString(out.SecretString); got != "v1" {
		t.Errorf("SecretString: got %q, want %q", got, "v1")
	}
	if got := aws.ToString(out.Name); got != "app/key" {
		t.Errorf("Name: got %q, want %q", got, "app/key")
	}
	if got, want := aws.ToString(out.ARN), srv.ARN("app/key"); got != want {
		t.Errorf("ARN: got %q, want %q", got, want)
	}
	if len(out.VersionStages) != 1 || out.VersionStages[0] != "AWSCURRENT" {
		t.Errorf("VersionStages: got %v, want [AWSCURRENT]", out.VersionStages)
	}
	if out.CreatedDate == nil || out.CreatedDate.IsZero() {
		t.Errorf("CreatedDate: got %v, want a time", out.CreatedDate)
	}
	firstVersion := aws.ToString(out.VersionId)

	srv.Set("app/key", "v2")
	out, err = get(t, srv.ARN("app/key"))
	if err != nil {
		t.Fatalf("GetSecretValue by ARN: got error %v, want nil", err)
	}
	if got := aws.ToString(out.SecretString); got != "v2" {
		t.Errorf("SecretString after Set: got %q, want %q", got, "v2")
	}
	if aws.ToString(out.VersionId) == firstVersion {
		t.Errorf("VersionId after Set: got %q again, want a new one", firstVersion)
	}

	srv.SetBinary("app/bin", []byte{0, 1, 0xff})
	out, err = get(t, "app/bin")
	if err != nil {
		t.Fatalf("GetSecretValue binary: got error %v, want nil", err)
	}
	if out.SecretString != nil || string(out.SecretBinary) != "\x00\x01\xff" {
		t.Errorf("binary secret: got (%v, %q), want (nil, %q)", out.SecretString, out.SecretBinary, "\x00\x01\xff")
	}

	_, err = get(t, "app/missing")
	if _, ok := errors.AsType[*types.ResourceNotFoundException](err); !ok {
		t.Errorf("missing secret: got error %v, want *types.ResourceNotFoundException", err)
	}
	srv.Delete("app/key")
	_, err = get(t, "app/key")
	if _, ok := errors.AsType[*types.ResourceNotFoundException](err); !ok {
		t.Errorf("deleted secret: got error %v, want *types.ResourceNotFoundException", err)
	}

	for id, want := range map[string]int{"app/key": 3, srv.ARN("app/key"): 3, "app/bin": 1, "app/missing": 1, "never": 0} {
		if got := srv.Reads(id); got != want {
			t.Errorf("Reads(%q): got %d, want %d", id, got, want)
		}
	}
}

func TestRejectsMalformedRequests(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{"app/key": "v1"})
	tests := []struct {
		name     string
		header   map[string]string
		wantType string
	}{
		{
			name:     "unsigned",
			header:   map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
			wantType: "IncompleteSignatureException",
		},
		{
			name: "other operation",
			header: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.PutSecretValue",
				"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20251125/eu-west-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"},
			wantType: "UnknownOperationException",
		},
		{
			name: "wrong content type",
			header: map[string]string{"Content-Type": "application/json", "X-Amz-Target": "secretsmanager.GetSecretValue",
				"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20251125/eu-west-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"},
			wantType: "SerializationException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", strings.NewReader(`{"SecretId":"app/key"}`))
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("POST: got error %v, want nil", err)
			}
			body, err := io.ReadAll(res.Body)
			if cerr := res.Body.Close(); cerr != nil {
				t.Errorf("close body: %v", cerr)
			}
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"__type":"`+tt.wantType+`"`) {
				t.Errorf("response: got %d %s, want 400 with __type %q", res.StatusCode, body, tt.wantType)
			}
		})
	}
	if got := srv.Reads("app/key"); got != 0 {
		t.Errorf("Reads after rejected requests: got %d, want 0", got)
	}
}

func TestStartAndClose(t *testing.T) {
	srv, err := smtest.Start(map[string]string{"app/key": "v1"})
	if err != nil {
		t.Fatalf("Start: got error %v, want nil", err)
	}
	t.Cleanup(srv.Close) // a second Close is a no-op
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL: got %q, want http://127.0.0.1:<port>", srv.URL)
	}
	client := srv.SDKClient(t)
	out, err := client.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/key")})
	if err != nil {
		t.Fatalf("GetSecretValue: got error %v, want nil", err)
	}
	if got := aws.ToString(out.SecretString); got != "v1" {
		t.Errorf("SecretString: got %q, want %q", got, "v1")
	}

	srv.Close()
	if _, err := client.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/key")}); err == nil {
		t.Errorf("GetSecretValue after Close: got nil error, want a connection error")
	}
}
