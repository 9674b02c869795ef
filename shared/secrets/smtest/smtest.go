package smtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/changebank/anonuser/shared/secrets"
)

// Region is the AWS region of the fake endpoint, its ARNs and the clients Client builds.
const Region = "eu-west-1"

// AccountID is the AWS account id in the fake's ARNs.
const AccountID = "123456789012"

// AccessKeyID and SecretAccessKey are the one credential pair the fake accepts: every
// request must carry a valid SigV4 signature made with them.
const (
	AccessKeyID     = "AKIDSMTEST"
	SecretAccessKey = "smtest-secret-access-key-for-the-local-endpoint"
)

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

// Client returns the functions' Secrets Manager client (package secrets) for the fake:
// the credentials it accepts, region Region, one attempt per call.
func (s *Server) Client(tb testing.TB) *secrets.Client {
	tb.Helper()
	c, err := secrets.New(secrets.Options{
		Region:      Region,
		Endpoint:    s.URL,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		HTTPClient:  s.srv.Client(),
		MaxAttempts: 1,
	})
	if err != nil {
		tb.Fatalf("smtest: client: %v", err)
	}
	return c
}

// SDKClient returns the AWS SDK's own client for the fake, with the same settings as
// Client: the fake's tests run it to show the fake answers as the service does.
func (s *Server) SDKClient(tb testing.TB) *secretsmanager.Client {
	tb.Helper()
	return secretsmanager.New(secretsmanager.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
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
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "body not readable")
		return
	}
	if code, msg := checkSignature(r, body); code != "" {
		writeError(w, http.StatusBadRequest, code, msg)
		return
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
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

// checkSignature verifies the request's SigV4 signature the way the service does: it
// signs the same request (the signed headers, the body, the time in X-Amz-Date) with the
// one known credential and compares. It returns the AWS error code and message of a
// failure, or "" for a valid signature.
func checkSignature(r *http.Request, body []byte) (code, msg string) {
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	var credential, signedHeaders string
	for _, part := range strings.Split(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[3] != "secretsmanager" {
		return "IncompleteSignatureException", "Credential must be <key id>/<date>/<region>/secretsmanager/aws4_request."
	}
	if scope[0] != AccessKeyID {
		return "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "IncompleteSignatureException", "X-Amz-Date is missing or malformed."
	}
	if d := time.Since(at); d > 5*time.Minute || d < -5*time.Minute {
		return "InvalidSignatureException", "Signature expired: X-Amz-Date is more than 5 minutes from now."
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "InvalidSignatureException", "request cannot be rebuilt"
	}
	for _, name := range strings.Split(signedHeaders, ";") {
		switch name {
		case "host", "content-length", "x-amz-date", "x-amz-security-token":
			// Set by the signer from the request, the time and the credentials.
		default:
			again.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), "secretsmanager", scope[2], at); err != nil {
		return "InvalidSignatureException", "request cannot be signed"
	}
	if again.Header.Get("Authorization") != r.Header.Get("Authorization") {
		return "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
	}
	return "", ""
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
