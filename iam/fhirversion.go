package iam

// FHIRVersion is the FHIR release a project uses, fixed when the project is
// created. Its stored and JSON form is the platform's ("r4", "r5"); GraphQL
// shows it as the enum values R4 and R5 (mapped in gqlgen.yml).
type FHIRVersion string

// The supported FHIR versions.
const (
	R4 FHIRVersion = "r4"
	R5 FHIRVersion = "r5"
)
