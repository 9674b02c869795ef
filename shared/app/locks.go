package app

import (
	"context"
	"fmt"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/awsjson"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/secrets"
)

// Stores are what an HTTP function shares with every other instance: the per-profile
// write leases and, for the functions that create stubs or send email (video,
// register), the per-client counts. In AWS both are DynamoDB tables; the local stack
// keeps them in memory.
type Stores struct {
	Locks  anon.Locks
	Limits limit.Limiter // nil for a function that limits nothing
}

// DeployedStores returns the DynamoDB stores: the leases in PROFILE_LOCKS_TABLE and,
// when limitsTable is set (CLIENT_LIMITS_TABLE), the per-client counts in it. Both
// are signed with the credentials and region the Lambda runtime puts in the environment
// (lookup is os.LookupEnv), read once for both; AWS_ENDPOINT_URL_DYNAMODB (or
// AWS_ENDPOINT_URL) points them elsewhere. Nothing is called at cold start.
func DeployedStores(ctx context.Context, cfg config.FusionAuth, limitsTable string, lookup func(string) (string, bool)) (Stores, error) {
	table, err := dynamoDBTables(ctx, lookup)
	if err != nil {
		return Stores{}, err
	}
	locks, err := lock.NewDynamoDB(table(cfg.LocksTable))
	if err != nil {
		return Stores{}, fmt.Errorf("profile locks: %w", err)
	}
	s := Stores{Locks: locks}
	if limitsTable == "" {
		return s, nil
	}
	if s.Limits, err = limit.NewDynamoDB(table(limitsTable)); err != nil {
		return Stores{}, fmt.Errorf("client limits: %w", err)
	}
	return s, nil
}

// ProfileLocks returns the per-profile write leases in the DynamoDB table cfg names
// (PROFILE_LOCKS_TABLE), signed as DeployedStores signs them: the stores of a function
// that serves no HTTP (prune). Nothing is called at cold start.
func ProfileLocks(ctx context.Context, cfg config.FusionAuth, lookup func(string) (string, bool)) (anon.Locks, error) {
	s, err := DeployedStores(ctx, cfg, "", lookup)
	if err != nil {
		return nil, err
	}
	return s.Locks, nil
}

// dynamoDBTables reads the DynamoDB credentials, region and endpoint from the
// environment once and returns the options of a table by its name.
func dynamoDBTables(ctx context.Context, lookup func(string) (string, bool)) (func(table string) awsjson.TableOptions, error) {
	o, err := secrets.EnvOptions(ctx, lookup, "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")
	if err != nil {
		return nil, fmt.Errorf("dynamodb tables: %w", err)
	}
	return func(table string) awsjson.TableOptions {
		return awsjson.TableOptions{Table: table, Region: o.Region, Credentials: o.Credentials, Endpoint: o.Endpoint}
	}, nil
}
