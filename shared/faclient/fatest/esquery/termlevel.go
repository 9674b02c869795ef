package esquery

import "fmt"

// The term-level clauses besides term itself: terms and ids.

// termsLeaf is the terms query: any of the terms.
type termsLeaf struct {
	terms []termLeaf
}

func (t *termsLeaf) leaf(x any) bool {
	for i := range t.terms {
		if t.terms[i].leaf(x) {
			return true
		}
	}
	return false
}

// termsQuery compiles {"terms":{"field":[v1, v2, …]}}: a term query per value, any of them.
// A terms lookup (an object instead of the array) is not supported.
func (p *parser) termsQuery(body any) (node, error) {
	f, name, val, err := p.fieldClause(body)
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

// idsNode is the ids query: the document id (the user id) is one of the values.
type idsNode struct {
	ids map[string]struct{}
}

func (n *idsNode) match(obj map[string]any) bool {
	id, ok := obj["id"].(string)
	if !ok {
		return false
	}
	_, ok = n.ids[id]
	return ok
}

// idsQuery compiles {"ids":{"values":["…"]}}.
func idsQuery(body any) (node, error) {
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
