package config

import (
	"net/netip"

	"github.com/changebank/anonuser/shared/anon"
)

// FusionAuth holds what every function needs to reach FusionAuth.
type FusionAuth struct {
	URL            string // FUSIONAUTH_URL: base URL the function calls
	TenantID       string // FUSIONAUTH_TENANT_ID
	ApplicationID  string // FUSIONAUTH_APPLICATION_ID
	APIKeySecretID string // API_KEY_SECRET_ID: Secrets Manager id of this function's API key
	// LocksTable is PROFILE_LOCKS_TABLE: the DynamoDB table of the per-profile write
	// leases every function that writes profiles takes (package lock).
	LocksTable string
}

func (e *Env) fusionAuth() FusionAuth {
	return FusionAuth{
		URL:            e.URL("FUSIONAUTH_URL"),
		TenantID:       e.UUID("FUSIONAUTH_TENANT_ID"),
		ApplicationID:  e.UUID("FUSIONAUTH_APPLICATION_ID"),
		APIKeySecretID: e.String("API_KEY_SECRET_ID"),
		LocksTable:     e.String("PROFILE_LOCKS_TABLE"),
	}
}

// Cookie holds how the anonymous visitor's cookie is named and where its signing keys
// are: a secret of their own, which only the functions that set or read the cookie may
// read.
type Cookie struct {
	Name string // COOKIE_NAME, default DefaultCookieName
	// KeysSecretID is COOKIE_KEYS_SECRET_ID: the Secrets Manager id of the cookie's signing
	// keys, a JSON array of {kid, secret} (token.ParseKeys), read once per cold start.
	KeysSecretID string
}

// Defaults of the optional variables: the one place they are written. template.yaml's
// parameter defaults are checked against them (e2e/samtemplate).
const (
	DefaultCookieName = "anon_user"
	// DefaultVideoURL is the sample ChangeBank video.
	DefaultVideoURL         = "https://storage.googleapis.com/gtv-videos-bucket/sample/ForBiggerJoyrides.mp4"
	DefaultVideoSeconds     = anon.DefaultVideoSeconds // DefaultVideoURL's length
	DefaultSecretHeader     = "X-Webhook-Secret"
	DefaultRetentionDays    = 30
	DefaultOneVisitDays     = 7
	DefaultPendingEmailDays = 7
	DefaultMaxPerRun        = 500_000
	DefaultBatchSize        = 10_000 // FusionAuth's maximum per bulk delete and search page
	DefaultEmailsPerHour    = 3      // emails POST /register sends per profile and hour
	DefaultEmailsPerDay     = 5      // and per day
	// DefaultStubsPerClientHour is how many anonymous profiles one client (an IPv4
	// address, an IPv6 /64) may start in an hour: Supabase's default for anonymous
	// sign-ins per IP.
	DefaultStubsPerClientHour = 30
	// DefaultStubsPerDay is how many anonymous profiles all clients together may start in
	// a UTC day: a ceiling on the FusionAuth users a distributed flood can create, sized
	// far above a day's honest first visits and matched by prune (PRUNE_MAX_PER_RUN).
	DefaultStubsPerDay = 250_000
	// DefaultRegistersPerClientHour is how many POST /register one client may send in an
	// hour, whichever profile they name.
	DefaultRegistersPerClientHour = 10
)

// ClientLimit configures a per-client limit: the DynamoDB table every instance counts
// in, the allowance, and the proxies whose X-Forwarded-For names the client.
type ClientLimit struct {
	// Table is CLIENT_LIMITS_TABLE: the DynamoDB table of per-client counts (package limit).
	Table   string
	PerHour int // events one client may cause per hour
	// TrustedProxies is TRUSTED_PROXIES: comma-separated addresses or CIDR prefixes of
	// proxies in front of the site. Only a request from one of them has its client read
	// from X-Forwarded-For; by default none, and the client is the peer address.
	TrustedProxies []netip.Prefix
}

func (e *Env) clientLimit(name string, def int) ClientLimit {
	return ClientLimit{
		Table:          e.String("CLIENT_LIMITS_TABLE"),
		PerHour:        e.IntOr(name, def, 1, 1_000_000),
		TrustedProxies: e.PrefixesOr("TRUSTED_PROXIES"),
	}
}

func (e *Env) cookie() Cookie {
	return Cookie{
		Name:         e.CookieNameOr("COOKIE_NAME", DefaultCookieName),
		KeysSecretID: e.String("COOKIE_KEYS_SECRET_ID"),
	}
}

// Video configures the video function.
type Video struct {
	FusionAuth
	Cookie
	VideoURL string // VIDEO_URL: the video the page plays
	// VideoSeconds is VIDEO_SECONDS: the video's length, the most watch time one visit
	// is credited; default DefaultVideoSeconds (the sample video's).
	VideoSeconds int
	Origin       string // APP_ORIGIN: the site's origin for the progress report's same-origin check; default the request's own
	// Stubs limits the anonymous profiles one client starts: STUBS_PER_CLIENT_HOUR,
	// default DefaultStubsPerClientHour.
	Stubs ClientLimit
	// StubsPerDay is STUBS_PER_DAY: the anonymous profiles all clients together may start
	// in a UTC day, default DefaultStubsPerDay.
	StubsPerDay int
}

// LoadVideo reads the video function's configuration.
func LoadVideo(e *Env) (Video, error) {
	c := Video{
		FusionAuth: e.fusionAuth(),
		Cookie:     e.cookie(),
		VideoURL:   e.URLOr("VIDEO_URL", DefaultVideoURL),
		Stubs:      e.clientLimit("STUBS_PER_CLIENT_HOUR", DefaultStubsPerClientHour),
	}
	c.StubsPerDay = e.IntOr("STUBS_PER_DAY", DefaultStubsPerDay, 1, 100_000_000)
	c.VideoSeconds = e.IntOr("VIDEO_SECONDS", DefaultVideoSeconds, 1, 86_400)
	c.Origin = e.URLOr("APP_ORIGIN", "")
	return c, e.Err()
}

// Register configures the register function: /register and the sign-in (/login,
// /callback, /logout). The OAuth client secret is the "clientSecret" field of the
// function's own secret in Secrets Manager (beside its apiKey). The ID tokens' issuer
// is FUSIONAUTH_PUBLIC_URL: the visitors' tenant's issuer is set to it (kickstart does).
type Register struct {
	FusionAuth
	Cookie
	PublicFusionAuthURL string // FUSIONAUTH_PUBLIC_URL: FusionAuth as browsers reach it, and its issuer; default FUSIONAUTH_URL
	RedirectURI         string // REGISTER_REDIRECT_URI: the app's /callback, where FusionAuth's login and registration return
	Origin              string // APP_ORIGIN: the site's origin for the cross-site check; default the request's own
	// ACCOUNT_EXISTS_EMAIL_TEMPLATE_ID: the email template that tells the owner of a taken
	// address they have an account (kickstart's accountExistsEmailTemplateId). Required:
	// without it a taken address would answer differently from a free one.
	AccountExistsTemplateID string
	EmailsPerHour           int // REGISTER_EMAILS_PER_HOUR: emails /register sends per profile and hour, default 3
	EmailsPerDay            int // REGISTER_EMAILS_PER_DAY: and per day, default 5
	// Requests limits the POST /register one client sends: REGISTERS_PER_CLIENT_HOUR,
	// default DefaultRegistersPerClientHour.
	Requests ClientLimit
}

// LoadRegister reads the register function's configuration.
func LoadRegister(e *Env) (Register, error) {
	c := Register{FusionAuth: e.fusionAuth(), Cookie: e.cookie()}
	c.PublicFusionAuthURL = e.URLOr("FUSIONAUTH_PUBLIC_URL", c.URL)
	c.RedirectURI = e.URL("REGISTER_REDIRECT_URI")
	c.Origin = e.URLOr("APP_ORIGIN", "")
	c.AccountExistsTemplateID = e.UUID("ACCOUNT_EXISTS_EMAIL_TEMPLATE_ID")
	c.EmailsPerHour = e.IntOr("REGISTER_EMAILS_PER_HOUR", DefaultEmailsPerHour, 1, 100)
	c.EmailsPerDay = e.IntOr("REGISTER_EMAILS_PER_DAY", DefaultEmailsPerDay, 1, 1000)
	c.Requests = e.clientLimit("REGISTERS_PER_CLIENT_HOUR", DefaultRegistersPerClientHour)
	return c, e.Err()
}

// Webhook configures the webhook function. The shared secret, if any, is the
// "webhookSecret" field of the function's secret in Secrets Manager.
type Webhook struct {
	FusionAuth
	SigningKID   string // WEBHOOK_SIGNING_KID: kid of the key FusionAuth signs webhooks with (RS256); empty = no signature check
	SecretHeader string // WEBHOOK_SECRET_HEADER, default DefaultSecretHeader
}

// LoadWebhook reads the webhook function's configuration.
func LoadWebhook(e *Env) (Webhook, error) {
	c := Webhook{FusionAuth: e.fusionAuth()}
	c.SigningKID = e.StringOr("WEBHOOK_SIGNING_KID", "")
	c.SecretHeader = e.StringOr("WEBHOOK_SECRET_HEADER", DefaultSecretHeader)
	return c, e.Err()
}

// Prune configures the prune function.
type Prune struct {
	FusionAuth
	RetentionDays    int  // RETENTION_DAYS: stubs idle this long are deleted
	OneVisitDays     int  // RETENTION_ONE_VISIT_DAYS: stubs with one watch and no email idle this long are deleted
	PendingEmailDays int  // PENDING_EMAIL_DAYS: an unproven email is released after this long
	MaxPerRun        int  // PRUNE_MAX_PER_RUN: deletions plus releases per run
	BatchSize        int  // PRUNE_BATCH_SIZE: users per bulk delete, at most FusionAuth's 10,000
	DryRun           bool // PRUNE_DRY_RUN, default false
}

// LoadPrune reads the prune function's configuration.
func LoadPrune(e *Env) (Prune, error) {
	c := Prune{
		FusionAuth:       e.fusionAuth(),
		RetentionDays:    e.IntOr("RETENTION_DAYS", DefaultRetentionDays, 1, 3650),
		OneVisitDays:     e.IntOr("RETENTION_ONE_VISIT_DAYS", DefaultOneVisitDays, 1, 3650),
		PendingEmailDays: e.IntOr("PENDING_EMAIL_DAYS", DefaultPendingEmailDays, 1, 365),
		MaxPerRun:        e.IntOr("PRUNE_MAX_PER_RUN", DefaultMaxPerRun, 1, 10_000_000),
		BatchSize:        e.IntOr("PRUNE_BATCH_SIZE", DefaultBatchSize, 1, DefaultBatchSize),
		DryRun:           e.BoolOr("PRUNE_DRY_RUN", false),
	}
	if c.OneVisitDays > c.RetentionDays {
		e.fail("RETENTION_ONE_VISIT_DAYS", "must not exceed RETENTION_DAYS (%d), got %d", c.RetentionDays, c.OneVisitDays)
	}
	return c, e.Err()
}
