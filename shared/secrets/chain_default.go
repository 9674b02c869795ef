//go:build awsdefaultchain

package secrets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
)

// defaultChain resolves credentials, region and endpoint through the AWS SDK's default
// configuration chain (environment, shared config and credentials files, SSO, web
// identity, container and instance metadata), for local runs with a profile. Region and
// endpoint already found in the environment win.
func defaultChain(ctx context.Context, o Options) (Options, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Options{}, fmt.Errorf("secrets manager client: AWS default configuration: %w", err)
	}
	if o.Region == "" {
		o.Region = cfg.Region
	}
	if o.Endpoint == "" && cfg.BaseEndpoint != nil {
		o.Endpoint = *cfg.BaseEndpoint
	}
	o.Credentials = cfg.Credentials
	return o, nil
}
