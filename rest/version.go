package rest

// GET /version: which API this is. Public, like the platform's.

import (
	"context"
	"net/http"
	"runtime/debug"

	"atrium/service"
)

// versionResponse is the SDK's VersionGetResponse.
type versionResponse struct {
	API         string `json:"api"`
	Version     string `json:"version"`
	Environment string `json:"environment"`
}

func versionRoutes() []route {
	return []route{{
		method: http.MethodGet, path: "/version", status: http.StatusOK, answer: versionResponse{},
		summary: "The API and the version of Atrium serving it (public)",
		handle: func(context.Context, *service.Service, *request) (any, error) {
			return versionResponse{API: "project", Version: buildVersion(), Environment: "production"}, nil
		},
	}}
}

// buildVersion is the main module's version, or "dev" for a local build.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
