package dynamotest

import (
	"encoding/json"
	"maps"
	"regexp"
	"strings"
)

// update is a parsed update expression: its SET and ADD actions, in order.
type update []action

// action sets path to value (op "SET"), or adds value, a number, to it (op "ADD").
type action struct {
	op    string
	path  string  // an attribute name, after placeholder substitution
	value operand // for ADD, always a value placeholder
}

// updateToken is one lexical token of an update expression: a condition expression's
// tokens and the arithmetic operators (refused as not implemented, by name).
var updateToken = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*|[#:][A-Za-z0-9_]+|[()=,.\[\]+-])`)

// typeNames are DynamoDB's names for attribute types in its operand-type messages.
var typeNames = map[string]string{"S": "STRING", "N": "NUMBER"}

// updateItem serves UpdateItem ("Edits an existing item's attributes, or adds a new item
// to the table if it does not already exist", API Reference): the condition is checked
// against the item as it is (none: no attributes), every operand is read from the item
// as it was before the update, and the item is written with the key and the updated
// attributes, all under the server's lock, as a single DynamoDB write is atomic.
func (s *Server) updateItem(req map[string]json.RawMessage) (any, *apiError) {
	p, e := s.parseRequest("UpdateItem", req, "Key", "UpdateExpression", "ReturnValues")
	if e != nil {
		return nil, e
	}
	key, e := readKey(p.table, req)
	if e != nil {
		return nil, e
	}
	returnValues, e := readReturnValues(req)
	if e != nil {
		return nil, e
	}
	raw, ok := req["UpdateExpression"]
	if !ok {
		// DynamoDB then writes the key alone (or the legacy AttributeUpdates); no caller
		// here needs that, so the fake does not pretend to know it.
		return nil, notImplemented("UpdateItem without UpdateExpression")
	}
	var expr string
	if err := json.Unmarshal(raw, &expr); err != nil {
		return nil, validation("UpdateExpression must be a string")
	}
	var c condition
	var u update
	e = parseExpressions(p, true, func(sc *scope) *apiError {
		var e *apiError
		if p.cond != nil {
			if c, e = sc.parseCondition(*p.cond); e != nil {
				return e
			}
		}
		u, e = sc.parseUpdate(expr)
		return e
	})
	if e != nil {
		return nil, e
	}
	for _, a := range u {
		if a.path == p.table.key {
			return nil, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", a.path)
		}
	}

	old := p.table.items[key]
	if e := c.check(old, p.values); e != nil {
		return nil, e
	}
	item := maps.Clone(old)
	if item == nil {
		item = map[string]Attr{p.table.key: {Type: "S", Value: key}}
	}
	updated := make(map[string]Attr, len(u))
	for _, a := range u {
		v, ok := a.value.resolve(old, p.values)
		if !ok {
			return nil, validation("The provided expression refers to an attribute that does not exist in the item")
		}
		if cur, ok := old[a.path]; ok && a.op == "ADD" {
			if cur.Type != "N" {
				return nil, validation("An operand in the update expression has an incorrect data type")
			}
			x, _ := parseNumber(cur.Value) // both were checked when decoded
			y, _ := parseNumber(v.Value)
			v = Attr{Type: "N", Value: formatNumber(x.Add(x, y))}
		}
		item[a.path] = v
		updated[a.path] = v
	}
	p.table.items[key] = item

	switch returnValues {
	case "ALL_NEW":
		return map[string]any{"Attributes": encodeAttrs(item)}, nil
	case "UPDATED_NEW":
		return map[string]any{"Attributes": encodeAttrs(updated)}, nil
	}
	return struct{}{}, nil
}

// readReturnValues reads ReturnValues: NONE (the default), ALL_NEW or UPDATED_NEW. The
// other two values DynamoDB knows are not implemented, and an unknown one is refused as
// DynamoDB refuses a value outside an enum.
func readReturnValues(req map[string]json.RawMessage) (string, *apiError) {
	raw, ok := req["ReturnValues"]
	if !ok {
		return "NONE", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", validation("ReturnValues must be a string")
	}
	switch v {
	case "NONE", "ALL_NEW", "UPDATED_NEW":
		return v, nil
	case "ALL_OLD", "UPDATED_OLD":
		return "", notImplemented("UpdateItem ReturnValues %s (only NONE, ALL_NEW and UPDATED_NEW)", v)
	}
	return "", validation("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]", v)
}

// encodeAttrs writes attributes as DynamoDB does ({"name": {"N": "1"}, ...}).
func encodeAttrs(item map[string]Attr) map[string]map[string]string {
	out := make(map[string]map[string]string, len(item))
	for name, a := range item {
		out[name] = map[string]string{a.Type: a.Value}
	}
	return out
}

// parseUpdate parses an update expression:
//
//	update := clause { clause }
//	clause := SET path = operand { , path = operand } | ADD path :value { , path :value }
//
// with each clause keyword (in any case) at most once, in either order, and no path twice.
func (sc *scope) parseUpdate(expr string) (update, *apiError) {
	p, e := sc.lex("UpdateExpression", expr, updateToken)
	if e != nil {
		return nil, e
	}
	var u update
	seen := map[string]bool{}
	for len(p.toks) > 0 {
		tok := p.next()
		clause := strings.ToUpper(tok)
		switch clause {
		case "SET", "ADD":
		case "REMOVE", "DELETE":
			return nil, notImplemented("%s in an update expression (only SET and ADD)", clause)
		default:
			return nil, p.unsupportedUpdate(tok)
		}
		if seen[clause] {
			return nil, p.invalid(`The "%s" section can only be used once in an update expression;`, clause)
		}
		seen[clause] = true
		for {
			a, e := p.action(clause)
			if e != nil {
				return nil, e
			}
			for _, b := range u {
				if b.path == a.path {
					return nil, p.invalid("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", b.path, a.path)
				}
			}
			u = append(u, a)
			if len(p.toks) == 0 || p.toks[0] != "," {
				break
			}
			p.next()
		}
	}
	return u, nil
}

// action := path = operand (in SET) | path :value (in ADD)
func (p *parser) action(clause string) (action, *apiError) {
	path, e := p.operand()
	if e != nil {
		return action{}, e
	}
	if path.value != "" {
		return action{}, p.invalid("Syntax error; token: %q", path.value)
	}
	if clause == "SET" {
		if tok := p.next(); tok != "=" {
			return action{}, p.unsupportedUpdate(tok)
		}
		if len(p.toks) > 1 && p.toks[1] == "(" {
			return action{}, notImplemented("update function %s (only path = operand and ADD path :value)", p.toks[0])
		}
	}
	v, e := p.operand()
	if e != nil {
		return action{}, e
	}
	if clause == "ADD" {
		if v.value == "" {
			return action{}, p.invalid("Syntax error; token: %q", v.name)
		}
		if t := p.values[v.value].Type; t != "N" {
			return action{}, p.invalid("Incorrect operand type for operator or function; operator: ADD, operand type: %s", typeNames[t])
		}
	}
	return action{op: clause, path: path.name, value: v}, nil
}

// unsupportedUpdate refuses a token of the update grammar that the fake does not
// implement: arithmetic, parentheses, nested paths.
func (p *parser) unsupportedUpdate(tok string) *apiError {
	if tok == "" {
		return p.invalid("Syntax error; token: <EOF>")
	}
	return notImplemented("%q in an update expression (only SET path = operand and ADD path :value, on top-level attributes)", tok)
}
