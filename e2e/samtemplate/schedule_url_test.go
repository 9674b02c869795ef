package samtemplate_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkSchedule checks the function's Schedule events: exactly one, daily and enabled,
// for a function whose spec runs daily, and none otherwise.
func checkSchedule(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	schedules := 0
	for _, name := range eventNames(fn) {
		ev := fn.Events[name]
		if ev.Type != "Schedule" {
			continue
		}
		if !sp.daily {
			p = append(p, fmt.Sprintf("event %s: Type Schedule, want no scheduled runs", name))
			continue
		}
		if ev.Properties == nil || ev.Properties.ScheduleEvent == nil {
			p = append(p, fmt.Sprintf("event %s: Type Schedule but its Properties do not decode as a Schedule event (misspelt property?)", name))
			continue
		}
		schedules++
		s := ev.Properties.ScheduleEvent
		if !isDaily(s.Schedule) {
			p = append(p, fmt.Sprintf("event %s: Schedule = %q, want rate(1 day) or cron(<minute> <hour> * * ? *)", name, s.Schedule))
		}
		if s.Enabled != nil && !*s.Enabled {
			p = append(p, fmt.Sprintf("event %s: Enabled = false, want true", name))
		}
	}
	if sp.daily && schedules != 1 {
		p = append(p, fmt.Sprintf("Schedule events = %d, want 1", schedules))
	}
	return p
}

// checkFunctionURL checks that only a function whose spec says so has a Function URL,
// public (FusionAuth cannot sign with SigV4) and buffered.
func checkFunctionURL(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	if sp.functionURL {
		u := fn.FunctionUrlConfig
		switch {
		case u == nil:
			p = append(p, "FunctionUrlConfig = <unset>, want AuthType NONE (FusionAuth cannot sign with SigV4)")
		case u.AuthType != "NONE":
			p = append(p, fmt.Sprintf("FunctionUrlConfig.AuthType = %s, want NONE", u.AuthType))
		case u.InvokeMode != nil && *u.InvokeMode != "BUFFERED":
			p = append(p, fmt.Sprintf("FunctionUrlConfig.InvokeMode = %s, want BUFFERED (lambdahttp.FunctionURL answers buffered)", *u.InvokeMode))
		}
	} else if fn.FunctionUrlConfig != nil {
		p = append(p, "FunctionUrlConfig is set, want none (a public URL would bypass the HTTP API and its throttling)")
	}
	return p
}

var fixedNumber = regexp.MustCompile(`^[0-9]{1,2}$`)

// isDaily reports whether an EventBridge schedule expression fires once a day.
func isDaily(expr string) bool {
	if expr == "rate(1 day)" {
		return true
	}
	inner, ok := strings.CutPrefix(expr, "cron(")
	if !ok {
		return false
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return false
	}
	f := strings.Fields(inner)
	if len(f) != 6 || !fixedNumber.MatchString(f[0]) || !fixedNumber.MatchString(f[1]) {
		return false
	}
	minute, _ := strconv.Atoi(f[0])
	hour, _ := strconv.Atoi(f[1])
	// AWS wants "?" in exactly one of day-of-month and day-of-week.
	days := (f[2] == "*" && f[4] == "?") || (f[2] == "?" && f[4] == "*")
	return minute < 60 && hour < 24 && days && f[3] == "*" && f[5] == "*"
}

// loaderNames returns every variable the function's loader reads: with nothing set,

func checkOutputs(st *stack) []string {
	var p []string
	value := func(name string) string {
		o, ok := st.tmpl.Outputs[name]
		if !ok {
			return "<missing>"
		}
		return fmt.Sprint(o.Value)
	}
	if got := value("ApiURL"); !strings.HasPrefix(got, "Sub:https://${HttpApi}.execute-api.") {
		p = append(p, fmt.Sprintf("output ApiURL = %s, want !Sub https://${HttpApi}.execute-api....", got))
	}
	if got, want := value("WebhookURL"), "GetAtt:WebhookFunctionUrl.FunctionUrl"; got != want {
		p = append(p, fmt.Sprintf("output WebhookURL = %s, want %s", got, want))
	}
	// SAM names a function's URL resource <FunctionID>Url, and creates it only with FunctionUrlConfig.
	if fn, err := st.tmpl.GetServerlessFunctionWithName("WebhookFunction"); err != nil || fn.FunctionUrlConfig == nil {
		p = append(p, "WebhookFunction FunctionUrlConfig = <unset>, want it (output WebhookURL reads WebhookFunctionUrl)")
	}
	values := map[string]bool{}
	for _, o := range st.tmpl.Outputs {
		values[fmt.Sprint(o.Value)] = true
	}
	for _, secret := range append(specSecrets(), cookieKeysSecret) {
		if !values["Ref:"+secret] {
			p = append(p, fmt.Sprintf("outputs lack !Ref %s, want its ARN output (docs/operations.md, Deploying: put each key in after deploy)", secret))
		}
	}
	return p
}

func TestIsDaily(t *testing.T) {
	tests := map[string]bool{
		"rate(1 day)":          true,
		"cron(15 3 * * ? *)":   true,
		"cron(0 0 ? * * *)":    true,
		"rate(1 hour)":         false,
		"rate(2 days)":         false,
		"cron(15 * * * ? *)":   false,
		"cron(*/5 3 * * ? *)":  false,
		"cron(15 3 * * * *)":   false, // AWS needs "?" in one day field
		"cron(15 3 1 * ? *)":   false, // monthly
		"cron(15 3 ? * MON *)": false, // weekly
		"cron(75 3 * * ? *)":   false,
		"cron(15 3 * * ?)":     false,
	}
	for expr, want := range tests {
		t.Run(expr, func(t *testing.T) {
			if got := isDaily(expr); got != want {
				t.Errorf("isDaily(%q) = %v, want %v", expr, got, want)
			}
		})
	}
}

// checkPruneKeepsUp proves the daily prune clears at least what a day can create: only
// GET /video creates stubs, at most STUBS_PER_DAY over all clients (the video
// function's limit, whatever the route throttle lets through), and each can have one
// pending email to release; one daily run handles PRUNE_MAX_PER_RUN deletions plus
// releases, so it must be at least 2 x STUBS_PER_DAY.
func checkPruneKeepsUp(st *stack) []string {
	video, err := st.function("VideoFunction")
	if err != nil {
		return []string{err.Error()}
	}
	if got := envVar(video, "STUBS_PER_DAY"); got != "Ref:StubsPerDay" {
		return []string{fmt.Sprintf("VideoFunction STUBS_PER_DAY = %s, want Ref:StubsPerDay (the daily ceiling prune is sized for)", got)}
	}
	number := func(name string) (float64, error) {
		prm, ok := st.tmpl.Parameters[name]
		if !ok {
			return 0, fmt.Errorf("parameter %s = <missing>", name)
		}
		n, err := strconv.ParseFloat(tomlScalar(prm.Default), 64)
		if err != nil {
			return 0, fmt.Errorf("parameter %s Default = %v, want a number", name, prm.Default)
		}
		return n, nil
	}
	capacity, err := number("PruneMaxPerRun")
	if err != nil {
		return []string{err.Error()}
	}
	perDay, err := number("StubsPerDay")
	if err != nil {
		return []string{err.Error()}
	}
	if capacity < 2*perDay {
		return []string{fmt.Sprintf("prune clears %.0f a day (PruneMaxPerRun, one daily run), a day can create %.0f stubs and release as many emails (StubsPerDay): want capacity >= %.0f",
			capacity, perDay, 2*perDay)}
	}
	return nil
}

// specSecrets returns the logical IDs of the functions' own API-key secrets.
func specSecrets() []string {
	out := make([]string, len(specs))
	for i, sp := range specs {
		out[i] = sp.secret
	}
	return out
}
