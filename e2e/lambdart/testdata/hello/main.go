// Command hello is the smallest Go Lambda function: the baseline that
// scripts/coldstart.sh compares the project's functions against. It lives under
// testdata so that go build ./... and go vet ./... leave it alone.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) {
		return "hello", nil
	})
}
