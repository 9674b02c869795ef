package esquery

import (
	"fmt"
)

// Compound and whole-document clauses besides bool: match_all, match_none, constant_score
// and nested.

type matchAllNode struct{}

func (matchAllNode) match(map[string]any) bool { return true }

type matchNoneNode struct{}

func (matchNoneNode) match(map[string]any) bool { return false }

// matchAllOrNone compiles {"match_all":{}} and {"match_none":{}} (boost and _name only).
func matchAllOrNone(name string, body any) (node, error) {
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
}

// constantScoreQuery compiles {"constant_score":{"filter":{…}}}: scores do not change which
// users match, so it is its filter (FusionAuth's docs use it around exists).
func (p *parser) constantScoreQuery(body any) (node, error) {
	o, err := asObject(body)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(o, "filter"); err != nil {
		return nil, err
	}
	fv, ok := o["filter"]
	if !ok {
		return nil, fmt.Errorf("missing filter")
	}
	fo, err := asObject(fv)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	n, err := p.clause(fo)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return n, nil
}

// nestedNode applies a query to each element of a nested array (registrations,
// memberships): it matches when one element matches the whole inner query.
type nestedNode struct {
	path  *fieldPath
	inner node
}

func (n *nestedNode) match(obj map[string]any) bool { return n.path.any(obj, n) }

func (n *nestedNode) leaf(v any) bool {
	m, ok := v.(map[string]any)
	return ok && n.inner.match(m)
}

// nestedQuery compiles {"nested":{"path":"registrations","query":{…}}}. Inside it, field
// names keep their full path (registrations.applicationId) and are matched against one
// element at a time.
func (p *parser) nestedQuery(body any) (node, error) {
	if p.nested != "" {
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
		return nil, unsupported("nested path %q (FusionAuth's nested fields: registrations, memberships)", path)
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
	p.nested = path
	inner, err := p.clause(qo)
	p.nested = ""
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
