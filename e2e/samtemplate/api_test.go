package samtemplate_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// eventNames returns the function's event names, sorted.
func eventNames(fn *serverless.Function) []string {
	return slices.Sorted(maps.Keys(fn.Events))
}

// checkRoutes checks the function's HTTP API events against its spec's routes, and that
// it has no events of other types than HttpApi and Schedule.
func checkRoutes(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	seen := map[route]string{} // method+path → event name
	for _, name := range eventNames(fn) {
		ev := fn.Events[name]
		// goformation picks the event's struct by shape, not by Type: switch on Type.
		switch ev.Type {
		case "HttpApi":
			if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
				p = append(p, fmt.Sprintf("event %s: Type HttpApi but its Properties do not decode as an HttpApi event (misspelt property?)", name))
				continue
			}
			h := ev.Properties.HttpApiEvent
			r := route{method: strings.ToUpper(fmt.Sprint(deref(h.Method))), path: fmt.Sprint(deref(h.Path))}
			want, ok := findRoute(sp.routes, r)
			if !ok {
				p = append(p, fmt.Sprintf("event %s: route %s %s, want none outside %v", name, r.method, r.path, sp.routes))
				continue
			}
			if prev, dup := seen[r]; dup {
				p = append(p, fmt.Sprintf("event %s: route %s %s already declared by event %s", name, r.method, r.path, prev))
			}
			seen[r] = name
			if got := deref(h.ApiId); got != "Ref:HttpApi" {
				p = append(p, fmt.Sprintf("event %s: ApiId = %v, want Ref:HttpApi", name, got))
			}
			if got := deref(h.PayloadFormatVersion); got != "2.0" {
				p = append(p, fmt.Sprintf("event %s: PayloadFormatVersion = %v, want 2.0", name, got))
			}
			if want.throttled && (h.RouteSettings == nil || h.RouteSettings.ThrottlingRateLimit == nil || h.RouteSettings.ThrottlingBurstLimit == nil) {
				p = append(p, fmt.Sprintf("event %s: RouteSettings throttling = <unset>, want its own rate and burst limits", name))
			}
		case "Schedule":
			// checkSchedule
		default:
			p = append(p, fmt.Sprintf("event %s: Type = %s, want HttpApi or Schedule only", name, ev.Type))
		}
	}
	for _, r := range sp.routes {
		if _, ok := seen[route{method: r.method, path: r.path}]; !ok && !r.optional {
			p = append(p, fmt.Sprintf("route %s %s = <missing>, want an HttpApi event", r.method, r.path))
		}
	}
	return p
}

// findRoute returns the spec route with r's method and path.
func findRoute(routes []route, r route) (route, bool) {
	for _, w := range routes {
		if w.method == r.method && w.path == r.path {
			return w, true
		}
	}
	return route{}, false
}

func checkHTTPAPI(st *stack) []string {
	api, err := st.tmpl.GetServerlessHttpApiWithName("HttpApi")
	if err != nil {
		return []string{fmt.Sprintf("HttpApi = <missing>, want an AWS::Serverless::HttpApi: %v", err)}
	}
	rs := api.DefaultRouteSettings
	if rs == nil || rs.ThrottlingRateLimit == nil || rs.ThrottlingBurstLimit == nil {
		return []string{"HttpApi DefaultRouteSettings throttling = <unset>, want ThrottlingRateLimit and ThrottlingBurstLimit"}
	}
	if *rs.ThrottlingRateLimit <= 0 || *rs.ThrottlingBurstLimit <= 0 {
		return []string{fmt.Sprintf("HttpApi throttling = rate %v burst %v, want both > 0", *rs.ThrottlingRateLimit, *rs.ThrottlingBurstLimit)}
	}
	return nil
}
