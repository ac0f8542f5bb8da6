package rest

// Retried POSTs: the SDK retries with the same x-oystehr-request-id, and
// the domain's Once answers a retry of a completed request with the first
// answer.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"

	"atrium/service"
)

// RequestIDHeader is the request id the SDK sends with every call.
const RequestIDHeader = "X-Oystehr-Request-Id"

// idempotent runs a POST through the domain's Once.
func idempotent(o Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(r.Context(), o.Log, w, unreadable(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
		rec := &bufferedWriter{header: http.Header{}}
		a, replayed, err := o.Service.Once(r.Context(), r.Header.Get(RequestIDHeader), hex.EncodeToString(sum[:]), func() service.Answer {
			next.ServeHTTP(rec, r)
			return service.Answer{Status: rec.status, Body: rec.body.Bytes()}
		})
		if err != nil {
			writeError(r.Context(), o.Log, w, err)
			return
		}
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		} else {
			for k, v := range rec.header {
				w.Header()[k] = v
			}
		}
		if len(a.Body) > 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(a.Body)))
		}
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
	})
}

// bufferedWriter holds an answer until it is known whether to remember it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
