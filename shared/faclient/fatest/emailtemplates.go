package fatest

import (
	"net/http"
	"strings"

	"github.com/changebank/anonuser/shared/faclient/fatest/freemarker"
)

// emailTemplate is a stored template with its parsed parts.
type emailTemplate struct {
	doc                         map[string]any
	subject, html, text, sender *freemarker.Template
}

// handleCreateEmailTemplate serves POST /api/email/template[/{emailTemplateId}]. The
// templates are parsed on save: anything outside the supported FreeMarker subset is a
// 400 naming it (and so stops a kickstart).
func (s *Server) handleCreateEmailTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx, req createRequest) {
	doc, errs := req.obj, req.errs
	tf := fields{m: doc, prefix: "emailTemplate.", errs: errs}
	et := &emailTemplate{doc: doc}
	parse := func(name string, required bool) *freemarker.Template {
		src := tf.str(name)
		if strings.TrimSpace(src) == "" {
			if required {
				errs.field(tf.path(name), "[blank]"+tf.path(name), "You must specify the ["+tf.path(name)+"] property.")
			}
			return nil
		}
		t, err := freemarker.Parse(src)
		if err != nil {
			errs.field(tf.path(name), "[invalidTemplate]"+tf.path(name), "The ["+tf.path(name)+"] property is not a template this server can render: "+err.Error())
			return nil
		}
		return t
	}
	if strings.TrimSpace(tf.str("name")) == "" {
		errs.field("emailTemplate.name", "[blank]emailTemplate.name", "You must specify the [emailTemplate.name] property.")
	}
	et.subject = parse("defaultSubject", true)
	et.html = parse("defaultHtmlTemplate", true)
	et.text = parse("defaultTextTemplate", true)
	et.sender = parse("defaultFromName", false)
	for _, loc := range []string{"localizedSubjects", "localizedHtmlTemplates", "localizedTextTemplates", "localizedFromNames"} {
		for lang, v := range tf.object(loc) {
			src, _ := v.(string)
			if _, err := freemarker.Parse(src); err != nil {
				errs.field(tf.path(loc), "[invalidTemplate]"+tf.path(loc), "The ["+tf.path(loc)+"] template for ["+lang+"] is not a template this server can render: "+err.Error())
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newID(s.state.templates, req.id, "emailTemplateId", "An Email Template", errs)
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	now := s.now().UnixMilli()
	doc["id"] = id
	doc["insertInstant"] = now
	doc["lastUpdateInstant"] = now
	s.state.templates[id] = et
	writeJSON(w, http.StatusOK, map[string]any{"emailTemplate": cloneMap(doc)})
}
