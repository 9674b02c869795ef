package dynamotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/changebank/anonuser/shared/secrets/smtest"
)

// Region is the region the fake's credential scope must name, and that Client uses:
// the fake Secrets Manager's (smtest), so that one Lambda environment reaches both.
const Region = smtest.Region

// AccessKeyID and SecretAccessKey are the one credential pair the fake accepts (by the
// access key id in the credential scope; the signature is not checked): smtest's, for
// the same reason.
const (
	AccessKeyID     = smtest.AccessKeyID
	SecretAccessKey = smtest.SecretAccessKey
)

// Error types on the wire, as DynamoDB writes them in __type.
const (
	typeConditionalCheckFailed = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
	typeResourceNotFound       = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
	typeValidation             = "com.amazon.coral.validate#ValidationException"
	typeSerialization          = "com.amazon.coral.service#SerializationException"
	typeMissingToken           = "com.amazon.coral.service#MissingAuthenticationTokenException"
	typeIncompleteSignature    = "com.amazon.coral.service#IncompleteSignatureException"
	typeUnrecognizedClient     = "com.amazon.coral.service#UnrecognizedClientException"
	typeInvalidSignature       = "com.amazon.coral.service#InvalidSignatureException"
)

// Table declares a table: its name and the name of its partition key, of type S.
type Table struct {
	Name string
	Key  string
}

// Attr is one attribute value as the fake stores it: Type "S" or "N", and the value as
// written on the wire, except that a number is stored as DynamoDB stores it, with leading
// and trailing zeroes trimmed (formatNumber).
type Attr struct {
	Type  string
	Value string
}

// Server is a fake DynamoDB endpoint listening on 127.0.0.1. It is safe for concurrent use.
type Server struct {
	// URL is the endpoint's base URL, for dynamodb.Options.BaseEndpoint.
	URL string

	srv *httptest.Server

	mu     sync.Mutex
	tables map[string]*table
	calls  map[string]int // requests by operation name, including failed ones
	fail   *apiError      // answer to every request while set (Fail, Restore)
}

type table struct {
	key   string
	items map[string]map[string]Attr // by the key's S value
}

// NewServer starts a fake endpoint holding the given empty tables and stops it when the
// test ends.
func NewServer(tb testing.TB, tables ...Table) *Server {
	tb.Helper()
	s, err := Start(tables...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake endpoint holding the given empty tables, for programs (the caller
// stops it with Close).
func Start(tables ...Table) (*Server, error) {
	s := &Server{tables: make(map[string]*table), calls: make(map[string]int)}
	for _, t := range tables {
		s.tables[t.Name] = &table{key: t.Key, items: make(map[string]map[string]Attr)}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dynamotest: listen on 127.0.0.1: %w", err)
	}
	// Built by hand rather than with httptest.NewServer to pin the address to 127.0.0.1.
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(s.serveHTTP)}}
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the endpoint. Calling it again does nothing.
func (s *Server) Close() { s.srv.Close() }

// Client returns the AWS SDK's DynamoDB client for the fake: static credentials it
// accepts, region Region, one attempt per call (so a test sees each failure as it is).
func (s *Server) Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return dynamodb.New(dynamodb.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       s.srv.Client(),
	})
}

// Item returns a copy of the item whose partition key is key in the named table, and
// whether there is one.
func (s *Server) Item(tableName, key string) (map[string]Attr, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[tableName]
	if !ok {
		return nil, false
	}
	item, ok := t.items[key]
	return maps.Clone(item), ok
}

// Calls returns how many requests named the operation (e.g. "PutItem") in X-Amz-Target so
// far, including those that failed.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

// Fail makes every request from now on answer status with the error errType (written as
// DynamoDB writes __type, e.g. "com.amazonaws.dynamodb.v20120810#InternalServerError") and
// message, until Restore.
func (s *Server) Fail(status int, errType, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = &apiError{status: status, errType: errType, message: message}
}

// Restore ends Fail: requests are served again.
func (s *Server) Restore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = nil
}

// apiError is an error answer: the HTTP status, the __type and the message.
type apiError struct {
	status  int
	errType string
	message string
}

func validation(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, errType: typeValidation, message: fmt.Sprintf(format, args...)}
}

func notImplemented(format string, args ...any) *apiError {
	return validation("dynamotest: not implemented: "+format, args...)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/" || !ok:
		writeError(w, notImplemented("%s %s with X-Amz-Target %q (only POST / with DynamoDB_20120810.<Operation>)",
			r.Method, r.URL.Path, r.Header.Get("X-Amz-Target")))
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.0":
		writeError(w, notImplemented("Content-Type %q (only application/x-amz-json-1.0)", r.Header.Get("Content-Type")))
		return
	}
	if e := checkCredential(r); e != nil {
		writeError(w, e)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, &apiError{status: http.StatusBadRequest, errType: typeSerialization, message: "body not readable"})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock() // one lock for the whole request: a conditional write is atomic
	if s.fail != nil {
		writeError(w, s.fail)
		return
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, &apiError{status: http.StatusBadRequest, errType: typeSerialization, message: "body is not a JSON object"})
		return
	}
	var out any = struct{}{}
	var e *apiError
	switch op {
	case "PutItem":
		e = s.putItem(req)
	case "DeleteItem":
		e = s.deleteItem(req)
	case "UpdateItem":
		out, e = s.updateItem(req)
	default:
		e = notImplemented("operation %s", op)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// request is the part of a PutItem, DeleteItem or UpdateItem request the fake reads.
type request struct {
	table     *table
	tableName string
	cond      *string
	names     map[string]string
	values    map[string]Attr
}

// parseRequest reads the parameters common to PutItem, DeleteItem and UpdateItem, after
// refusing any parameter other than these and the operation's own (own).
func (s *Server) parseRequest(op string, req map[string]json.RawMessage, own ...string) (*request, *apiError) {
	for name := range req {
		switch name {
		case "TableName", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues":
		default:
			if !slices.Contains(own, name) {
				return nil, notImplemented("%s parameter %s", op, name)
			}
		}
	}
	var p request
	if err := json.Unmarshal(req["TableName"], &p.tableName); err != nil || p.tableName == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	if t, ok := s.tables[p.tableName]; ok {
		p.table = t
	} else {
		return nil, &apiError{status: http.StatusBadRequest, errType: typeResourceNotFound, message: "Requested resource not found"}
	}
	if raw, ok := req["ConditionExpression"]; ok {
		var c string
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, validation("ConditionExpression must be a string")
		}
		p.cond = &c
	}
	if raw, ok := req["ExpressionAttributeNames"]; ok {
		if err := json.Unmarshal(raw, &p.names); err != nil || p.names == nil {
			return nil, validation("ExpressionAttributeNames must be a map of strings")
		}
	}
	if raw, ok := req["ExpressionAttributeValues"]; ok {
		values, e := decodeAttrs(raw)
		if e != nil {
			return nil, e
		}
		p.values = values
	}
	return &p, nil
}

func (s *Server) putItem(req map[string]json.RawMessage) *apiError {
	p, e := s.parseRequest("PutItem", req, "Item")
	if e != nil {
		return e
	}
	raw, ok := req["Item"]
	if !ok {
		return validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
	}
	item, e := decodeAttrs(raw)
	if e != nil {
		return e
	}
	key, e := keyOf(p.table, item)
	if e != nil {
		return e
	}
	if e := checkCondition(p, p.table.items[key]); e != nil {
		return e
	}
	p.table.items[key] = item
	return nil
}

func (s *Server) deleteItem(req map[string]json.RawMessage) *apiError {
	p, e := s.parseRequest("DeleteItem", req, "Key")
	if e != nil {
		return e
	}
	key, e := readKey(p.table, req)
	if e != nil {
		return e
	}
	if e := checkCondition(p, p.table.items[key]); e != nil {
		return e
	}
	delete(p.table.items, key)
	return nil
}

// readKey returns the value of the request's Key, which must name only the table's
// partition key.
func readKey(t *table, req map[string]json.RawMessage) (string, *apiError) {
	raw, ok := req["Key"]
	if !ok {
		return "", validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
	}
	k, e := decodeAttrs(raw)
	if e != nil {
		return "", e
	}
	if len(k) != 1 {
		return "", validation("The provided key element does not match the schema")
	}
	return keyOf(t, k)
}

// keyOf returns the partition key's value in item, which must be a non-empty S.
func keyOf(t *table, item map[string]Attr) (string, *apiError) {
	a, ok := item[t.key]
	switch {
	case !ok:
		return "", validation("One or more parameter values were invalid: Missing the key %s in the item", t.key)
	case a.Type != "S":
		return "", validation("One or more parameter values were invalid: Type mismatch for key %s expected: S actual: %s", t.key, a.Type)
	case a.Value == "":
		return "", validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", t.key)
	}
	return a.Value, nil
}

// decodeAttrs reads a map of attribute values ({"name": {"S": "..."}, ...}).
func decodeAttrs(raw json.RawMessage) (map[string]Attr, *apiError) {
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &apiError{status: http.StatusBadRequest, errType: typeSerialization, message: "attribute values must be a map of AttributeValue objects"}
	}
	out := make(map[string]Attr, len(m))
	for name, v := range m {
		if len(v) != 1 {
			return nil, validation("One or more parameter values were invalid: Supplied AttributeValue has %d datatypes set, must contain exactly one of the supported datatypes (attribute %s)", len(v), name)
		}
		for typ, val := range v {
			if typ != "S" && typ != "N" {
				return nil, notImplemented("attribute type %s (attribute %s; only S and N)", typ, name)
			}
			var str string
			if err := json.Unmarshal(val, &str); err != nil {
				return nil, &apiError{status: http.StatusBadRequest, errType: typeSerialization, message: fmt.Sprintf("attribute %s: %s value must be a string", name, typ)}
			}
			if typ == "N" {
				r, ok := parseNumber(str)
				if !ok {
					return nil, validation("The parameter cannot be converted to a numeric value: %s", str)
				}
				str = formatNumber(r)
			}
			out[name] = Attr{Type: typ, Value: str}
		}
	}
	return out, nil
}

// checkCredential checks the SigV4 credential scope the way DynamoDB names its failures;
// it does not check the signature.
func checkCredential(r *http.Request) *apiError {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		return &apiError{status: http.StatusBadRequest, errType: typeMissingToken, message: "Request is missing Authentication Token"}
	}
	var credential string
	for part := range strings.SplitSeq(auth, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
			credential = v
		}
	}
	scope := strings.Split(credential, "/")
	switch {
	case len(scope) != 5 || scope[4] != "aws4_request":
		return &apiError{status: http.StatusBadRequest, errType: typeIncompleteSignature, message: "Credential must be <key id>/<date>/<region>/dynamodb/aws4_request"}
	case scope[0] != AccessKeyID:
		return &apiError{status: http.StatusBadRequest, errType: typeUnrecognizedClient, message: "The security token included in the request is invalid."}
	case scope[2] != Region:
		return &apiError{status: http.StatusBadRequest, errType: typeInvalidSignature, message: fmt.Sprintf("Credential should be scoped to a valid region, not %q (this endpoint is %s)", scope[2], Region)}
	case scope[3] != "dynamodb":
		return &apiError{status: http.StatusBadRequest, errType: typeInvalidSignature, message: fmt.Sprintf("Credential should be scoped to correct service: 'dynamodb', not %q", scope[3])}
	}
	return nil
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"__type": e.errType, "message": e.message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	// Encoding maps of strings (of maps of strings) or an empty struct cannot fail.
	_ = json.NewEncoder(&buf).Encode(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", "00000000-0000-0000-0000-000000000000")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(buf.Bytes())), 10))
	w.WriteHeader(status)
	// The connection is the only thing that can fail here and the client reports it.
	_, _ = w.Write(buf.Bytes())
}
