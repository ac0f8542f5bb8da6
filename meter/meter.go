// Package meter counts and times the operations of Atrium's transports in
// Prometheus, the same way for each: a counter and a latency histogram
// with the same labels, whose outcome label is "ok" or an error code from
// a closed shape, so that no client can grow the series without bound.
package meter

import (
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Outcome label values besides the error codes.
const (
	OK    = "ok"    // the operation succeeded
	Other = "OTHER" // an error whose code is not a plain code
)

// Operations is the pair of metrics of one kind of operation:
// atrium_<subsystem>_<unit>s_total and
// atrium_<subsystem>_<unit>_duration_seconds.
type Operations struct {
	total   *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

// New registers the metrics of the operations named unit of subsystem
// (e.g. "graphql", "operation"), described by what (e.g. "GraphQL
// operations"), with the given labels; the last label is the outcome.
func New(subsystem, unit, what string, labels ...string) *Operations {
	return &Operations{
		total: promauto.NewCounterVec(prometheus.CounterOpts{
			Namespace: "atrium", Subsystem: subsystem, Name: unit + "s_total",
			Help: what + ", by " + list(labels) + ".",
		}, labels),
		seconds: promauto.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "atrium", Subsystem: subsystem, Name: unit + "_duration_seconds",
			Help:    "Time from reading the request to the response of " + what + ", by " + list(labels) + ".",
			Buckets: prometheus.DefBuckets,
		}, labels),
	}
}

func list(labels []string) string {
	out := ""
	for i, l := range labels {
		switch {
		case i == 0:
		case i == len(labels)-1:
			out += " and "
		default:
			out += ", "
		}
		out += l
	}
	return out
}

// Observe counts one operation that started at start, with the label
// values in the order of New's labels.
func (o *Operations) Observe(start time.Time, values ...string) {
	o.total.WithLabelValues(values...).Inc()
	o.seconds.WithLabelValues(values...).Observe(time.Since(start).Seconds())
}

// plainCode is what an error code must look like to be a label.
var plainCode = regexp.MustCompile(`^[A-Z][A-Z_]{0,39}$`)

// Failure is the outcome label of a failed operation whose error has code:
// the code when it is a plain one (BAD_USER_INPUT, NOT_FOUND), Other
// otherwise.
func Failure(code string) string {
	if plainCode.MatchString(code) {
		return code
	}
	return Other
}
