package esquery

import (
	"strings"
)

// fieldKind is how a field is mapped in FusionAuth's user index (see the package documentation).
type fieldKind uint8

const (
	kindDynamic      fieldKind = iota // typed by the stored value (Elasticsearch dynamic mapping)
	kindKeyword                       // exact, case-sensitive
	kindLowerKeyword                  // FusionAuth's exact_lower analyzer: whole value, lower-cased
	kindText                          // standard analyzer
	kindDate                          // epoch ms or ISO-8601
	kindNumber                        // long
)

// knownKinds maps the fields of FusionAuth's user index whose mapping is fixed.
var knownKinds = map[string]fieldKind{
	"id":                                 kindKeyword,
	"_id":                                kindKeyword,
	"tenantId":                           kindKeyword,
	"connectorId":                        kindKeyword,
	"email":                              kindLowerKeyword,
	"username":                           kindLowerKeyword,
	"parentEmail":                        kindLowerKeyword,
	"login":                              kindLowerKeyword,
	"firstName":                          kindText,
	"middleName":                         kindText,
	"lastName":                           kindText,
	"fullName":                           kindText,
	"mobilePhone":                        kindText,
	"phoneNumber":                        kindText,
	"preferredLanguages":                 kindText,
	"timezone":                           kindText,
	"breachedPasswordStatus":             kindText,
	"birthDate":                          kindDate,
	"insertInstant":                      kindDate,
	"lastLoginInstant":                   kindDate,
	"lastUpdateInstant":                  kindDate,
	"verifiedInstant":                    kindDate,
	"breachedPasswordLastCheckedInstant": kindNumber,
	"registrations.applicationId":        kindKeyword,
	"registrations.id":                   kindKeyword,
	"registrations.roles":                kindKeyword,
	"registrations.username":             kindLowerKeyword,
	"registrations.timezone":             kindText,
	"registrations.preferredLanguages":   kindText,
	"registrations.insertInstant":        kindDate,
	"registrations.lastLoginInstant":     kindDate,
	"registrations.lastUpdateInstant":    kindDate,
	"registrations.verifiedInstant":      kindDate,
	"memberships.groupId":                kindKeyword,
	"memberships.id":                     kindKeyword,
	"memberships.userId":                 kindKeyword,
	"memberships.insertInstant":          kindDate,
}

// nestedPaths are the nested object fields of the user index (FusionAuth's docs: "available
// using the nested query type").
var nestedPaths = map[string]bool{"registrations": true, "memberships": true}

// field is a resolved field reference: where to find its values and how to compare them.
type field struct {
	name string    // absolute dotted name as written in the query
	kind fieldKind // mapping
	path fieldPath // where the values live, relative to the object being matched
}

// resolveField resolves an absolute field name; nested is the enclosing nested query's path
// ("" at the root), against whose elements the path is then relative.
func resolveField(name, nested string) (field, error) {
	if name == "" {
		return field{}, unsupported("empty field name")
	}
	if strings.ContainsAny(name, "*?") {
		return field{}, unsupported("wildcard field name %q", name)
	}
	for _, seg := range strings.Split(name, ".") {
		if seg == "" {
			return field{}, unsupported("field name %q", name)
		}
	}
	f := field{name: name, kind: kindDynamic}
	lookup := name
	if k, ok := knownKinds[name]; ok {
		f.kind = k
	} else if base, ok := strings.CutSuffix(name, ".keyword"); ok {
		// The keyword sub-field that dynamic mapping adds to every text field: the whole value, exact.
		if k, known := knownKinds[base]; !known || k == kindText {
			f.kind = kindKeyword
			lookup = base
		}
	}
	if name == "_id" {
		lookup = "id"
	}
	rel := lookup
	if nested != "" {
		var ok bool
		if rel, ok = strings.CutPrefix(lookup, nested+"."); !ok {
			return field{}, unsupported("field %q inside nested query on path %q (fields must start with %q)", name, nested, nested+".")
		}
	} else {
		f.path.login = lookup == "login"
	}
	f.path.full = rel
	for i := 0; i < len(rel); i++ {
		if rel[i] == '.' {
			f.path.ends = append(f.path.ends, i)
		}
	}
	f.path.ends = append(f.path.ends, len(rel))
	return f, nil
}

// leafMatcher tests one scalar value (never an array: arrays are flattened by the walker). Values
// that are objects or nil are passed too.
type leafMatcher interface {
	leaf(v any) bool
}

// fieldPath locates the values of a dotted field inside a JSON object. Objects with dotted keys
// ({"a.b": 1}) are found as well as nested objects ({"a": {"b": 1}}), and arrays are traversed at
// every level, as Elasticsearch does when it flattens a document.
type fieldPath struct {
	full  string // dotted path
	ends  []int  // end offset of each segment in full
	login bool   // virtual field "login": email and username
}

func (p *fieldPath) key(from, to int) string {
	start := 0
	if from > 0 {
		start = p.ends[from-1] + 1
	}
	return p.full[start:p.ends[to]]
}

// any reports whether lm accepts any value of the field in obj.
func (p *fieldPath) any(obj map[string]any, lm leafMatcher) bool {
	if p.login {
		return visitLeaf(obj["email"], lm) || visitLeaf(obj["username"], lm)
	}
	return p.walkMap(obj, 0, lm)
}

func (p *fieldPath) walkMap(m map[string]any, seg int, lm leafMatcher) bool {
	last := len(p.ends) - 1
	for j := seg; j <= last; j++ {
		v, ok := m[p.key(seg, j)]
		if !ok {
			continue
		}
		// The first (shortest) key found wins: a document holding both {"a":{"b":…}} and {"a.b":…}
		// is pathological, and not probing longer keys saves a map lookup per segment.
		if j == last {
			return visitLeaf(v, lm)
		}
		return p.walkValue(v, j+1, lm)
	}
	return false
}

func (p *fieldPath) walkValue(v any, seg int, lm leafMatcher) bool {
	switch t := v.(type) {
	case map[string]any:
		return p.walkMap(t, seg, lm)
	case []any:
		for _, e := range t {
			if p.walkValue(e, seg, lm) {
				return true
			}
		}
		return false
	case nil, string, bool, float64:
		return false
	}
	_, matched := eachElem(v, func(e any) bool { return p.walkValue(e, seg, lm) })
	return matched
}

// visitLeaf flattens arrays (of arrays) and hands each element to lm.
func visitLeaf(v any, lm leafMatcher) bool {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if visitLeaf(e, lm) {
				return true
			}
		}
		return false
	case nil, string, bool, float64, int64, map[string]any:
		return lm.leaf(v)
	}
	if isSlice, matched := eachElem(v, func(e any) bool { return visitLeaf(e, lm) }); isSlice {
		return matched
	}
	return lm.leaf(v)
}

// existsValue reports whether v counts as a value for Elasticsearch's exists query: null, empty
// arrays, arrays of nulls and objects without any such value do not exist.
func existsValue(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case []any:
		for _, e := range t {
			if existsValue(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range t {
			if existsValue(e) {
				return true
			}
		}
		return false
	case string, bool, float64, int64:
		return true
	}
	if isSlice, matched := eachElem(v, existsValue); isSlice {
		return matched
	}
	return true
}
