package esquery

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The full-text clauses match and match_phrase: the query text is analyzed like the field,
// so on text fields it is case-insensitive and matches word tokens; on keyword, date,
// number and boolean fields it compares the whole value as term does (exact_lower fields
// case-insensitively).

// matchLeaf is the match query (and query-string field values): for text, any token (or,
// with phrase, the token sequence) must occur.
type matchLeaf struct {
	kind   fieldKind
	v      queryValue
	toks   []string
	phrase bool
}

func (m *matchLeaf) leaf(x any) bool {
	if r, ok := scalarLeaf(m.kind, &m.v, x); ok {
		return r
	}
	s := x.(string)
	switch m.kind {
	case kindKeyword:
		return s == m.v.str
	case kindLowerKeyword:
		return strings.EqualFold(s, m.v.str)
	}
	if m.phrase {
		return hasPhrase(s, m.toks)
	}
	for _, tok := range m.toks {
		if hasToken(s, tok) {
			return true
		}
	}
	return false
}

// allFieldNode matches when every leaf accepts some value of the field (match with operator
// "and": each token somewhere in the field).
type allFieldNode struct {
	path   *fieldPath
	leaves []leafMatcher
}

func (n *allFieldNode) match(obj map[string]any) bool {
	for _, lm := range n.leaves {
		if !n.path.any(obj, lm) {
			return false
		}
	}
	return true
}

// matchBody reads a match or match_phrase body: the short form {"field": value} or the long
// form {"field": {"query": value, <options>}}; it returns the field, its name, the value and
// the long form's options.
func (p *parser) matchBody(body any, options ...string) (field, string, any, map[string]any, error) {
	f, name, val, err := p.fieldClause(body)
	if err != nil {
		return field{}, "", nil, nil, err
	}
	vo, ok := val.(map[string]any)
	if !ok {
		return f, name, val, nil, nil
	}
	if err := checkOptions(vo, append(options, "query")...); err != nil {
		return field{}, "", nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if val, ok = vo["query"]; !ok {
		return field{}, "", nil, nil, fmt.Errorf("%s: missing query", name)
	}
	return f, name, val, vo, nil
}

// matchQuery compiles {"match":{"field": value}} and the long form with "operator" ("or",
// the default, or "and").
func (p *parser) matchQuery(body any) (node, error) {
	f, name, val, opts, err := p.matchBody(body, "operator")
	if err != nil {
		return nil, err
	}
	and := false
	if op, ok := opts["operator"]; ok {
		s, _ := op.(string)
		switch strings.ToLower(s) {
		case "and":
			and = true
		case "or":
		default:
			return nil, fmt.Errorf("%s: operator must be \"and\" or \"or\", got %v", name, op)
		}
	}
	q, err := newQueryValue(val, p.now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return matchNode(f, q, and, false), nil
}

// matchPhraseQuery compiles {"match_phrase":{"field": "words in order"}}; of the long form's
// options only "slop": 0 (the default) is supported.
func (p *parser) matchPhraseQuery(body any) (node, error) {
	f, name, val, opts, err := p.matchBody(body, "slop")
	if err != nil {
		return nil, err
	}
	if slop, ok := opts["slop"]; ok {
		if n, isNum := slop.(json.Number); !isNum || n.String() != "0" {
			return nil, unsupported("match_phrase slop %v (only 0)", slop)
		}
	}
	q, err := newQueryValue(val, p.now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return matchNode(f, q, false, true), nil
}

// matchNode builds an analyzed match for field f; phrase applies to text fields only.
func matchNode(f field, q queryValue, and, phrase bool) node {
	phrase = phrase && (f.kind == kindText || f.kind == kindDynamic)
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

// hasPhrase reports whether the lower-case tokens toks occur consecutively in s.
func hasPhrase(s string, toks []string) bool {
	if len(toks) == 0 {
		return false
	}
	for start, end := nextToken(s, 0); start >= 0; start, end = nextToken(s, end) {
		if !strings.EqualFold(s[start:end], toks[0]) {
			continue
		}
		ok := true
		e := end
		for _, tok := range toks[1:] {
			var st int
			st, e = nextToken(s, e)
			if st < 0 || !strings.EqualFold(s[st:e], tok) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
