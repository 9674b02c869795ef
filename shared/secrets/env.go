package secrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// FromEnv returns a Client configured as the Lambda runtime configures a function: region
// from AWS_REGION (or AWS_DEFAULT_REGION), static credentials from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and the endpoint from
// AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL when set. lookup is os.LookupEnv
// in production.
//
// Without an access key in the environment it falls back to the SDK's default
// configuration chain when built with -tags awsdefaultchain, and fails naming the missing
// variables otherwise.
func FromEnv(ctx context.Context, lookup func(string) (string, bool)) (*Client, error) {
	o, err := EnvOptions(ctx, lookup, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL")
	if err != nil {
		return nil, err
	}
	c, err := New(o)
	if err != nil {
		return nil, fmt.Errorf("secrets manager client from the environment: %w", err)
	}
	return c, nil
}

// EnvOptions reads what FromEnv reads, for any AWS service: region and credentials as
// the Lambda runtime sets them (or the default chain, as FromEnv says), and the endpoint
// from the first of endpointVars that is set. Package lock's DynamoDB client takes them.
func EnvOptions(ctx context.Context, lookup func(string) (string, bool), endpointVars ...string) (Options, error) {
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := lookup(n); ok && v != "" {
				return v
			}
		}
		return ""
	}
	o := Options{
		Region:   get("AWS_REGION", "AWS_DEFAULT_REGION"),
		Endpoint: get(endpointVars...),
	}
	id, secret := get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return defaultChain(ctx, o)
	}
	if o.Region == "" {
		return Options{}, errors.New("secrets manager client: AWS_REGION is not set (Lambda sets it)")
	}
	o.Credentials = staticCredentials(aws.Credentials{
		AccessKeyID:     id,
		SecretAccessKey: secret,
		SessionToken:    get("AWS_SESSION_TOKEN"),
		Source:          "environment",
	})
	return o, nil
}

// staticCredentials hands out the same credentials on every call: Lambda's stay valid for
// the life of the execution environment.
type staticCredentials aws.Credentials

// Retrieve implements aws.CredentialsProvider.
func (s staticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(s), nil
}
