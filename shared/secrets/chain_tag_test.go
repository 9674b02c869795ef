//go:build !awsdefaultchain

package secrets_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDefaultChainBuild runs this package's default-chain test (chain_default_test.go),
// which compiles only with -tags awsdefaultchain, so that plain `go test ./...` covers
// the path local runs with a profile take.
func TestDefaultChainBuild(t *testing.T) {
	cmd := exec.Command("go", "test", "-count=1", "-v", "-tags", "awsdefaultchain", "-run", "^TestDefaultChain$", ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDefaultChain ") {
		t.Fatalf("go test -tags awsdefaultchain: got %v\n%s\nwant TestDefaultChain to run and pass", err, out)
	}
}
