//go:build !awsdefaultchain

package secrets

import (
	"context"
	"errors"
)

// defaultChain is not built in: the Lambda binaries carry no SSO, STS or IMDS client.
func defaultChain(context.Context, Options) (Options, error) {
	return Options{}, errors.New("secrets manager client: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set " +
		"(Lambda sets them; locally export them, e.g. eval \"$(aws configure export-credentials --format env)\", " +
		"or build with -tags awsdefaultchain to use the AWS SDK's default credential chain)")
}
