package samtemplate_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mutate returns text with old replaced by new, failing if old does not occur exactly once.
func mutate(tb testing.TB, text, old, replacement string) string {
	tb.Helper()
	if n := strings.Count(text, old); n != 1 {
		tb.Fatalf("mutation target %q occurs %d times, want 1: update the test to the template", old, n)
	}
	return strings.Replace(text, old, replacement, 1)
}

// missing returns the wanted substrings that no problem contains.
func missing(problems, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, w) }) {
			out = append(out, w)
		}
	}
	return out
}

// TestChecksDetectMutations proves the checks can fail: each case breaks a copy of
// template.yaml in one way, writes it to a temporary directory, and asserts that the
// check reports it (and does not report it for the real template).
func TestChecksDetectMutations(t *testing.T) {
	st := mustStack(t)
	forFunction := func(id string, c functionCheck) stackCheck {
		sp := specByID(t, id)
		return func(s *stack) []string { return c(s, sp) }
	}
	tests := []struct {
		name, old, new string
		check          stackCheck
		want           []string
	}{
		{
			name:  "env var renamed",
			old:   "API_KEY_SECRET_ID: !Ref VideoApiKeySecret",
			new:   "API_KEY_SECRETID: !Ref VideoApiKeySecret",
			check: forFunction("VideoFunction", checkEnvironment),
			want:  []string{"API_KEY_SECRET_ID = <unset>", "API_KEY_SECRETID is set"},
		},
		{
			name:  "global env var misspelt",
			old:   "FUSIONAUTH_TENANT_ID: !Ref FusionAuthTenantId",
			new:   "FUSIONAUTH_TENANTID: !Ref FusionAuthTenantId",
			check: forFunction("PruneFunction", checkEnvironment),
			want:  []string{"FUSIONAUTH_TENANT_ID = <unset>", "FUSIONAUTH_TENANTID is set"},
		},
		{
			name:  "policy reads another function's secret",
			old:   "Resource: [!Ref VideoApiKeySecret, !Ref CookieKeysSecret]",
			new:   "Resource: [!Ref RegisterApiKeySecret, !Ref CookieKeysSecret]",
			check: forFunction("VideoFunction", checkPolicy),
			want:  []string{"Resource = [Ref:RegisterApiKeySecret Ref:CookieKeysSecret]"},
		},
		{
			name:  "secret readable by two functions",
			old:   "Resource: [!Ref VideoApiKeySecret, !Ref CookieKeysSecret]",
			new:   "Resource: [!Ref RegisterApiKeySecret, !Ref CookieKeysSecret]",
			check: checkSecretIsolation,
			want:  []string{"RegisterApiKeySecret readable by [RegisterFunction VideoFunction]", "VideoApiKeySecret readable by []"},
		},
		{
			name:  "webhook reads the cookie keys",
			old:   "Resource: !Ref WebhookApiKeySecret",
			new:   "Resource: [!Ref WebhookApiKeySecret, !Ref CookieKeysSecret]",
			check: forFunction("WebhookFunction", checkPolicy),
			want:  []string{"Resource = [Ref:WebhookApiKeySecret Ref:CookieKeysSecret], want [Ref:WebhookApiKeySecret]"},
		},
		{
			name:  "cookie keys readable beyond video and register",
			old:   "Resource: !Ref PruneApiKeySecret",
			new:   "Resource: [!Ref PruneApiKeySecret, !Ref CookieKeysSecret]",
			check: checkSecretIsolation,
			want:  []string{"CookieKeysSecret readable by [PruneFunction RegisterFunction VideoFunction], want exactly [RegisterFunction VideoFunction]"},
		},
		{
			name:  "register cannot read the cookie keys",
			old:   "Resource: [!Ref RegisterApiKeySecret, !Ref CookieKeysSecret]",
			new:   "Resource: !Ref RegisterApiKeySecret",
			check: forFunction("RegisterFunction", checkPolicy),
			want:  []string{"Resource = [Ref:RegisterApiKeySecret], want [Ref:RegisterApiKeySecret Ref:CookieKeysSecret]"},
		},
		{
			name:  "wildcard action",
			old:   "Action: secretsmanager:GetSecretValue\n              Resource: !Ref PruneApiKeySecret",
			new:   "Action: \"secretsmanager:*\"\n              Resource: !Ref PruneApiKeySecret",
			check: forFunction("PruneFunction", checkPolicy),
			want:  []string{"wildcard \"secretsmanager:*\""},
		},
		{
			name:  "managed policy added",
			old:   "      Policies:\n        - Version: \"2012-10-17\"\n          Statement:\n            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              Resource: !Ref WebhookApiKeySecret",
			new:   "      Policies:\n        - AWSLambdaBasicExecutionRole\n        - Version: \"2012-10-17\"\n          Statement:\n            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              Resource: !Ref WebhookApiKeySecret",
			check: forFunction("WebhookFunction", checkPolicy),
			want:  []string{"managed policy"},
		},
		{
			name:  "webhook timeout too long",
			old:   "Timeout: 5",
			new:   "Timeout: 30",
			check: forFunction("WebhookFunction", checkTimeouts),
			want:  []string{"Timeout = 30 s, want 1..10 s"},
		},
		{
			name:  "global timeout beyond API Gateway's",
			old:   "    Timeout: 10\n",
			new:   "    Timeout: 60\n",
			check: forFunction("RegisterFunction", checkTimeouts),
			want:  []string{"Timeout = 60 s, want 1..29 s"},
		},
		{
			name:  "prune concurrency",
			old:   "ReservedConcurrentExecutions: 1\n",
			new:   "ReservedConcurrentExecutions: 2\n",
			check: forFunction("PruneFunction", checkTimeouts),
			want:  []string{"ReservedConcurrentExecutions = 2, want 1"},
		},
		{
			name:  "webhook without reserved concurrency",
			old:   "      ReservedConcurrentExecutions: 10\n",
			new:   "",
			check: forFunction("WebhookFunction", checkTimeouts),
			want:  []string{"ReservedConcurrentExecutions = <unset>, want 10"},
		},
		{
			name:  "video route without its own throttle",
			old:   "              ThrottlingRateLimit: !Ref VideoThrottleRateLimit\n              ThrottlingBurstLimit: !Ref VideoThrottleBurstLimit\n",
			new:   "              ThrottlingBurstLimit: !Ref VideoThrottleBurstLimit\n",
			check: forFunction("VideoFunction", checkRoutes),
			want:  []string{"RouteSettings throttling = <unset>"},
		},
		{
			name:  "daily stub ceiling beyond what prune clears",
			old:   "    Default: 250000\n",
			new:   "    Default: 300000\n",
			check: checkPruneKeepsUp,
			want:  []string{"prune clears 500000 a day", "a day can create 300000 stubs", "want capacity >= 600000"},
		},
		{
			name:  "daily stub ceiling not passed to the video function",
			old:   "          STUBS_PER_DAY: !Ref StubsPerDay\n",
			new:   "",
			check: checkPruneKeepsUp,
			want:  []string{"VideoFunction STUBS_PER_DAY = <unset>"},
		},
		{
			name:  "register may read the client limits",
			old:   "              Action: dynamodb:UpdateItem\n              Resource: !GetAtt ClientLimitsTable.Arn\n      Events:\n        Get:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            Method: GET\n            Path: /register",
			new:   "              Action: [dynamodb:UpdateItem, dynamodb:GetItem]\n              Resource: !GetAtt ClientLimitsTable.Arn\n      Events:\n        Get:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            Method: GET\n            Path: /register",
			check: forFunction("RegisterFunction", checkPolicy),
			want:  []string{"limits statement Action = [dynamodb:UpdateItem dynamodb:GetItem]"},
		},
		{
			name:  "video counts in the lease table",
			old:   "              Action: dynamodb:UpdateItem\n              Resource: !GetAtt ClientLimitsTable.Arn\n      Events:\n        Get:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            Method: GET\n            Path: /video",
			new:   "              Action: dynamodb:UpdateItem\n              Resource: !GetAtt ProfileLocksTable.Arn\n      Events:\n        Get:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            Method: GET\n            Path: /video",
			check: forFunction("VideoFunction", checkPolicy),
			want:  []string{"limits statement Resource = [GetAtt:ProfileLocksTable.Arn]"},
		},
		{
			name:  "video without the limits table",
			old:   "          CLIENT_LIMITS_TABLE: !Ref ClientLimitsTable\n          STUBS_PER_CLIENT_HOUR",
			new:   "          STUBS_PER_CLIENT_HOUR",
			check: forFunction("VideoFunction", checkPolicy),
			want:  []string{"CLIENT_LIMITS_TABLE = <unset>, want Ref:ClientLimitsTable"},
		},
		{
			name:  "limits table without TTL",
			old:   "          KeyType: HASH\n      TimeToLiveSpecification:\n        AttributeName: expiresAt\n        Enabled: true\n      SSESpecification:\n        SSEEnabled: true\n\n  # One secret",
			new:   "          KeyType: HASH\n      SSESpecification:\n        SSEEnabled: true\n\n  # One secret",
			check: checkLimitsTable,
			want:  []string{"ClientLimitsTable TimeToLiveSpecification"},
		},
		{
			name:  "template default drifts from config",
			old:   "  RetentionOneVisitDays:\n    Type: Number\n    Description: Stubs with one watch and no email idle this long are deleted (at most RetentionDays)\n    Default: 7",
			new:   "  RetentionOneVisitDays:\n    Type: Number\n    Description: Stubs with one watch and no email idle this long are deleted (at most RetentionDays)\n    Default: 14",
			check: checkDefaults,
			want:  []string{`parameter RetentionOneVisitDays Default = "14", want config's "7"`},
		},
		{
			name:  "hourly schedule",
			old:   "cron(15 3 * * ? *)",
			new:   "cron(15 * * * ? *)",
			check: forFunction("PruneFunction", checkSchedule),
			want:  []string{`Schedule = "cron(15 * * * ? *)"`},
		},
		{
			name:  "payload format 1.0",
			old:   "Path: /register\n            PayloadFormatVersion: \"2.0\"\n            # A cost guard",
			new:   "Path: /register\n            PayloadFormatVersion: \"1.0\"\n            # A cost guard",
			check: forFunction("RegisterFunction", checkRoutes),
			want:  []string{"PayloadFormatVersion = 1.0, want 2.0"},
		},
		{
			name:  "route moved",
			old:   "Method: GET\n            Path: /video",
			new:   "Method: GET\n            Path: /videos",
			check: forFunction("VideoFunction", checkRoutes),
			want:  []string{"route GET /videos", "route GET /video = <missing>"},
		},
		{
			name:  "misspelt event property",
			old:   "Method: POST\n            Path: /register",
			new:   "Methods: POST\n            Path: /register",
			check: forFunction("RegisterFunction", checkRoutes),
			want:  []string{"do not decode as an HttpApi event"},
		},
		{
			name:  "webhook URL with IAM auth",
			old:   "AuthType: NONE",
			new:   "AuthType: AWS_IAM",
			check: forFunction("WebhookFunction", checkFunctionURL),
			want:  []string{"AuthType = AWS_IAM, want NONE"},
		},
		{
			name:  "architectures repeated on a function",
			old:   "CodeUri: functions/prune/",
			new:   "CodeUri: functions/prune/\n      Architectures: [arm64]",
			check: forFunction("PruneFunction", checkBuild),
			want:  []string{"Architectures (Globals + function, as SAM concatenates them) = [arm64 arm64]"},
		},
		{
			name:  "code uri typo",
			old:   "CodeUri: functions/video/",
			new:   "CodeUri: functions/videos/",
			check: forFunction("VideoFunction", checkBuild),
			want:  []string{`CodeUri = "functions/videos/", want "functions/video/"`},
		},
		{
			name:  "log group name typo",
			old:   `LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-prune"`,
			new:   `LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-prunes"`,
			check: forFunction("PruneFunction", checkLogGroup),
			want:  []string{"want exactly one"},
		},
		{
			name:  "log retention invalid",
			old:   "  LogRetentionDays:\n    Type: Number\n    Default: 30",
			new:   "  LogRetentionDays:\n    Type: Number\n    Default: 31",
			check: forFunction("VideoFunction", checkLogGroup),
			want:  []string{"RetentionInDays = 31 (default of Ref:LogRetentionDays)"},
		},
		{
			name:  "no default throttling",
			old:   "      DefaultRouteSettings:\n        ThrottlingRateLimit: !Ref ThrottleRateLimit\n        ThrottlingBurstLimit: !Ref ThrottleBurstLimit\n",
			new:   "",
			check: checkHTTPAPI,
			want:  []string{"DefaultRouteSettings throttling = <unset>"},
		},
		{
			name:  "key as a parameter default",
			old:   "    Default: anon_user",
			new:   "    Default: 4737ea8520bd454caabb7cb3d36e14bc1832c0d3f70a4189b82598670f11b1bd",
			check: checkNoSecretValues,
			want:  []string{"parameter CookieName Default"},
		},
		{
			name:  "dev key as an environment value",
			old:   "WEBHOOK_SECRET_HEADER: X-Webhook-Secret",
			new:   "WEBHOOK_SECRET_HEADER: webhook-api-key-dev-only-not-for-prod-9c8b7a6f5e4d3c2b1a09",
			check: checkNoSecretValues,
			want:  []string{"WebhookFunction environment WEBHOOK_SECRET_HEADER", "contains kickstart's webhookApiKey value"},
		},
		{
			name:  "webhook URL output",
			old:   "!GetAtt WebhookFunctionUrl.FunctionUrl",
			new:   "!GetAtt WebhookFunction.Arn",
			check: checkOutputs,
			want:  []string{"output WebhookURL = GetAtt:WebhookFunction.Arn"},
		},
		{
			name:  "dashboard names a metric nothing emits",
			old:   `["AnonymousUsers", "SignedIn", "Function", "register", {"label": "Signed in"}]`,
			new:   `["AnonymousUsers", "SignedUp", "Function", "register", {"label": "Signed in"}]`,
			check: checkDashboard,
			want:  []string{`widget "Funnel per day": AnonymousUsers SignedUp Function=register: the code emits no SignedUp`, "the dashboard does not show SignedIn"},
		},
		{
			name:  "dashboard names the wrong function",
			old:   `"Converted", "Function", "webhook", {"label": "Converted (login webhook)"}`,
			new:   `"Converted", "Function", "video", {"label": "Converted (login webhook)"}`,
			check: checkDashboard,
			want:  []string{`AnonymousUsers Converted Function=video: the code emits Function=[webhook register], not "video"`},
		},
		{
			name:  "dashboard drops a dimension",
			old:   `"ClientOverLimit", "Limit", "stub", "Function", "video", {"label": "Over the stubs per client hour"}`,
			new:   `"ClientOverLimit", "Function", "video", {"label": "Over the stubs per client hour"}`,
			check: checkDashboard,
			want:  []string{"AnonymousUsers ClientOverLimit Function=video: the code emits no ClientOverLimit with these dimensions"},
		},
		{
			name:  "dashboard charts dry runs",
			old:   `["AnonymousUsers", "RemainingAnonymous", "Function", "prune", "DryRun", "false", {"label": "Stubs alive"}]`,
			new:   `["AnonymousUsers", "RemainingAnonymous", "Function", "prune", "DryRun", "maybe", {"label": "Stubs alive"}]`,
			check: checkDashboard,
			want:  []string{`RemainingAnonymous DryRun=maybe Function=prune: the code emits DryRun=[true false], not "maybe"`, "does not show prune's RemainingAnonymous"},
		},
		{
			name:  "rate reads a metric the widget lacks",
			old:   "/ stubs, 0)",
			new:   "/ stub, 0)",
			check: checkDashboard,
			want:  []string{"reads stub, which no metric of the widget is"},
		},
		{
			name:  "dashboard names no resource",
			old:   `"${PruneFunction}", {"label": "prune errors"}`,
			new:   `"${PrunerFunction}", {"label": "prune errors"}`,
			check: checkDashboard,
			want:  []string{"${PrunerFunction} is not a resource of the stack", "PrunerFunction is not a function of the stack", "does not show PruneFunction's Errors"},
		},
		{
			name:  "function URL metric of a function without one",
			old:   `"Url5xxCount", "FunctionName", "${WebhookFunction}"`,
			new:   `"Url5xxCount", "FunctionName", "${VideoFunction}"`,
			check: checkDashboard,
			want:  []string{"VideoFunction has no Function URL"},
		},
		{
			name:  "funnel not stacked per day",
			old:   `"title": "Funnel per day", "region": "${AWS::Region}", "view": "timeSeries", "stacked": true`,
			new:   `"title": "Funnel per day", "region": "${AWS::Region}", "view": "timeSeries", "stacked": false`,
			check: checkDashboard,
			want:  []string{"no stacked daily widget shows the funnel"},
		},
		{
			name:  "dashboard body not JSON",
			old:   `"widgets": [`,
			new:   `"widgets": [,`,
			check: checkDashboard,
			want:  []string{"dashboard body is not JSON"},
		},
		{
			name:  "alarm on a metric nothing emits",
			old:   "MetricName: WatchDropped",
			new:   "MetricName: WatchesDropped",
			check: checkAlarms,
			want:  []string{"WatchDroppedAlarm: AnonymousUsers WatchesDropped Function=video: the code emits no WatchesDropped", "no alarm on AnonymousUsers WatchDropped"},
		},
		{
			name:  "prune alarm quiet when prune never runs",
			old:   "TreatMissingData: breaching",
			new:   "TreatMissingData: notBreaching",
			check: checkAlarms,
			want:  []string{"PruneNotFinishingAlarm: TreatMissingData = notBreaching, want breaching"},
		},
		{
			name:  "prune alarm counts dry runs",
			old:   "        - Name: DryRun\n          Value: \"false\"",
			new:   "        - Name: DryRun\n          Value: \"true\"",
			check: checkAlarms,
			want:  []string{"PruneNotFinishingAlarm: AnonymousUsers Completed DryRun=true Function=prune: a dry run must not count"},
		},
		{
			name:  "prune alarm looks back a week and more",
			old:   "      EvaluationPeriods: 26\n      DatapointsToAlarm: 26",
			new:   "      EvaluationPeriods: 200\n      DatapointsToAlarm: 200",
			check: checkAlarms,
			want:  []string{"PruneNotFinishingAlarm: evaluates 720000 s, more than CloudWatch's 604800", "looks back 720000 s"},
		},
		{
			name:  "alarm notifies nobody",
			old:   "      TreatMissingData: breaching\n      AlarmActions: [!Ref AlarmTopic]",
			new:   "      TreatMissingData: breaching\n      AlarmActions: []",
			check: checkAlarms,
			want:  []string{"PruneNotFinishingAlarm: AlarmActions = [], want [Ref:AlarmTopic]"},
		},
		{
			name:  "pages' 5xx alarm on another API",
			old:   "        - Name: ApiId\n          Value: !Ref HttpApi",
			new:   "        - Name: ApiId\n          Value: !Ref OtherApi",
			check: checkAlarms,
			want:  []string{"PagesServerErrorsAlarm: AWS/ApiGateway 5xx ApiId=Ref:OtherApi: OtherApi is not an HTTP API of the stack"},
		},
	}
	original, err := os.ReadFile(filepath.Join(st.root, "template.yaml"))
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if left := missing(tc.check(st), tc.want); len(left) != len(tc.want) {
				t.Fatalf("the real template already reports %v, want none of %v", tc.check(st), tc.want)
			}
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(mutate(t, string(original), tc.old, tc.new)), 0o600); err != nil {
				t.Fatalf("write mutated template: %v", err)
			}
			broken, err := parseTemplate(path)
			if err != nil {
				t.Fatalf("parse mutated template: %v", err)
			}
			broken.root = st.root
			got := tc.check(broken)
			if left := missing(got, tc.want); len(left) > 0 {
				t.Errorf("problems = %q, want ones containing %q", got, left)
			}
		})
	}
}
