package mail

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The outbox in Prometheus: how many messages wait, how many went out, and
// why the others did not.
var (
	queueDepth = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "atrium_mail_queue_depth",
		Help: "Invitation emails waiting in the outbox for the sender.",
	})
	sentTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "atrium_mail_sent_total",
		Help: "Invitation emails the mail server accepted.",
	})
	failuresTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "atrium_mail_failures_total",
		Help: "Invitation emails not sent, by reason: queue_full and closed (dropped on enqueue), invalid_message, undelivered (the server refused it or every attempt failed), aborted (the outbox closed first).",
	}, []string{"reason"})
)

// Reasons of atrium_mail_failures_total.
const (
	failQueueFull   = "queue_full"
	failClosed      = "closed"
	failInvalid     = "invalid_message"
	failUndelivered = "undelivered"
	failAborted     = "aborted"
)

func init() {
	// Every reason is shown from the start, at zero, so that a rate() over
	// it has a series before the first failure.
	for _, r := range []string{failQueueFull, failClosed, failInvalid, failUndelivered, failAborted} {
		failuresTotal.WithLabelValues(r)
	}
}
