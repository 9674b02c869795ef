package app

import (
	"context"
	"fmt"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/secrets"
)

// ProfileLocks returns the per-profile write leases in the DynamoDB table cfg names
// (PROFILE_LOCKS_TABLE), signed with the credentials and region the Lambda runtime puts
// in the environment (lookup is os.LookupEnv); AWS_ENDPOINT_URL_DYNAMODB (or
// AWS_ENDPOINT_URL) points it elsewhere. Nothing is called at cold start.
func ProfileLocks(ctx context.Context, cfg config.FusionAuth, lookup func(string) (string, bool)) (anon.Locks, error) {
	o, err := secrets.EnvOptions(ctx, lookup, "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")
	if err != nil {
		return nil, fmt.Errorf("profile locks: %w", err)
	}
	d, err := lock.NewDynamoDB(lock.DynamoDBOptions{Table: cfg.LocksTable, Region: o.Region, Credentials: o.Credentials, Endpoint: o.Endpoint})
	if err != nil {
		return nil, fmt.Errorf("profile locks: %w", err)
	}
	return d, nil
}
