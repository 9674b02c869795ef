package fatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// webhooks are created by POST /api/webhook[/{webhookId}]; events go to them in the
// order they were created.
var webhooks = document{key: "webhook", param: "webhookId", noun: "A Webhook",
	stored:  func(st *state) map[string]map[string]any { return st.webhooks },
	build:   func(_ *Server, _ *reqCtx, cr createRequest, _ string) map[string]any { return cr.obj },
	check:   (*Server).normalizeWebhook,
	created: func(st *state, id string) { st.webhookOrder = append(st.webhookOrder, id) }}

// normalizeWebhook validates a webhook and coerces its typed fields. Callers hold s.mu.
func (s *Server) normalizeWebhook(wh map[string]any, errs *apiErrors) {
	wf := fields{m: wh, prefix: "webhook.", errs: errs}
	raw := strings.TrimSpace(wf.str("url"))
	if raw == "" {
		errs.field("webhook.url", "[blank]webhook.url", "You must specify the [webhook.url] property.")
	} else if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.field("webhook.url", "[invalid]webhook.url", "The [webhook.url] property must be an absolute http or https URL.")
	}
	for _, name := range []string{"connectTimeout", "readTimeout"} {
		v, ok := wf.integer(name)
		switch {
		case !ok:
			errs.field(wf.path(name), "[blank]"+wf.path(name), "You must specify the ["+wf.path(name)+"] property.")
		case v <= 0:
			errs.field(wf.path(name), "[invalid]"+wf.path(name), "The ["+wf.path(name)+"] property must be greater than 0.")
		default:
			wh[name] = v
		}
	}
	wf.setBool("global", false)
	enabled := map[string]any{}
	ev := wf.sub("eventsEnabled")
	for _, name := range sortedKeys(ev.m) {
		if b, ok := ev.boolean(name); ok {
			enabled[name] = b
		}
	}
	wh["eventsEnabled"] = enabled
	tenantIDs := []any{}
	for _, t := range wf.strings("tenantIds") {
		c, ok := canonicalUUID(t)
		if !ok || s.state.tenants[c] == nil {
			errs.field("webhook.tenantIds", "[invalid]webhook.tenantIds", "The [webhook.tenantIds] property contains an unknown Tenant Id ["+t+"].")
			continue
		}
		tenantIDs = append(tenantIDs, c)
	}
	wh["tenantIds"] = tenantIDs
	headers := map[string]any{}
	for k, v := range wf.object("headers") {
		sv, ok := v.(string)
		if !ok {
			errs.field("webhook.headers", "[invalidJSON]", "Unable to parse JSON. The property [webhook.headers."+k+"] must be a string.")
			continue
		}
		headers[k] = sv
	}
	wh["headers"] = headers
	sc := wf.sub("signatureConfiguration")
	if b, ok := sc.boolean("enabled"); ok && b {
		sc.m["enabled"] = true
		kid := sc.str("signingKeyId")
		switch c, ok := canonicalUUID(kid); {
		case kid == "":
			errs.field(sc.path("signingKeyId"), "[blank]"+sc.path("signingKeyId"), "You must specify the ["+sc.path("signingKeyId")+"] property when signing is enabled.")
		case !ok || s.state.keys[c] == nil:
			errs.field(sc.path("signingKeyId"), "[invalid]"+sc.path("signingKeyId"), "The ["+sc.path("signingKeyId")+"] property does not reference an existing Key.")
		default:
			sc.m["signingKeyId"] = c
		}
	} else {
		sc.m["enabled"] = false
	}
	wh["signatureConfiguration"] = sc.m
}

// webhookTarget is a webhook that will receive an event, captured under the lock so that
// delivery can run without it.
type webhookTarget struct {
	id, url            string
	headers            map[string]string
	username, password string
	connect, read      time.Duration
	signingKey         *keyRecord
}

// eventRoutingLocked returns the webhooks that receive eventType in a tenant (the three
// switches of §12.2: the tenant enables the event, the webhook is global or lists the
// tenant, the webhook enables the event). Callers hold s.mu.
func (s *Server) eventRoutingLocked(tenantID, eventType string) []webhookTarget {
	ev, _ := lookupPath(s.state.tenants[tenantID], "eventConfiguration.events")
	events, _ := ev.(map[string]any)
	cfg, _ := events[eventType].(map[string]any)
	if !truthy(cfg["enabled"]) {
		return nil
	}
	var out []webhookTarget
	for _, id := range s.state.webhookOrder {
		wh := s.state.webhooks[id]
		tenants, _ := wh["tenantIds"].([]any)
		if wh["global"] != true && !slices.Contains(tenants, any(tenantID)) {
			continue
		}
		enabled, _ := wh["eventsEnabled"].(map[string]any)
		if enabled[eventType] != true {
			continue
		}
		t := webhookTarget{
			id:       id,
			url:      asString(wh["url"]),
			headers:  map[string]string{},
			username: asString(wh["httpAuthenticationUsername"]),
			password: asString(wh["httpAuthenticationPassword"]),
		}
		connect, _ := asInt64(wh["connectTimeout"])
		read, _ := asInt64(wh["readTimeout"])
		t.connect, t.read = time.Duration(connect)*time.Millisecond, time.Duration(read)*time.Millisecond
		if h, ok := wh["headers"].(map[string]any); ok {
			for k, v := range h {
				t.headers[k] = asString(v)
			}
		}
		if sc, ok := wh["signatureConfiguration"].(map[string]any); ok && sc["enabled"] == true {
			t.signingKey = s.state.keys[asString(sc["signingKeyId"])]
		}
		out = append(out, t)
	}
	return out
}

// deliverEvent sends one event to its webhooks once each, synchronously (so tests are
// deterministic) and without holding any lock. Only transactionType None is implemented,
// and under it FusionAuth sends and forgets: a failed delivery is logged, never retried,
// and never fails the request that fired the event. Every attempt is recorded in
// Deliveries.
func (s *Server) deliverEvent(ctx context.Context, targets []webhookTarget, eventType string, body []byte) {
	for _, t := range targets {
		if d := s.attemptDelivery(ctx, t, eventType, body); d.Err != nil {
			s.log.Warn("fatest: webhook delivery failed", "webhook", t.id, "url", t.url, "event", eventType, "err", d.Err)
		}
	}
}

// attemptDelivery POSTs the event body once and records the attempt.
func (s *Server) attemptDelivery(ctx context.Context, t webhookTarget, eventType string, body []byte) Delivery {
	d := Delivery{WebhookID: t.id, URL: t.url, EventType: eventType, Body: bytes.Clone(body)}
	defer func() { s.recordDelivery(d) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		d.Err = fmt.Errorf("webhook %s: build request: %w", t.id, err)
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	if t.username != "" || t.password != "" {
		req.SetBasicAuth(t.username, t.password)
	}
	if t.signingKey != nil {
		sum := sha256.Sum256(body)
		sig, err := signJWT(t.signingKey, map[string]any{"request_body_sha256": base64.StdEncoding.EncodeToString(sum[:])})
		if err != nil {
			d.Err = fmt.Errorf("webhook %s: sign: %w", t.id, err)
			return d
		}
		req.Header.Set("X-FusionAuth-Signature-JWT", sig)
	}
	d.Header = req.Header.Clone()
	client := s.opts.HTTPClient
	if client == nil {
		tr := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: t.connect}).DialContext,
			ResponseHeaderTimeout: t.read,
			DisableKeepAlives:     true,
		}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr, Timeout: t.connect + t.read}
	}
	resp, err := client.Do(req)
	if err != nil {
		d.Err = fmt.Errorf("webhook %s: deliver %s: %w", t.id, eventType, err)
		return d
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	d.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		d.Err = fmt.Errorf("webhook %s: deliver %s: status %d", t.id, eventType, resp.StatusCode)
	}
	return d
}

// eventBody builds the {"event":{…}} envelope (§12.3).
func (s *Server) eventBody(eventType, tenantID string, fields map[string]any) ([]byte, error) {
	ev := map[string]any{
		"id":            newUUID(),
		"type":          eventType,
		"createInstant": s.now().UnixMilli(),
		"tenantId":      tenantID,
	}
	for k, v := range fields {
		ev[k] = v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"event": ev}); err != nil {
		return nil, fmt.Errorf("encode %s event: %w", eventType, err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
