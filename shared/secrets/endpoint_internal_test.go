package secrets

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestDefaultEndpoint checks the endpoint built from the region: the partition's DNS
// suffix, as the SDK's partitions.json gives it.
func TestDefaultEndpoint(t *testing.T) {
	tests := map[string]string{
		"eu-west-1":      "https://secretsmanager.eu-west-1.amazonaws.com",
		"us-gov-west-1":  "https://secretsmanager.us-gov-west-1.amazonaws.com",
		"cn-north-1":     "https://secretsmanager.cn-north-1.amazonaws.com.cn",
		"us-iso-east-1":  "https://secretsmanager.us-iso-east-1.c2s.ic.gov",
		"us-isob-east-1": "https://secretsmanager.us-isob-east-1.sc2s.sgov.gov",
		"eusc-de-east-1": "https://secretsmanager.eusc-de-east-1.amazonaws.eu",
	}
	for region, want := range tests {
		t.Run(region, func(t *testing.T) {
			c, err := New(Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.aws.Endpoint(); got != want {
				t.Errorf("endpoint: got %q, want %q", got, want)
			}
		})
	}
	if _, err := New(Options{Region: "eu-west-1", Endpoint: "localhost:4566", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}); err == nil {
		t.Error("New with a relative endpoint: got nil error, want one")
	}
}
