package fatest

import (
	"errors"
	"strings"
)

// DefaultThemeID is the fixed id of FusionAuth's stock theme (kickstart docs: "Default
// theme id is fixed").
const DefaultThemeID = "75a068fd-e94b-451a-9aeb-3ddb9a3b5987"

// errUnsupportedIDTokenKey: the application's ID-token key cannot sign here.
var errUnsupportedIDTokenKey = errors.New("issue ID token: the ID-token key is not an asymmetric key this server can sign with")

// defaultTheme is the stock theme: its templates are FusionAuth's own, which this
// server's pages stand in for, so only the fields a copy carries over are kept.
func defaultTheme(now int64) map[string]any {
	return map[string]any{
		"id": DefaultThemeID, "name": "FusionAuth", "type": "advanced",
		"stylesheet": "/* The stock theme's stylesheet. */", "defaultMessages": "", "templates": map[string]any{},
		"insertInstant": now, "lastUpdateInstant": now,
	}
}

// themes are created by POST /api/theme[/{themeId}] and patched by PATCH
// /api/theme/{themeId} (a global API: themes belong to no tenant).
var themes = document{key: "theme", param: "themeId", noun: "A Theme",
	stored: func(st *state) map[string]map[string]any { return st.themes },
	build:  (*Server).newTheme, check: func(_ *Server, theme map[string]any, errs *apiErrors) { checkTheme(theme, errs) }}

// newTheme is a new theme. With sourceThemeId the source's templates, messages and
// stylesheet are copied and the request's theme fields are applied over the copy
// (FusionAuth's Themes API); without it FusionAuth needs every template, which this
// server does not keep, so it answers [blank]theme.templates. Callers hold s.mu.
func (s *Server) newTheme(_ *reqCtx, cr createRequest, _ string) map[string]any {
	theme := map[string]any{"type": "advanced", "templates": map[string]any{}}
	if src := asString(cr.body["sourceThemeId"]); src != "" {
		sid, ok := canonicalUUID(src)
		source := s.state.themes[sid]
		if !ok || source == nil {
			cr.errs.field("sourceThemeId", "[invalid]sourceThemeId", "The [sourceThemeId] property does not reference an existing Theme.")
		} else {
			for _, k := range []string{"templates", "defaultMessages", "localizedMessages", "stylesheet", "type"} {
				if v, ok := source[k]; ok {
					theme[k] = cloneValue(v)
				}
			}
		}
	} else if _, ok := cr.obj["templates"]; !ok {
		cr.errs.field("theme.templates", "[blank]theme.templates", "You must specify the [theme.templates] property or a [sourceThemeId].")
	}
	return mergeOriginal(theme, cr.obj)
}

// checkTheme validates a theme: a name, and a stylesheet that cannot close the <style>
// element the pages inline it in (FusionAuth's helpers.ftl: "the stylesheet is
// validated not to contain an end style tag").
func checkTheme(theme map[string]any, errs *apiErrors) {
	if strings.TrimSpace(asString(theme["name"])) == "" {
		errs.field("theme.name", "[blank]theme.name", "You must specify the [theme.name] property.")
	}
	if strings.Contains(strings.ToLower(asString(theme["stylesheet"])), "</style") {
		errs.field("theme.stylesheet", "[invalid]theme.stylesheet", "The [theme.stylesheet] property may not contain a closing style tag.")
	}
}

// themeStylesheet returns the stylesheet of tenantID's theme ("" for no tenant).
func (s *Server) themeStylesheet(tenantID string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.state.tenants[tenantID]
	if t == nil {
		return ""
	}
	id := asString(t["themeId"])
	if id == "" {
		id = DefaultThemeID
	}
	return asString(s.state.themes[id]["stylesheet"])
}
