package site

import (
	"log/slog"
	"net/http"
)

// CountServerErrors returns h, the whole handler of function (FunctionVideo,
// FunctionRegister or FunctionWebhook), counting each response of 500 or above, and
// each panic, as one ServerError metric of function: the errors per function on the
// dashboard, which API Gateway's 5xx cannot split between video and register. The
// handler logged the error itself; this line says only the status.
func CountServerErrors(function string, log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				step(r.Context(), log, slog.LevelError, "server error: the handler panicked", MetricServerError, function)
				panic(p)
			}
			if sw.status >= http.StatusInternalServerError {
				step(r.Context(), log, slog.LevelInfo, "server error answered", MetricServerError, function, "status", sw.status)
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status of the response it writes.
type statusWriter struct {
	http.ResponseWriter
	status int // 0 until the header is written
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= http.StatusOK {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
