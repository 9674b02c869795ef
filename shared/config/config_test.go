package config_test

import (
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/config"
)

func lookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestOneErrorNamesEveryProblem(t *testing.T) {
	_, err := config.LoadVideo(config.NewEnv(lookup(map[string]string{
		"FUSIONAUTH_URL":       "localhost:9011",
		"FUSIONAUTH_TENANT_ID": "not-a-uuid",
		"COOKIE_NAME":          "bad name;",
	})))
	if err == nil {
		t.Fatal("LoadVideo accepted an empty configuration")
	}
	for _, want := range []string{"FUSIONAUTH_URL", "FUSIONAUTH_TENANT_ID", "FUSIONAUTH_APPLICATION_ID", "API_KEY_SECRET_ID", "PROFILE_LOCKS_TABLE", "COOKIE_KEYS_SECRET_ID", "COOKIE_NAME"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestValidConfigurations(t *testing.T) {
	base := map[string]string{
		"FUSIONAUTH_URL":                   "https://auth.example.com/",
		"FUSIONAUTH_TENANT_ID":             "D7D09513-A3F5-401C-9685-34AB6C552453",
		"FUSIONAUTH_APPLICATION_ID":        "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e",
		"API_KEY_SECRET_ID":                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:video",
		"PROFILE_LOCKS_TABLE":              "stack-ProfileLocksTable-1A2B3C",
		"CLIENT_LIMITS_TABLE":              "stack-ClientLimitsTable-4D5E6F",
		"COOKIE_KEYS_SECRET_ID":            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cookie-keys",
		"REGISTER_REDIRECT_URI":            "https://www.example.com/video",
		"ACCOUNT_EXISTS_EMAIL_TEMPLATE_ID": "3D8C1F52-6B7A-4E9D-A1C4-5F2E8B0D7C93",
	}
	v, err := config.LoadVideo(config.NewEnv(lookup(base)))
	if err != nil {
		t.Fatal(err)
	}
	if v.URL != "https://auth.example.com" || v.TenantID != "d7d09513-a3f5-401c-9685-34ab6c552453" || v.Name != "anon_user" || v.VideoURL != config.DefaultVideoURL {
		t.Errorf("video config=%+v", v)
	}
	r, err := config.LoadRegister(config.NewEnv(lookup(base)))
	if err != nil {
		t.Fatal(err)
	}
	if r.PublicFusionAuthURL != "https://auth.example.com" {
		t.Errorf("FUSIONAUTH_PUBLIC_URL default=%q, want FUSIONAUTH_URL", r.PublicFusionAuthURL)
	}
	if r.AccountExistsTemplateID != "3d8c1f52-6b7a-4e9d-a1c4-5f2e8b0d7c93" || r.EmailsPerHour != 3 || r.EmailsPerDay != 5 {
		t.Errorf("register config=%+v, want the template id lower-cased and the email limits 3 and 5", r)
	}
	p, err := config.LoadPrune(config.NewEnv(lookup(base)))
	if err != nil || p.RetentionDays != 30 || p.OneVisitDays != 7 || p.PendingEmailDays != 7 || p.MaxPerRun != 500_000 || p.BatchSize != 10000 || p.DryRun {
		t.Errorf("prune config=%+v err=%v, want the defaults", p, err)
	}
	base["RETENTION_ONE_VISIT_DAYS"] = "40"
	if _, err := config.LoadPrune(config.NewEnv(lookup(base))); err == nil || !strings.Contains(err.Error(), "RETENTION_ONE_VISIT_DAYS") {
		t.Errorf("one-visit retention beyond the retention accepted or not named: %v", err)
	}
	base["PRUNE_BATCH_SIZE"] = "20000"
	base["RETENTION_DAYS"] = "0"
	if _, err := config.LoadPrune(config.NewEnv(lookup(base))); err == nil || !strings.Contains(err.Error(), "PRUNE_BATCH_SIZE") || !strings.Contains(err.Error(), "RETENTION_DAYS") {
		t.Errorf("out-of-range prune settings accepted or not named: %v", err)
	}
}

func TestNamesListsWhatWasRead(t *testing.T) {
	e := config.NewEnv(lookup(nil))
	_, _ = config.LoadWebhook(e)
	got := strings.Join(e.Names(), ",")
	for _, want := range []string{"API_KEY_SECRET_ID", "FUSIONAUTH_URL", "WEBHOOK_SIGNING_KID", "WEBHOOK_SECRET_HEADER"} {
		if !strings.Contains(got, want) {
			t.Errorf("Names()=%s, missing %s", got, want)
		}
	}
}

func TestUUIDAndCookieNameRules(t *testing.T) {
	uuids := map[string]bool{
		"d7d09513-a3f5-401c-9685-34ab6c552453":  true,
		"D7D09513-A3F5-401C-9685-34AB6C552453":  true,
		"d7d09513a3f5-401c-9685-34ab6c552453-":  false,
		"d7d09513-a3f5-401c-9685-34ab6c55245g":  false,
		"d7d09513-a3f5-401c-9685-34ab6c55245":   false,
		"d7d09513-a3f5-401c-9685-34ab6c5524533": false,
	}
	for v, ok := range uuids {
		e := config.NewEnv(lookup(map[string]string{"X": v}))
		e.UUID("X")
		if got := e.Err() == nil; got != ok {
			t.Errorf("UUID(%q) accepted=%v, want %v", v, got, ok)
		}
	}
	names := map[string]bool{"anon_user": true, "__Host-anon": true, "a.b~c|d^e": true, "bad name": false, "bad;": false, "é": false, "a=b": false}
	for v, ok := range names {
		e := config.NewEnv(lookup(map[string]string{"X": v}))
		e.CookieNameOr("X", "d")
		if got := e.Err() == nil; got != ok {
			t.Errorf("CookieNameOr(%q) accepted=%v, want %v", v, got, ok)
		}
	}
}

func TestClientLimits(t *testing.T) {
	base := map[string]string{
		"FUSIONAUTH_URL":                   "https://auth.example.com",
		"FUSIONAUTH_TENANT_ID":             "d7d09513-a3f5-401c-9685-34ab6c552453",
		"FUSIONAUTH_APPLICATION_ID":        "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e",
		"API_KEY_SECRET_ID":                "video",
		"PROFILE_LOCKS_TABLE":              "locks",
		"COOKIE_KEYS_SECRET_ID":            "cookie-keys",
		"REGISTER_REDIRECT_URI":            "https://www.example.com/callback",
		"ACCOUNT_EXISTS_EMAIL_TEMPLATE_ID": "3d8c1f52-6b7a-4e9d-a1c4-5f2e8b0d7c93",
	}
	if _, err := config.LoadVideo(config.NewEnv(lookup(base))); err == nil || !strings.Contains(err.Error(), "CLIENT_LIMITS_TABLE") {
		t.Errorf("video without CLIENT_LIMITS_TABLE: err=%v, want it named", err)
	}
	base["CLIENT_LIMITS_TABLE"] = "limits"
	v, err := config.LoadVideo(config.NewEnv(lookup(base)))
	if err != nil {
		t.Fatal(err)
	}
	if v.Stubs.Table != "limits" || v.Stubs.PerHour != 30 || v.StubsPerDay != 250_000 || v.Stubs.TrustedProxies != nil {
		t.Errorf("video limits=%+v per day %d, want the table, 30 an hour, 250000 a day, no proxies", v.Stubs, v.StubsPerDay)
	}
	r, err := config.LoadRegister(config.NewEnv(lookup(base)))
	if err != nil || r.Requests.PerHour != 10 || r.Requests.Table != "limits" {
		t.Errorf("register limits=%+v err=%v, want 10 an hour in the table", r.Requests, err)
	}
	base["STUBS_PER_CLIENT_HOUR"] = "5"
	base["STUBS_PER_DAY"] = "1000"
	base["TRUSTED_PROXIES"] = " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/48,::ffff:198.51.100.1"
	v, err = config.LoadVideo(config.NewEnv(lookup(base)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range v.Stubs.TrustedProxies {
		got = append(got, p.String())
	}
	if v.Stubs.PerHour != 5 || v.StubsPerDay != 1000 || strings.Join(got, ",") != "10.0.0.0/8,192.0.2.7/32,2001:db8::/48,198.51.100.1/32" {
		t.Errorf("video limits=%+v per day %d proxies %v", v.Stubs, v.StubsPerDay, got)
	}
	for name, bad := range map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.com", "STUBS_PER_CLIENT_HOUR": "0", "STUBS_PER_DAY": "-1"} {
		vars := map[string]string{}
		for k, v := range base {
			vars[k] = v
		}
		vars[name] = bad
		if _, err := config.LoadVideo(config.NewEnv(lookup(vars))); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q accepted or not named: %v", name, bad, err)
		}
	}
}
