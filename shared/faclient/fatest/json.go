package fatest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// apiError is one entry of FusionAuth's Errors object.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// apiErrors is FusionAuth's Errors object: fieldErrors is a map keyed by field path.
type apiErrors struct {
	FieldErrors   map[string][]apiError `json:"fieldErrors,omitempty"`
	GeneralErrors []apiError            `json:"generalErrors,omitempty"`
}

// field adds a field error; code is the full code, e.g. "[blank]user.email".
func (e *apiErrors) field(path, code, message string) {
	if e.FieldErrors == nil {
		e.FieldErrors = map[string][]apiError{}
	}
	e.FieldErrors[path] = append(e.FieldErrors[path], apiError{Code: code, Message: message})
}

// general adds a general error.
func (e *apiErrors) general(code, message string) {
	e.GeneralErrors = append(e.GeneralErrors, apiError{Code: code, Message: message})
}

// has reports whether any error was recorded.
func (e *apiErrors) has() bool {
	return e != nil && (len(e.FieldErrors) > 0 || len(e.GeneralErrors) > 0)
}

// fieldError returns an Errors object with one field error.
func fieldError(path, code, message string) *apiErrors {
	e := &apiErrors{}
	e.field(path, code, message)
	return e
}

// generalError returns an Errors object with one general error.
func generalError(code, message string) *apiErrors {
	e := &apiErrors{}
	e.general(code, message)
	return e
}

// writeJSON writes v as a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value written here is built from JSON-compatible values; reaching this
		// is a bug in the server, answered the way FusionAuth answers its own bugs.
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

// writeErrors writes FusionAuth's Errors object.
func writeErrors(w http.ResponseWriter, status int, e *apiErrors) {
	writeJSON(w, status, e)
}

// writeEmpty writes a status with no body (FusionAuth's 401, 404, 500 and bodiless 200s).
func writeEmpty(w http.ResponseWriter, status int) {
	w.WriteHeader(status)
}

// decodeJSON parses a request body into a JSON object. An empty body is an empty object.
// Numbers become int64 when integral and float64 otherwise.
func decodeJSON(body []byte) (map[string]any, *apiErrors) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	v, err := parseJSON(body)
	if err != nil {
		return nil, generalError("[invalidJSON]", "Unable to parse JSON. The request body could not be parsed as JSON. The error was ["+err.Error()+"].")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, generalError("[invalidJSON]", "Unable to parse JSON. The request body must be a JSON object.")
	}
	return m, nil
}

// parseJSON parses any JSON value with normalised numbers and rejects trailing data.
func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse JSON: unexpected data after the JSON value")
	}
	return normalize(v), nil
}

// normalize converts json.Number values to int64 (integral) or float64, recursively, and
// Go numeric types a caller of PutUser may use to int64/float64, so that every number the
// server stores has one of two types.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case time.Time:
		return x.UnixMilli()
	}
	if n, ok := goNumber(v); ok {
		return n
	}
	// Anything else (structs, typed maps): round-trip through JSON.
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	out, err := parseJSON(b)
	if err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// goNumber converts a number of Go's built-in numeric types to int64, or to float64 when
// it has a fraction or is too large for int64. A named type is not converted.
func goNumber(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Type().PkgPath() != "" {
		return nil, false
	}
	switch {
	case rv.CanInt():
		return rv.Int(), true
	case rv.CanUint() && rv.Kind() != reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return float64(u), true
		}
		return int64(u), true
	case rv.CanFloat():
		return rv.Float(), true
	}
	return nil, false
}

// cloneValue deep-copies a normalised JSON value.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return x
	}
}

// cloneMap deep-copies a JSON object; nil stays nil.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// fields reads typed values out of a decoded JSON object the way FusionAuth's Jackson
// binding does: strings holding numbers or booleans are coerced ("1025", "true"), other
// mismatches are [invalidJSON] field errors keyed by the property path.
type fields struct {
	m      map[string]any
	prefix string // e.g. "user." for paths in errors
	errs   *apiErrors
}

func (f fields) path(name string) string { return f.prefix + name }

func (f fields) invalid(name string, v any) {
	f.errs.field(f.path(name), "[invalidJSON]", fmt.Sprintf("Unable to parse JSON. The property [%s] was invalid. The error was [Possible conversion error]. The value [%v] could not be converted.", f.path(name), v))
}

// present reports whether name is set to a non-null value.
func (f fields) present(name string) bool {
	v, ok := f.m[name]
	return ok && v != nil
}

// str returns a string property ("" when absent or null).
func (f fields) str(name string) string {
	switch v := f.m[name].(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		f.invalid(name, v)
		return ""
	}
}

// boolean returns a boolean property and whether it was set.
func (f fields) boolean(name string) (bool, bool) {
	switch v := f.m[name].(type) {
	case nil:
		return false, false
	case bool:
		return v, true
	case string:
		if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
			return b, true
		}
	}
	f.invalid(name, f.m[name])
	return false, false
}

// integer returns an integer property and whether it was set.
func (f fields) integer(name string) (int64, bool) {
	switch v := f.m[name].(type) {
	case nil:
		return 0, false
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) {
			return int64(v), true
		}
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return i, true
		}
	}
	f.invalid(name, f.m[name])
	return 0, false
}

// setBool stores name as a boolean ("true" becomes true), def when it is absent or
// invalid (an invalid one is also an error).
func (f fields) setBool(name string, def bool) {
	if b, ok := f.boolean(name); ok {
		f.m[name] = b
	} else {
		f.m[name] = def
	}
}

// keepBool stores name as a boolean when it is set and valid ("true" becomes true).
func (f fields) keepBool(name string) {
	if b, ok := f.boolean(name); ok {
		f.m[name] = b
	}
}

// keepInt stores name as an integer when it is set and valid ("25" becomes 25), and
// returns it.
func (f fields) keepInt(name string) (int64, bool) {
	v, ok := f.integer(name)
	if ok {
		f.m[name] = v
	}
	return v, ok
}

// reference checks an optional id property that must name an existing what ("Key"):
// exists reports whether one has that (canonical) id. A reference is stored canonical;
// any other value is FusionAuth's [invalid] field error.
func (f fields) reference(name, what string, exists func(id string) bool) {
	if !f.present(name) {
		return
	}
	id, ok := canonicalUUID(f.str(name))
	if !ok || !exists(id) {
		f.errs.field(f.path(name), "[invalid]"+f.path(name), "The ["+f.path(name)+"] property does not reference an existing "+what+".")
		return
	}
	f.m[name] = id
}

// object returns an object property (nil when absent or null).
func (f fields) object(name string) map[string]any {
	switch v := f.m[name].(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	default:
		f.invalid(name, v)
		return nil
	}
}

// strings returns a list-of-strings property; a single string counts as a list of one.
func (f fields) strings(name string) []string {
	switch v := f.m[name].(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				f.invalid(name, v)
				return nil
			}
			out = append(out, s)
		}
		return out
	default:
		f.invalid(name, v)
		return nil
	}
}

// sub returns a reader for a nested object property.
func (f fields) sub(name string) fields {
	m := f.object(name)
	if m == nil {
		m = map[string]any{}
	}
	return fields{m: m, prefix: f.path(name) + ".", errs: f.errs}
}

// canonicalUUID parses a UUID in its 8-4-4-4-12 hex form and returns it lower-cased.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// pathUUID reads a UUID path parameter. A malformed value is FusionAuth's
// [couldNotConvert] field error, answered here.
func pathUUID(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	raw := r.PathValue(name)
	id, ok := canonicalUUID(raw)
	if !ok {
		writeErrors(w, http.StatusBadRequest, fieldError(name, "[couldNotConvert]"+name,
			"Invalid "+name+" ["+raw+"]. This must be a valid UUID String (e.g. 25a872da-bb44-4af8-a43d-e7bcb5351ebc)."))
		return "", false
	}
	return id, true
}

// optionalPathUUID reads a UUID path parameter that the route may not have (POST
// /api/user and POST /api/user/{userId}): "" when it is absent, else as pathUUID.
func optionalPathUUID(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	if r.PathValue(name) == "" {
		return "", true
	}
	return pathUUID(w, r, name)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// lookupPath returns the value at a dotted path in a JSON object.
func lookupPath(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = obj[part]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// truthy reads a boolean-ish configuration value (true or "true").
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// asString returns v when it is a string, else "".
func asString(v any) string {
	s, _ := v.(string)
	return s
}

// asInt64 returns v as an int64 when it is a number or a numeric string.
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), true
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonEqual compares normalised JSON values as JSON does: numbers by value (1 equals
// 1.0, as Jackson's numeric equivalence in FusionAuth's patch library has it), objects
// regardless of key order.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case int64, float64:
		fa, _ := toFloat(x)
		fb, ok := toFloat(b)
		return ok && fa == fb
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// toFloat returns a normalised JSON number as a float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
