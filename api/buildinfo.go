package api

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// atrium_build_info says which build is running: always 1, with the module
// version, the VCS revision the binary was built from ("unknown" when built
// outside a checkout, with "-dirty" when the tree had changes) and the Go
// version as labels.
var _ = promauto.NewGaugeFunc(prometheus.GaugeOpts{
	Name:        "atrium_build_info",
	Help:        "The running build: always 1; version, revision and go_version are labels.",
	ConstLabels: buildLabels(),
}, func() float64 { return 1 })

func buildLabels() prometheus.Labels {
	l := prometheus.Labels{"version": "unknown", "revision": "unknown", "go_version": "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return l
	}
	l["go_version"] = bi.GoVersion
	if bi.Main.Version != "" {
		l["version"] = bi.Main.Version
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			l["revision"] = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && l["revision"] != "unknown" {
		l["revision"] += "-dirty"
	}
	return l
}
