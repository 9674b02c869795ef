package smtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Region is the AWS region of the fake endpoint, its ARNs and the clients Client builds.
const Region = "eu-west-1"

// AccountID is the AWS account id in the fake's ARNs.
const AccountID = "123456789012"

// Server is a fake Secrets Manager endpoint listening on 127.0.0.1. It is safe for concurrent use.
type Server struct {
	// URL is the endpoint's base URL, for secretsmanager.Options.BaseEndpoint or
	// AWS_ENDPOINT_URL_SECRETS_MANAGER.
	URL string

	srv *httptest.Server

	mu      sync.Mutex
	secrets map[string]*secret // by name
	reads   map[string]int     // GetSecretValue calls by name (or by the unknown id asked for)
}

type secret struct {
	str     *string
	bin     []byte
	version int
	created time.Time
}

// NewServer starts a fake endpoint holding secrets (name → SecretString) and stops it when the
// test ends.
func NewServer(tb testing.TB, secrets map[string]string) *Server {
	tb.Helper()
	s, err := Start(secrets)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake endpoint holding secrets (name → SecretString) outside a test, for
// tools such as benchmarks; the caller stops it with Close.
func Start(secrets map[string]string) (*Server, error) {
	s := &Server{secrets: make(map[string]*secret), reads: make(map[string]int)}
	for name, value := range secrets {
		s.Set(name, value)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtest: listen on 127.0.0.1: %w", err)
	}
	// Built by hand rather than with httptest.NewServer to pin the address to 127.0.0.1.
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(s.serveHTTP)}}
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the endpoint and waits for requests in flight to finish. Calling it again
// does nothing.
func (s *Server) Close() { s.srv.Close() }

// Set creates the secret name or puts value as its new current version (a rotation).
func (s *Server) Set(name, value string) {
	s.put(name, &value, nil)
}

// SetBinary creates the secret name or puts value as its new current version, stored as
// SecretBinary instead of SecretString.
func (s *Server) SetBinary(name string, value []byte) {
	s.put(name, nil, append([]byte(nil), value...))
}

func (s *Server) put(name string, str *string, bin []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[name]
	if sec == nil {
		sec = &secret{created: time.Now().Truncate(time.Second)}
		s.secrets[name] = sec
	}
	sec.str, sec.bin = str, bin
	sec.version++
}

// Delete removes the secret name; reading it then fails with ResourceNotFoundException.
func (s *Server) Delete(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.secrets, name)
}

// Reads returns how many GetSecretValue calls asked for the secret id (a name, or the ARN of a
// stored secret, which counts under its name), including calls that failed.
func (s *Server) Reads(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[s.nameOf(id)]
}

// ARN returns the ARN the fake gives the secret name. GetSecretValue accepts it in place of
// the name.
func (s *Server) ARN(name string) string {
	sum := sha256.Sum256([]byte(name))
	// Real ARNs end in "-" and six random characters; derive them so they are stable.
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", Region, AccountID, name, hex.EncodeToString(sum[:3]))
}

// Client returns a real SDK client for the fake: static credentials, region Region, no retries.
func (s *Server) Client(tb testing.TB) *secretsmanager.Client {
	tb.Helper()
	return secretsmanager.New(secretsmanager.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       s.srv.Client(),
	})
}

// nameOf maps an ARN the fake gave out to its secret name; other ids map to themselves.
func (s *Server) nameOf(id string) string {
	prefix := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:", Region, AccountID)
	rest, ok := strings.CutPrefix(id, prefix)
	if i := strings.LastIndexByte(rest, '-'); ok && i > 0 && s.ARN(rest[:i]) == id {
		return rest[:i]
	}
	return id
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "")
		return
	}
	// The SDK signs every request; a missing or foreign scope means the client is misconfigured.
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/secretsmanager/aws4_request") {
		writeError(w, http.StatusBadRequest, "IncompleteSignatureException",
			"Authorization header requires a SigV4 signature for service secretsmanager.")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, http.StatusBadRequest, "SerializationException", "Content-Type must be application/x-amz-json-1.1, got "+ct)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "secretsmanager.GetSecretValue" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "smtest implements only secretsmanager.GetSecretValue, got "+target)
		return
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "body is not a JSON object")
		return
	}
	if in.SecretID == "" {
		writeError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
		return
	}

	s.mu.Lock()
	name := s.nameOf(in.SecretID)
	s.reads[name]++
	sec, ok := s.secrets[name]
	var out map[string]any
	if ok {
		out = map[string]any{
			"ARN":           s.ARN(name),
			"Name":          name,
			"VersionId":     versionID(name, sec.version),
			"VersionStages": []string{"AWSCURRENT"},
			"CreatedDate":   float64(sec.created.Unix()),
		}
		if sec.str != nil {
			out["SecretString"] = *sec.str
		}
		if sec.bin != nil {
			out["SecretBinary"] = sec.bin // encoding/json writes []byte as base64, as the protocol wants
		}
	}
	s.mu.Unlock()

	switch {
	case !ok:
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	case in.VersionID != "" && in.VersionID != out["VersionId"],
		in.VersionStage != "" && in.VersionStage != "AWSCURRENT":
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId or VersionStage.")
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// versionID is a stable UUID-shaped id for version v of the secret name.
func versionID(name string, v int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", name, v))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeError(w http.ResponseWriter, status int, errType, message string) {
	writeJSON(w, status, map[string]string{"__type": errType, "Message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "00000000-0000-0000-0000-000000000000")
	w.WriteHeader(status)
	// The connection is the only thing that can fail here and the client reports it.
	_ = json.NewEncoder(w).Encode(v)
}
