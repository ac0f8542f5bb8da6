package auth

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Password sign-ins in Prometheus (Throttle.SignIn counts each), by outcome:
// ok, wrong_credentials, throttled_account and throttled_address (refused
// by the throttle before any password is checked), error (the store or the
// hashing slots did not answer).
var signInsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "atrium_signins_total",
	Help: "Password sign-ins of users and developers, by outcome: ok, wrong_credentials, throttled_account, throttled_address, error.",
}, []string{"outcome"})
