package store

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.mongodb.org/mongo-driver/v2/event"
)

// The driver's own view of the store, in Prometheus: how long each command
// takes, and how busy the connection pool is. They observe; they change
// nothing the store does.
var (
	commandSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "atrium_store_command_duration_seconds",
		Help:    "Time of the database commands the driver sends (find, insert, update, findAndModify, aggregate, …), by command and outcome (ok, error).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"command", "outcome"})
	connectionsInUse = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "atrium_store_connections_in_use",
		Help: "Database connections checked out of the driver's pool.",
	})
	checkoutSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "atrium_store_connection_checkout_duration_seconds",
		Help:    "Time to check a connection out of the driver's pool.",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
	})
	checkoutFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "atrium_store_connection_checkout_failures_total",
		Help: "Failed checkouts of a connection from the driver's pool, by reason (timeout, connectionError, poolClosed).",
	}, []string{"reason"})
)

// measured returns a command monitor that times every command and then
// calls next's functions (next may be nil).
func measured(next *event.CommandMonitor) *event.CommandMonitor {
	if next == nil {
		next = &event.CommandMonitor{}
	}
	return &event.CommandMonitor{
		Started: next.Started,
		Succeeded: func(ctx context.Context, e *event.CommandSucceededEvent) {
			commandSeconds.WithLabelValues(e.CommandName, "ok").Observe(e.Duration.Seconds())
			if next.Succeeded != nil {
				next.Succeeded(ctx, e)
			}
		},
		Failed: func(ctx context.Context, e *event.CommandFailedEvent) {
			commandSeconds.WithLabelValues(e.CommandName, "error").Observe(e.Duration.Seconds())
			if next.Failed != nil {
				next.Failed(ctx, e)
			}
		},
	}
}

// poolMetrics follows the driver's connection pool.
var poolMetrics = &event.PoolMonitor{Event: func(e *event.PoolEvent) {
	switch e.Type {
	case event.ConnectionCheckedOut:
		connectionsInUse.Inc()
		checkoutSeconds.Observe(e.Duration.Seconds())
	case event.ConnectionCheckedIn:
		connectionsInUse.Dec()
	case event.ConnectionCheckOutFailed:
		checkoutFailures.WithLabelValues(e.Reason).Inc()
	}
}}
