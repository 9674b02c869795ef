package fatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// kickstartKeys are the top-level keys of a kickstart file FusionAuth documents.
var kickstartKeys = []string{"variables", "apiKeys", "requests", "licenseId", "license", "settings"}

var (
	variableRef = regexp.MustCompile(`\\?#\{([^}]*)\}`)
	textInclude = regexp.MustCompile(`@\{([^}]+)\}`)
	jsonInclude = regexp.MustCompile(`^&\{([^}]+)\}$`)
)

// loadKickstart applies a kickstart file (§13) the way FusionAuth does: variables are
// resolved (#{UUID()}, #{ENV.NAME}, overrides), defaultTenantId pins the Default
// tenant's id, @{file} and &{file} are inlined, #{name} is substituted everywhere outside
// "variables", the API keys are created, and the requests run in order through the
// server's own handler with the first key. Anything the server does not understand is
// an error naming it.
func (s *Server) loadKickstart(path string, overrides map[string]string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	v, err := parseJSON(raw)
	if err != nil {
		return err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return errors.New("the file must hold a JSON object")
	}
	for _, k := range sortedKeys(doc) {
		if !slices.Contains(kickstartKeys, k) {
			return fmt.Errorf("unknown top-level key %q (known: %s)", k, strings.Join(kickstartKeys, ", "))
		}
	}
	vars, err := s.kickstartVariables(doc["variables"], overrides)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if id := vars["defaultTenantId"]; id != "" {
		c, ok := canonicalUUID(id)
		if !ok {
			s.mu.Unlock()
			return fmt.Errorf("variable defaultTenantId %q is not a UUID", id)
		}
		s.setDefaultTenantID(c)
		vars["defaultTenantId"] = c
		vars["FUSIONAUTH_TENANT_ID"] = c
	}
	for k, v := range vars {
		s.state.variables[k] = v
	}
	s.mu.Unlock()
	dir := filepath.Dir(path)
	resolved := map[string]any{}
	for _, k := range []string{"apiKeys", "requests"} {
		if doc[k] == nil {
			continue
		}
		inlined, err := inlineIncludes(doc[k], dir, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if resolved[k], err = substitute(inlined, vars); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	if err := s.kickstartAPIKeys(resolved["apiKeys"]); err != nil {
		return err
	}
	return s.kickstartRequests(resolved["requests"])
}

// kickstartVariables resolves the variables block: overrides first, then #{UUID()} and
// #{ENV.NAME} inside values. Built-in variables are available to the rest of the file.
func (s *Server) kickstartVariables(raw any, overrides map[string]string) (map[string]string, error) {
	s.mu.RLock()
	vars := map[string]string{}
	for k, v := range s.state.variables {
		vars[k] = v
	}
	s.mu.RUnlock()
	if raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, errors.New("variables must be an object")
		}
		for _, k := range sortedKeys(m) {
			str, ok := m[k].(string)
			if !ok {
				b, _ := json.Marshal(m[k])
				str = string(b)
			}
			str, err := expandRefs(str, func(_, ref string) (string, error) {
				return "", fmt.Errorf("variable %q: only #{UUID()} and #{ENV.NAME} can be used inside variables, not %s", k, ref)
			})
			if err != nil {
				return nil, err
			}
			vars[k] = str
		}
	}
	maps.Copy(vars, overrides)
	return vars, nil
}

// inlineIncludes replaces "&{file.json}" string values with the parsed file and
// "@{file}" inside strings with the file's text, recursively.
func inlineIncludes(v any, dir string, depth int) (any, error) {
	if depth > 10 {
		return nil, errors.New("includes nested too deeply")
	}
	switch x := v.(type) {
	case string:
		if m := jsonInclude.FindStringSubmatch(x); m != nil {
			b, err := os.ReadFile(filepath.Join(dir, m[1]))
			if err != nil {
				return nil, fmt.Errorf("include %s: %w", x, err)
			}
			inc, err := parseJSON(b)
			if err != nil {
				return nil, fmt.Errorf("include %s: %w", x, err)
			}
			return inlineIncludes(inc, dir, depth+1)
		}
		var ferr error
		out := textInclude.ReplaceAllStringFunc(x, func(ref string) string {
			name := ref[2 : len(ref)-1]
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				ferr = fmt.Errorf("include %s: %w", ref, err)
				return ref
			}
			return string(b)
		})
		return out, ferr
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := inlineIncludes(e, dir, depth)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := inlineIncludes(e, dir, depth)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// expandRefs replaces the variable references in s: \#{ is a literal #{, #{UUID()} a fresh
// UUID, #{ENV.NAME} the environment variable NAME, and any other #{name} what lookup returns
// for name (ref is the reference as written). When lookup fails, the reference stays as
// written and the error (the last one, when several fail) is returned with the result.
func expandRefs(s string, lookup func(name, ref string) (string, error)) (string, error) {
	var ferr error
	out := variableRef.ReplaceAllStringFunc(s, func(ref string) string {
		if strings.HasPrefix(ref, `\`) {
			return ref[1:]
		}
		name := ref[2 : len(ref)-1]
		switch {
		case name == "UUID()":
			return newUUID()
		case strings.HasPrefix(name, "ENV."):
			return os.Getenv(strings.TrimPrefix(name, "ENV."))
		}
		val, err := lookup(name, ref)
		if err != nil {
			ferr = err
			return ref
		}
		return val
	})
	return out, ferr
}

// substitute replaces #{name} in every string (and object key) with its variable;
// \#{ escapes. An unknown variable is an error.
func substitute(v any, vars map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		return expandRefs(x, func(name, ref string) (string, error) {
			val, ok := vars[name]
			if !ok {
				return "", fmt.Errorf("unknown variable %s", ref)
			}
			return val, nil
		})
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			nk, err := substitute(k, vars)
			if err != nil {
				return nil, err
			}
			r, err := substitute(e, vars)
			if err != nil {
				return nil, err
			}
			out[nk.(string)] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := substitute(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// kickstartList reads the kickstart's list name (raw): nil when it is absent.
func kickstartList(raw any, name string) ([]any, error) {
	list, ok := raw.([]any)
	if !ok && raw != nil {
		return nil, errors.New(name + " must be an array")
	}
	return list, nil
}

// kickstartAPIKeys creates the apiKeys; the first must be unrestricted, as FusionAuth
// runs the requests with it.
func (s *Server) kickstartAPIKeys(raw any) error {
	list, err := kickstartList(raw, "apiKeys")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("apiKeys[%d] must be an object", i)
		}
		errs := &apiErrors{}
		f := fields{m: m, prefix: fmt.Sprintf("apiKeys[%d].", i), errs: errs}
		k := &apiKey{id: newUUID(), key: f.str("key"), description: f.str("description")}
		if k.key == "" {
			k.key = randomToken(32)
		}
		k.keyManager, _ = f.boolean("keyManager")
		if t := f.str("tenantId"); t != "" {
			c, ok := canonicalUUID(t)
			if !ok || s.state.tenants[c] == nil {
				return fmt.Errorf("apiKeys[%d]: tenantId %q is not a tenant", i, t)
			}
			k.tenantID = c
		}
		var perr string
		if k.endpoints, perr = parseEndpoints(f.sub("permissions").object("endpoints")); perr != "" {
			return fmt.Errorf("apiKeys[%d]: %s", i, perr)
		}
		if errs.has() {
			return fmt.Errorf("apiKeys[%d]: %s", i, errs.summary())
		}
		if _, dup := s.state.apiKeys[k.key]; dup {
			return fmt.Errorf("apiKeys[%d]: duplicate key", i)
		}
		if i == 0 && (k.endpoints != nil || k.tenantID != "") {
			return errors.New("apiKeys[0] must be unrestricted (no permissions, no tenantId): kickstart runs its requests with it")
		}
		s.state.apiKeys[k.key] = k
		if i == 0 {
			s.state.firstKey = k.key
		}
	}
	return nil
}

// kickstartRequests runs the requests through the handler with the first API key.
func (s *Server) kickstartRequests(raw any) error {
	list, err := kickstartList(raw, "requests")
	if err != nil {
		return err
	}
	s.mu.RLock()
	key := s.state.firstKey
	s.mu.RUnlock()
	if key == "" && len(list) > 0 {
		return errors.New("requests need an API key: apiKeys is empty")
	}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("requests[%d] must be an object", i)
		}
		for _, k := range sortedKeys(m) {
			if !slices.Contains([]string{"method", "url", "body", "tenantId", "contentType"}, k) {
				return fmt.Errorf("requests[%d]: unknown key %q", i, k)
			}
		}
		method := strings.ToUpper(asString(m["method"]))
		target := asString(m["url"])
		if !slices.Contains([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, method) {
			return fmt.Errorf("requests[%d] %s %s: kickstart only runs POST, PUT and PATCH requests", i, method, target)
		}
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		var body []byte
		if b, present := m["body"]; present {
			var err error
			if body, err = json.Marshal(b); err != nil {
				return fmt.Errorf("requests[%d] %s %s: encode body: %w", i, method, target, err)
			}
		}
		req, err := http.NewRequest(method, "http://kickstart.invalid"+target, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("requests[%d] %s %s: %w", i, method, target, err)
		}
		req.RequestURI = target
		req.Header.Set("Authorization", key)
		ct := asString(m["contentType"])
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
		if t := asString(m["tenantId"]); t != "" {
			req.Header.Set("X-FusionAuth-TenantId", t)
		}
		rec := &recorder{header: http.Header{}}
		s.ServeHTTP(rec, req)
		switch {
		case rec.status == http.StatusNotImplemented || rec.status == http.StatusMethodNotAllowed:
			return fmt.Errorf("requests[%d] %s %s: %s", i, method, target, rec.header.Get(NotImplementedHeader))
		case rec.status < 200 || rec.status > 299:
			return fmt.Errorf("requests[%d] %s %s: status %d: %s", i, method, target, rec.status, strings.TrimSpace(rec.body.String()))
		}
		s.log.Debug("fatest: kickstart request", "method", method, "url", target, "status", rec.status)
	}
	return nil
}
