package esquery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Query is a compiled query. The zero value and a nil *Query match nothing. A Query is immutable
// and safe for concurrent use.
type Query struct {
	root node
}

// Match reports whether the user document doc (the FusionAuth user object, JSON-decoded into
// map[string]any; numbers may be float64, int64, int or json.Number) matches the query.
func (q *Query) Match(doc map[string]any) bool {
	if q == nil || q.root == nil || doc == nil {
		return false
	}
	return q.root.match(doc)
}

// Parse compiles an Elasticsearch JSON query (the inner query, as FusionAuth's `query` parameter
// carries it, e.g. {"bool":{"must":[{"term":{"data.anonymousUser":true}}]}}). Date math ("now")
// uses the current time; see ParseAt.
func Parse(raw []byte) (*Query, error) { return ParseAt(raw, time.Now()) }

// ParseAt is Parse with "now" for date math fixed to now.
func ParseAt(raw []byte, now time.Time) (*Query, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse query: query must be a JSON object, got %s", jsonType(v))
	}
	if _, ok := obj["query"]; ok {
		return nil, fmt.Errorf("parse query: %w", unsupported(`query clause "query" (pass the inner query without the {"query":…} wrapper)`))
	}
	p := parser{now: now.UTC()}
	root, err := p.clause(obj, "")
	if err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	return &Query{root: root}, nil
}

// decodeJSON decodes one JSON value, keeping numbers as json.Number and rejecting duplicate keys
// and trailing data (Elasticsearch rejects both).
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("empty or truncated JSON")
		}
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("malformed JSON: trailing data after the query object")
	}
	return v, nil
}

// maxDepth bounds JSON nesting (Elasticsearch's own limit is far lower in practice).
const maxDepth = 100

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				if m[k], err = decodeValue(dec, depth+1); err != nil {
					return nil, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}

// clauseNames are the supported query clauses.
var clauseNames = map[string]bool{
	"bool": true, "term": true, "terms": true, "match": true, "match_all": true, "match_none": true,
	"range": true, "exists": true, "nested": true, "ids": true, "wildcard": true, "prefix": true,
}

type parser struct {
	now time.Time
}

// clause compiles one query object ({"<clause>": body}); nested is the enclosing nested path.
func (p *parser) clause(obj map[string]any, nested string) (node, error) {
	if len(obj) != 1 {
		if len(obj) == 0 {
			return nil, fmt.Errorf("empty query object")
		}
		return nil, fmt.Errorf("query object must hold exactly one clause, got %s", strings.Join(sortedKeys(obj), ", "))
	}
	for name, body := range obj {
		if !clauseNames[name] {
			return nil, unsupported("query clause %q", name)
		}
		n, err := p.clauseBody(name, body, nested)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("empty query object")
}

func (p *parser) clauseBody(name string, body any, nested string) (node, error) {
	switch name {
	case "bool":
		return p.boolQuery(body, nested)
	case "term":
		return p.termQuery(body, nested)
	case "terms":
		return p.termsQuery(body, nested)
	case "match":
		return p.matchQuery(body, nested)
	case "match_all", "match_none":
		o, err := asObject(body)
		if err != nil {
			return nil, err
		}
		if err := checkOptions(o); err != nil {
			return nil, err
		}
		if name == "match_all" {
			return matchAllNode{}, nil
		}
		return matchNoneNode{}, nil
	case "range":
		return p.rangeQuery(body, nested)
	case "exists":
		return p.existsQuery(body, nested)
	case "nested":
		return p.nestedQuery(body, nested)
	case "ids":
		return p.idsQuery(body)
	case "wildcard", "prefix":
		return p.patternQuery(name, body, nested)
	}
	return nil, unsupported("query clause %q", name)
}

// checkOptions accepts only the options that do not change which documents match (boost, _name)
// plus the named extra keys, and validates their types.
func checkOptions(o map[string]any, allowed ...string) error {
	for k, v := range o {
		switch k {
		case "boost":
			if _, ok := v.(json.Number); !ok {
				return fmt.Errorf("boost must be a number, got %s", jsonType(v))
			}
			continue
		case "_name":
			if _, ok := v.(string); !ok {
				return fmt.Errorf("_name must be a string, got %s", jsonType(v))
			}
			continue
		}
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			return unsupported("option %q", k)
		}
	}
	return nil
}

func asObject(v any) (map[string]any, error) {
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an object, got %s", jsonType(v))
	}
	return o, nil
}

func sortedKeys(o map[string]any) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// singleField splits {"<field>": value} (plus the allowed sibling options) into its field and value.
func singleField(o map[string]any, siblings ...string) (string, any, error) {
	var name string
	var val any
	n := 0
	for k, v := range o {
		if k == "boost" || k == "_name" || contains(siblings, k) {
			continue
		}
		name, val = k, v
		n++
	}
	if n != 1 {
		return "", nil, fmt.Errorf("expected exactly one field, got %d (%s)", n, strings.Join(sortedKeys(o), ", "))
	}
	rest := make(map[string]any, len(o)-1)
	for k, v := range o {
		if k != name {
			rest[k] = v
		}
	}
	if err := checkOptions(rest, siblings...); err != nil {
		return "", nil, err
	}
	return name, val, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (p *parser) boolQuery(body any, nested string) (node, error) {
	o, err := asObject(body)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(o, "must", "filter", "must_not", "should", "minimum_should_match"); err != nil {
		return nil, err
	}
	b := &boolNode{}
	for _, occ := range []string{"must", "filter", "must_not", "should"} {
		v, ok := o[occ]
		if !ok {
			continue
		}
		var items []any
		switch t := v.(type) {
		case []any:
			items = t
		case map[string]any:
			items = []any{t}
		default:
			return nil, fmt.Errorf("%s: expected an object or an array, got %s", occ, jsonType(v))
		}
		for i, it := range items {
			io, err := asObject(it)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", occ, i, err)
			}
			n, err := p.clause(io, nested)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", occ, i, err)
			}
			switch occ {
			case "must", "filter":
				b.must = append(b.must, n)
			case "must_not":
				b.mustNot = append(b.mustNot, n)
			default:
				b.should = append(b.should, n)
			}
		}
	}
	msm := 0
	if len(b.must) == 0 && len(b.should) > 0 {
		msm = 1
	}
	if v, ok := o["minimum_should_match"]; ok {
		n, err := minimumShouldMatch(v, len(b.should))
		if err != nil {
			return nil, fmt.Errorf("minimum_should_match: %w", err)
		}
		msm = n
		if len(b.must) == 0 && len(b.should) > 0 && msm < 1 {
			msm = 1 // a disjunction still needs one match
		}
	}
	b.minShould = msm
	return b, nil
}

// minimumShouldMatch evaluates the integer, negative and percentage forms against n clauses.
func minimumShouldMatch(v any, n int) (int, error) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return 0, fmt.Errorf("expected a number or a string, got %s", jsonType(v))
	}
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSuffix(s, "%")
	x, err := strconv.Atoi(s)
	if err != nil {
		return 0, unsupported("minimum_should_match %q", v)
	}
	var r int
	switch {
	case pct && x < 0:
		r = n - int(math.Floor(float64(n)*float64(-x)/100))
	case pct:
		r = int(math.Floor(float64(n) * float64(x) / 100))
	case x < 0:
		r = n + x
	default:
		r = x
	}
	if r < 0 {
		r = 0
	}
	return r, nil
}

// fieldClause reads the body shared by the single-field clauses (term, terms, match,
// range, …): an object with exactly one field name, resolved against the nested path.
func fieldClause(body any, nested string) (field, string, any, error) {
	o, err := asObject(body)
	if err != nil {
		return field{}, "", nil, err
	}
	name, val, err := singleField(o)
	if err != nil {
		return field{}, "", nil, err
	}
	f, err := resolveField(name, nested)
	if err != nil {
		return field{}, "", nil, err
	}
	return f, name, val, nil
}

// leafNode builds the node for a field leaf.
func leafNode(f field, lm leafMatcher) node {
	path := f.path
	return &fieldNode{path: &path, lm: lm}
}

func (p *parser) termQuery(body any, nested string) (node, error) {
	f, name, val, err := fieldClause(body, nested)
	if err != nil {
		return nil, err
	}
	ci := false
	if vo, ok := val.(map[string]any); ok {
		if err := checkOptions(vo, "value", "case_insensitive"); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c, ok := vo["case_insensitive"]; ok {
			if ci, ok = c.(bool); !ok {
				return nil, fmt.Errorf("%s: case_insensitive must be a boolean, got %s", name, jsonType(c))
			}
		}
		if val, ok = vo["value"]; !ok {
			return nil, fmt.Errorf("%s: missing value", name)
		}
	}
	q, err := newQueryValue(val, p.now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return leafNode(f, &termLeaf{kind: f.kind, v: q, ci: ci}), nil
}

func (p *parser) termsQuery(body any, nested string) (node, error) {
	f, name, val, err := fieldClause(body, nested)
	if err != nil {
		return nil, err
	}
	arr, ok := val.([]any)
	if !ok {
		if _, isObj := val.(map[string]any); isObj {
			return nil, unsupported("terms lookup for field %q", name)
		}
		return nil, fmt.Errorf("%s: expected an array, got %s", name, jsonType(val))
	}
	tl := &termsLeaf{}
	for i, v := range arr {
		q, err := newQueryValue(v, p.now)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		tl.terms = append(tl.terms, termLeaf{kind: f.kind, v: q})
	}
	return leafNode(f, tl), nil
}

func (p *parser) matchQuery(body any, nested string) (node, error) {
	f, name, val, err := fieldClause(body, nested)
	if err != nil {
		return nil, err
	}
	and := false
	if vo, ok := val.(map[string]any); ok {
		if err := checkOptions(vo, "query", "operator"); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if op, ok := vo["operator"]; ok {
			s, _ := op.(string)
			switch strings.ToLower(s) {
			case "and":
				and = true
			case "or":
			default:
				return nil, fmt.Errorf("%s: operator must be \"and\" or \"or\", got %v", name, op)
			}
		}
		if val, ok = vo["query"]; !ok {
			return nil, fmt.Errorf("%s: missing query", name)
		}
	}
	q, err := newQueryValue(val, p.now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return matchNode(f, q, and, false), nil
}

// matchNode builds an analyzed match for field f.
func matchNode(f field, q queryValue, and, phrase bool) node {
	toks := analyze(q.str)
	if and && !phrase && len(toks) > 1 && (f.kind == kindText || f.kind == kindDynamic) {
		path := f.path
		n := &allFieldNode{path: &path}
		for _, tok := range toks {
			n.leaves = append(n.leaves, &matchLeaf{kind: f.kind, v: q, toks: []string{tok}})
		}
		return n
	}
	return leafNode(f, &matchLeaf{kind: f.kind, v: q, toks: toks, phrase: phrase})
}

func (p *parser) rangeQuery(body any, nested string) (node, error) {
	f, name, val, err := fieldClause(body, nested)
	if err != nil {
		return nil, err
	}
	ro, err := asObject(val)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkOptions(ro, "gt", "gte", "lt", "lte"); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r := &rangeLeaf{kind: f.kind}
	for _, op := range []string{"gt", "gte", "lt", "lte"} {
		v, ok := ro[op]
		if !ok {
			continue
		}
		lower := op == "gt" || op == "gte"
		b := &r.hi
		if lower {
			b = &r.lo
		}
		if b.set {
			return nil, fmt.Errorf("%s: both %s and %s given", name, op, map[string]string{"gte": "gt", "lte": "lt"}[op])
		}
		nb, err := p.bound(f.kind, v, op == "gt" || op == "lte")
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", name, op, err)
		}
		nb.incl = op == "gte" || op == "lte"
		*b = nb
	}
	if !r.lo.set && !r.hi.set {
		return nil, fmt.Errorf("%s: range needs gt, gte, lt or lte", name)
	}
	return leafNode(f, r), nil
}

// bound interprets a range bound for a field of the given kind; roundUp is the date-math rounding
// direction (gt and lte round up).
func (p *parser) bound(kind fieldKind, v any, roundUp bool) (bound, error) {
	b := bound{set: true}
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return b, fmt.Errorf("invalid number %s: %w", t, err)
		}
		b.num, b.isNum, b.ms, b.isDate, b.str = f, true, int64(f), true, t.String()
	case string:
		b.str = t
		b.num, b.isNum = parseNumber(t)
		if ms, err := parseDateMath(t, p.now, roundUp); err == nil {
			b.ms, b.isDate = ms, true
		} else if kind == kindDate {
			return b, fmt.Errorf("invalid date bound: %w", err)
		}
	default:
		return b, fmt.Errorf("expected a number or a string, got %s", jsonType(v))
	}
	switch kind {
	case kindDate:
		if !b.isDate {
			return b, fmt.Errorf("invalid date bound %v", v)
		}
	case kindNumber:
		if !b.isNum {
			return b, fmt.Errorf("bound %v is not a number", v)
		}
	}
	return b, nil
}

func (p *parser) existsQuery(body any, nested string) (node, error) {
	o, err := asObject(body)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(o, "field"); err != nil {
		return nil, err
	}
	name, ok := o["field"].(string)
	if !ok {
		return nil, fmt.Errorf("field must be a string")
	}
	f, err := resolveField(name, nested)
	if err != nil {
		return nil, err
	}
	return leafNode(f, existsLeaf{}), nil
}

func (p *parser) nestedQuery(body any, nested string) (node, error) {
	if nested != "" {
		return nil, unsupported("nested query inside nested query")
	}
	o, err := asObject(body)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(o, "path", "query", "score_mode", "ignore_unmapped"); err != nil {
		return nil, err
	}
	path, ok := o["path"].(string)
	if !ok {
		return nil, fmt.Errorf("path must be a string")
	}
	if !nestedPaths[path] {
		return nil, unsupported("nested path %q (nested fields: registrations, memberships)", path)
	}
	if sm, ok := o["score_mode"]; ok {
		switch sm {
		case "avg", "max", "min", "none", "sum":
		default:
			return nil, fmt.Errorf("invalid score_mode %v", sm)
		}
	}
	if iu, ok := o["ignore_unmapped"]; ok {
		if _, ok := iu.(bool); !ok {
			return nil, fmt.Errorf("ignore_unmapped must be a boolean")
		}
	}
	qv, ok := o["query"]
	if !ok {
		return nil, fmt.Errorf("missing query")
	}
	qo, err := asObject(qv)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	inner, err := p.clause(qo, path)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	f, err := resolveField(path, "")
	if err != nil {
		return nil, err
	}
	fp := f.path
	return &nestedNode{path: &fp, inner: inner}, nil
}

func (p *parser) idsQuery(body any) (node, error) {
	o, err := asObject(body)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(o, "values"); err != nil {
		return nil, err
	}
	arr, ok := o["values"].([]any)
	if !ok {
		return nil, fmt.Errorf("values must be an array")
	}
	n := &idsNode{ids: make(map[string]struct{}, len(arr))}
	for i, v := range arr {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("values[%d] must be a string, got %s", i, jsonType(v))
		}
		n.ids[s] = struct{}{}
	}
	return n, nil
}

func (p *parser) patternQuery(clause string, body any, nested string) (node, error) {
	f, name, val, err := fieldClause(body, nested)
	if err != nil {
		return nil, err
	}
	ci := false
	if vo, ok := val.(map[string]any); ok {
		keys := []string{"value", "case_insensitive"}
		if clause == "wildcard" {
			keys = append(keys, "wildcard")
		}
		if err := checkOptions(vo, keys...); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c, ok := vo["case_insensitive"]; ok {
			if ci, ok = c.(bool); !ok {
				return nil, fmt.Errorf("%s: case_insensitive must be a boolean, got %s", name, jsonType(c))
			}
		}
		v, hasValue := vo["value"]
		w, hasWildcard := vo["wildcard"]
		switch {
		case hasValue && hasWildcard:
			return nil, fmt.Errorf("%s: both value and wildcard given", name)
		case hasWildcard:
			v = w
		case !hasValue:
			return nil, fmt.Errorf("%s: missing value", name)
		}
		val = v
	}
	s, ok := val.(string)
	if !ok {
		return nil, fmt.Errorf("%s: value must be a string, got %s", name, jsonType(val))
	}
	if clause == "prefix" {
		s = escapePattern(s) + "*"
	}
	return leafNode(f, newPatternLeaf(f.kind, s, ci)), nil
}

// newPatternLeaf compiles a wildcard pattern. Only keyword fields compare case-sensitively (unless
// ci): text and exact_lower fields hold lower-cased terms and the pattern is normalized to match.
func newPatternLeaf(kind fieldKind, s string, ci bool) *patternLeaf {
	return &patternLeaf{kind: kind, pat: compilePattern(s, ci || kind != kindKeyword)}
}

func escapePattern(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
