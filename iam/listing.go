package iam

import "time"

// What listings select, and the orders they come in. Empty fields select
// everything; ties of an order are broken by id.

// UserFilter selects users.
type UserFilter struct {
	ID      string
	Name    string // case-insensitive part of the name
	Email   string // the whole address, normalised
	Profile string // a profile reference
	RoleID  string
	Status  UserStatus
}

// UserOrder is an order users can be listed in. Machine clients and
// developers are listed in the same orders (the platform gives their
// listings the users' sort keys); one by a field they lack (a machine
// client's email or phone number, a developer's phone number) is the
// order of their ids.
type UserOrder string

// The user orders.
const (
	UsersByCreatedAt UserOrder = "CREATED_AT"
	UsersByName      UserOrder = "NAME"
	UsersByEmail     UserOrder = "EMAIL"
	UsersByPhone     UserOrder = "PHONE_NUMBER"
	UsersByID        UserOrder = "ID"
)

// DeveloperFilter selects the developers of a project.
type DeveloperFilter struct {
	DeveloperID string
	Name        string // case-insensitive part of the name
	Email       string
	Profile     string // a profile reference
	RoleID      string
}

// M2MFilter selects machine clients.
type M2MFilter struct {
	ID      string
	Name    string // case-insensitive part of the name
	Profile string // a profile reference
	RoleID  string
}

// AuditFilter selects audit events.
type AuditFilter struct {
	ActorID, TargetID, Action string
	Since, Until              *time.Time
}
