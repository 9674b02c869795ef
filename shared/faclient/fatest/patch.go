package fatest

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// patchKind is a PATCH flavour, chosen by Content-Type (§1.6).
type patchKind int

const (
	patchOriginal patchKind = iota // application/json: merge, arrays appended, null removes
	patchJSON                      // application/json-patch+json: RFC 6902
)

// readPatch reads a PATCH request: the id path parameter param, the flavour (from the
// Content-Type; none means application/json, as FusionAuth treats its other JSON APIs)
// and the raw body. JSON merge patch (RFC 7396), which FusionAuth also takes, is not
// implemented. On a bad request it writes the answer and reports false.
func (s *Server) readPatch(w http.ResponseWriter, r *http.Request, param string) (id string, kind patchKind, raw []byte, ok bool) {
	if id, ok = pathUUID(w, r, param); !ok {
		return "", 0, nil, false
	}
	raw, err := readBody(r)
	if err != nil {
		writeEmpty(w, http.StatusBadRequest)
		return "", 0, nil, false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "", "application/json":
		return id, patchOriginal, raw, true
	case "application/json-patch+json":
		return id, patchJSON, raw, true
	}
	s.writeUnsupported(w, r, "PATCH with Content-Type "+mt)
	return "", 0, nil, false
}

// patchObject applies a PATCH body to the stored object cur, which the API sends and
// answers wrapped as {key: …} (e.g. "tenant"); cur is not modified. It returns the
// patched key object ({} when the patch leaves none) and an error list for the caller's
// validation, holding a field error when key is not an object. On a patch that cannot be
// applied it writes the 400 and reports false.
func patchObject(w http.ResponseWriter, kind patchKind, key string, cur map[string]any, raw []byte) (obj map[string]any, errs *apiErrors, ok bool) {
	body, errs := applyPatch(kind, map[string]any{key: cloneMap(cur)}, raw)
	if errs != nil {
		writeErrors(w, http.StatusBadRequest, errs)
		return nil, nil, false
	}
	errs = &apiErrors{}
	obj = fields{m: body, errs: errs}.object(key)
	if obj == nil {
		obj = map[string]any{}
	}
	return obj, errs, true
}

// applyPatch applies a PATCH body of the given flavour to doc (the request shape, e.g.
// {"user":{…}}) and returns the result; doc itself is not modified.
func applyPatch(kind patchKind, doc map[string]any, body []byte) (map[string]any, *apiErrors) {
	if kind == patchJSON {
		return applyJSONPatch(doc, body)
	}
	patch, errs := decodeJSON(body)
	if errs != nil {
		return nil, errs
	}
	return mergeOriginal(cloneMap(doc), patch), nil
}

// The two ways a JSON Patch document fails, with the messages of the library FusionAuth
// applies it with (java-json-tools json-patch, through prime-mvc's
// JacksonPatchContentHandler).
var (
	errTestFailed = errors.New("value differs from expectations")
	errNoSuchPath = errors.New("no such path in target JSON document")
)

// applyJSONPatch applies a JSON Patch document (RFC 6902) to doc as one unit: on any
// failure nothing is applied. The answers are FusionAuth's, from prime-mvc's
// BaseJacksonContentHandler: a test operation whose value differs is a 400 with the
// general error [JSONPatchTestFailed]; anything else the patch library refuses (a path
// that does not exist, including a test of an absent key, a malformed operation) is a
// 400 with the general error [invalidJSON]. The messages' wording is inferred; the
// codes are the framework's.
func applyJSONPatch(doc map[string]any, body []byte) (map[string]any, *apiErrors) {
	invalid := func(detail string) *apiErrors {
		return generalError("[invalidJSON]", "Unable to parse JSON. The property [unknown] was invalid. The error was [Unexpected processing exception]. The detailed exception was ["+detail+"].")
	}
	v, err := parseJSON(body)
	if err != nil {
		return nil, invalid(err.Error())
	}
	ops, ok := v.([]any)
	if !ok {
		return nil, invalid("a JSON Patch document must be an array of operations")
	}
	out, err := jsonPatch(cloneMap(doc), ops)
	if errors.Is(err, errTestFailed) {
		return nil, generalError("[JSONPatchTestFailed]", "The JSON Patch test operation failed: "+err.Error()+".")
	}
	if err != nil {
		return nil, invalid(err.Error())
	}
	return out, nil
}

// mergeOriginal is FusionAuth's original PATCH: objects merge recursively, arrays are
// appended to the existing array, and null removes the key. dst is modified.
func mergeOriginal(dst, patch map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			if cur, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeOriginal(cur, pv)
			} else {
				dst[k] = mergeOriginal(map[string]any{}, pv)
			}
		case []any:
			if cur, ok := dst[k].([]any); ok {
				dst[k] = append(cur, cloneValue(pv).([]any)...)
			} else {
				dst[k] = cloneValue(pv)
			}
		default:
			dst[k] = pv
		}
	}
	return dst
}

// jsonPatch applies RFC 6902 operations to doc.
func jsonPatch(doc map[string]any, ops []any) (map[string]any, error) {
	var root any = doc
	for i, raw := range ops {
		op, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("operation %d is not an object", i)
		}
		name := asString(op["op"])
		path, ok := op["path"].(string)
		if !ok {
			return nil, fmt.Errorf("operation %d has no path", i)
		}
		if _, has := op["value"]; !has && (name == "add" || name == "replace" || name == "test") {
			return nil, fmt.Errorf("operation %d (%s %s) has no value", i, name, path)
		}
		var err error
		switch name {
		case "add":
			root, err = pointerAdd(root, path, cloneValue(op["value"]))
		case "remove":
			root, _, err = pointerRemove(root, path)
		case "replace":
			if root, _, err = pointerRemove(root, path); err == nil {
				root, err = pointerAdd(root, path, cloneValue(op["value"]))
			}
		case "move", "copy":
			from, ok := op["from"].(string)
			if !ok {
				return nil, fmt.Errorf("operation %d (%s) has no from", i, name)
			}
			var v any
			if name == "move" {
				root, v, err = pointerRemove(root, from)
			} else {
				v, err = pointerGet(root, from)
				v = cloneValue(v)
			}
			if err == nil {
				root, err = pointerAdd(root, path, v)
			}
		case "test":
			var v any
			if v, err = pointerGet(root, path); err == nil && !jsonEqual(v, normalize(op["value"])) {
				err = errTestFailed
			}
		default:
			return nil, fmt.Errorf("operation %d has unknown op %q", i, name)
		}
		if err != nil {
			return nil, fmt.Errorf("operation %d (%s %s): %w", i, name, path, err)
		}
	}
	out, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("the patched document is not an object")
	}
	return out, nil
}

// splitPointer splits a JSON Pointer (RFC 6901) into unescaped tokens.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("pointer %q must start with /", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, part := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func pointerGet(root any, p string) (any, error) {
	parts, err := splitPointer(p)
	if err != nil {
		return nil, err
	}
	cur := root
	for _, part := range parts {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, fmt.Errorf("%q: %w", p, errNoSuchPath)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%q: %w", p, errNoSuchPath)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%q: %w", p, errNoSuchPath)
		}
	}
	return cur, nil
}

// pointerParent resolves the container that holds the value at p, which is not the whole
// document (""): the container's pointer, the container and the last token of p.
func pointerParent(root any, p string) (parentPath string, parent any, last string, err error) {
	parts, err := splitPointer(p)
	if err != nil {
		return "", nil, "", err
	}
	if len(parts) > 1 {
		parentPath = "/" + strings.Join(escapeTokens(parts[:len(parts)-1]), "/")
	}
	if parent, err = pointerGet(root, parentPath); err != nil {
		return "", nil, "", err
	}
	return parentPath, parent, parts[len(parts)-1], nil
}

// pointerRemove removes the value at p, returning the new root and the removed value.
func pointerRemove(root any, p string) (any, any, error) {
	if p == "" {
		return nil, nil, errors.New("cannot remove the whole document")
	}
	parentPath, parent, last, err := pointerParent(root, p)
	if err != nil {
		return nil, nil, err
	}
	switch c := parent.(type) {
	case map[string]any:
		v, ok := c[last]
		if !ok {
			return nil, nil, fmt.Errorf("%q: %w", p, errNoSuchPath)
		}
		delete(c, last)
		return root, v, nil
	case []any:
		i, ok := arrayIndex(last, len(c), false)
		if !ok {
			return nil, nil, fmt.Errorf("%q: bad array index", p)
		}
		v := c[i]
		c = append(c[:i:i], c[i+1:]...)
		root, err = pointerSet(root, parentPath, c)
		return root, v, err
	}
	return nil, nil, fmt.Errorf("%q: %w", p, errNoSuchPath)
}

// pointerAdd adds v at p (into an array it inserts, "-" appending) and returns the
// (possibly new) root.
func pointerAdd(root any, p string, v any) (any, error) { return pointerPut(root, p, v, true) }

// pointerSet replaces the value at p (which exists) and returns the root.
func pointerSet(root any, p string, v any) (any, error) { return pointerPut(root, p, v, false) }

// pointerPut is pointerAdd when insert is set, else pointerSet.
func pointerPut(root any, p string, v any, insert bool) (any, error) {
	if p == "" {
		return v, nil
	}
	parentPath, parent, last, err := pointerParent(root, p)
	if err != nil {
		return nil, err
	}
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
		return root, nil
	case []any:
		i, ok := arrayIndex(last, len(c), insert)
		switch {
		case !ok:
			return nil, fmt.Errorf("%q: bad array index", p)
		case insert:
			return pointerSet(root, parentPath, slices.Insert(c, i, v))
		default:
			c[i] = v
			return root, nil
		}
	}
	return nil, fmt.Errorf("%q: parent is not a container", p)
}

// arrayIndex reads the last token of a pointer into an array of n elements: an index
// below n, or, where an element may be inserted (insert), up to n, "-" meaning n.
func arrayIndex(token string, n int, insert bool) (int, bool) {
	if insert && token == "-" {
		return n, true
	}
	i, err := strconv.Atoi(token)
	if insert {
		n++
	}
	return i, err == nil && i >= 0 && i < n
}

func escapeTokens(parts []string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
	}
	return out
}
