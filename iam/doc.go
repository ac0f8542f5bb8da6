// Package iam holds Atrium's domain vocabulary: the entities of the Project,
// App and IAM services (projects, roles, users, applications, ...) and the one
// error type every layer returns. It does no I/O; the store persists these
// types and the service package applies the rules to them.
package iam
