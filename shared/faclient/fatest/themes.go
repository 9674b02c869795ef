package fatest

import (
	"errors"
	"net/http"
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

// handleCreateTheme serves POST /api/theme[/{themeId}] (a global API: themes belong to
// no tenant). With sourceThemeId the source's templates, messages and stylesheet are
// copied and the request's theme fields are applied over the copy (FusionAuth's Themes
// API); without it FusionAuth needs every template, which this server does not keep,
// so it answers [blank]theme.templates.
func (s *Server) handleCreateTheme(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	cr, ok := readCreate(w, r, "themeId", "theme")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newID(s.state.themes, cr.id, "themeId", "A Theme", cr.errs)
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
	theme = mergeOriginal(theme, cr.obj)
	now := s.now().UnixMilli()
	theme["id"], theme["insertInstant"], theme["lastUpdateInstant"] = id, now, now
	checkTheme(theme, cr.errs)
	if cr.errs.has() {
		writeErrors(w, http.StatusBadRequest, cr.errs)
		return
	}
	s.state.themes[id] = theme
	writeJSON(w, http.StatusOK, map[string]any{"theme": cloneMap(theme)})
}

// handlePatchTheme serves PATCH /api/theme/{themeId}.
func (s *Server) handlePatchTheme(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, kind, raw, ok := s.readPatch(w, r, "themeId")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.state.themes[id]
	if cur == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	theme, errs, ok := patchObject(w, kind, "theme", cur, raw)
	if !ok {
		return
	}
	checkTheme(theme, errs)
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	theme["id"], theme["insertInstant"], theme["lastUpdateInstant"] = id, cur["insertInstant"], s.now().UnixMilli()
	s.state.themes[id] = theme
	writeJSON(w, http.StatusOK, map[string]any{"theme": cloneMap(theme)})
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
