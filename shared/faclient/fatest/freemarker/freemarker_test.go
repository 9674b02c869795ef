package freemarker

import (
	"strings"
	"testing"
)

func TestFreeMarkerRender(t *testing.T) {
	vars := map[string]any{
		"changePasswordId": "abc",
		"user":             map[string]any{"email": "a@example.com", "tenantId": "t1", "data": map[string]any{"n": int64(1234567), "f": 2.5, "flag": true}},
		"state":            map[string]any{"anon_user": "true", "odd": "a b&c=d/é"},
		"baseUrl":          "http://localhost:9011",
	}
	tests := map[string]struct {
		src, want string
	}{
		"interpolation":                   {"${baseUrl}/password/change/${changePasswordId}?tenantId=${user.tenantId}", "http://localhost:9011/password/change/abc?tenantId=t1"},
		"default on a missing leaf":       {"${user.firstName!'friend'}", "friend"},
		"empty default":                   {"[${user.firstName!}]", "[]"},
		"default on a present value":      {"${user.email!'x'}", "a@example.com"},
		"parenthesised default":           {"${(nothing.here)!'safe'}", "safe"},
		"url escaping":                    {"${state.odd?url}", "a%20b%26c%3Dd%2F%C3%A9"},
		"if exists, parenthesised":        {"[#if (state.anon_user)??]set[#else]change[/#if]", "set"},
		"if missing, parenthesised":       {"[#if (state.missing)??]set[#else]change[/#if]", "change"},
		"if exists, bare":                 {"[#if state??]yes[/#if]", "yes"},
		"if boolean":                      {"[#if user.data.flag]on[/#if]", "on"},
		"negation":                        {"[#if !(state.missing)??]absent[/#if]", "absent"},
		"elseif":                          {"[#if (a.b)??]1[#elseif (state.anon_user)??]2[#else]3[/#if]", "2"},
		"nested if":                       {"[#if state??][#if (state.x)??]x[#else]no-x[/#if][/#if]", "no-x"},
		"comment":                         {"a[#-- hidden ${nothing} --]b", "ab"},
		"number grouping like FreeMarker": {"${user.data.n} ${user.data.f}", "1,234,567 2.5"},
		"html passes through":             {"<p><a href=\"${baseUrl}\">x</a></p>", "<p><a href=\"http://localhost:9011\">x</a></p>"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tmpl, err := Parse(tc.src)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.src, err)
			}
			got, err := tmpl.Render(vars)
			if err != nil {
				t.Fatalf("render %q: %v", tc.src, err)
			}
			if got != tc.want {
				t.Errorf("render %q = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestFreeMarkerErrors(t *testing.T) {
	vars := map[string]any{"user": map[string]any{"email": "a@example.com", "data": map[string]any{"flag": true}}}
	parseErrors := map[string]struct{ src, mention string }{
		"list directive":     {"[#list users as u]${u}[/#list]", "[#list"},
		"assign directive":   {"[#assign x = 1]", "[#assign"},
		"angle syntax":       {"<#if x??>y</#if>", "<#"},
		"macro call":         {"[@foo/]", "[@"},
		"unknown built-in":   {"${user.email?upper_case}", "?upper_case"},
		"comparison":         {"[#if user.email == 'x']y[/#if]", "unsupported"},
		"unclosed if":        {"[#if x??]y", "not closed"},
		"stray else":         {"a[#else]b", "[#else]"},
		"unterminated":       {"${user.email", "unterminated"},
		"old numeric interp": {"#{x}", "#{"},
		"closing other tag":  {"[#if x??]a[/#list]", "[/#list]"},
	}
	for name, tc := range parseErrors {
		t.Run("parse: "+name, func(t *testing.T) {
			_, err := Parse(tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("parse %q error = %v, want one mentioning %q", tc.src, err, tc.mention)
			}
		})
	}
	renderErrors := map[string]string{
		"missing value":                     "${user.firstName}",
		"default does not guard the parent": "${state.x!'d'}",
		"exists does not guard the parent":  "[#if state.x??]y[/#if]",
		"boolean interpolation":             "${user.data.flag}",
		"hash interpolation":                "${user.data}",
		"non-boolean condition":             "[#if user.email]y[/#if]",
		"url on a boolean":                  "${user.data.flag?url}",
	}
	for name, src := range renderErrors {
		t.Run("render: "+name, func(t *testing.T) {
			tmpl, err := Parse(src)
			if err != nil {
				t.Fatalf("parse %q: %v", src, err)
			}
			if out, err := tmpl.Render(vars); err == nil {
				t.Errorf("render %q = %q, want an error", src, out)
			}
		})
	}
}
