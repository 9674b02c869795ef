//go:build awsdefaultchain

package secrets_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/secrets/smtest"
)

// TestDefaultChain runs with -tags awsdefaultchain: without an access key in the
// environment, credentials and region come from a profile in the shared config files.
func TestDefaultChain(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{"app/key": "v1"})
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(config, []byte("[profile dev]\nregion = "+smtest.Region+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[dev]\naws_access_key_id = "+smtest.AccessKeyID+"\naws_secret_access_key = "+smtest.SecretAccessKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_PROFILE": "dev",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL,
	} {
		t.Setenv(k, v)
	}
	c, err := secrets.FromEnv(t.Context(), os.LookupEnv)
	if err != nil {
		t.Fatalf("FromEnv: got error %v, want the profile's credentials", err)
	}
	v, err := c.GetSecretValue(t.Context(), "app/key")
	if err != nil || aws.ToString(v.String) != "v1" {
		t.Fatalf("GetSecretValue: got (%v, %v), want v1", v.String, err)
	}
}
