package lock

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestDynamoDBAttemptTimeout: one attempt of the default client gives up after 2 s, so
// three attempts and their waits fit in a visit's lock wait.
func TestDynamoDBAttemptTimeout(t *testing.T) {
	d, err := NewDynamoDB(DynamoDBOptions{Table: "locks", Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.table.HTTPTimeout(); got != 2*time.Second {
		t.Errorf("attempt timeout %v, want 2s", got)
	}
}
