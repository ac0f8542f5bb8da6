package iam

import "time"

// What listings select, and the orders they come in. Empty fields select
// everything; ties of an order are broken by id.

// UserFilter selects users.
type UserFilter struct {
	Name    string // case-insensitive part of the name
	Email   string // the whole address, normalised
	Profile string // a profile reference
	RoleID  string
	Status  UserStatus
}

// UserOrder is an order users can be listed in.
type UserOrder string

// The user orders.
const (
	UsersByCreatedAt UserOrder = "CREATED_AT"
	UsersByName      UserOrder = "NAME"
	UsersByEmail     UserOrder = "EMAIL"
)

// DeveloperFilter selects the developers of a project.
type DeveloperFilter struct {
	Email  string
	RoleID string
}

// M2MFilter selects machine clients.
type M2MFilter struct {
	Name   string // case-insensitive part of the name
	RoleID string
}

// AuditFilter selects audit events.
type AuditFilter struct {
	ActorID, TargetID, Action string
	Since, Until              *time.Time
}
