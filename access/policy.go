// Package access is Atrium's access-policy engine: the platform's policy
// grammar, its validation (Validate) and a single decision function (Can).
//
// A policy is a list of rules. Each rule allows or denies a set of actions
// ("Service:ActionName", "Service:*" or "*") on a set of resources
// ("Service:Type:Id", where any trailing segments may be "*" or omitted):
//
//	{"rule": [{"resource": ["IAM:Role"], "action": ["IAM:ListAllRoles", "IAM:GetRole"], "effect": "Allow"}]}
//
// A principal's effective policy is the Merge of its roles' policies and its
// inline policy. Can denies by default, and a matching Deny beats any matching
// Allow, so adding a deny-everything role switches a principal off.
//
// The package is pure: no I/O, no clock, no mutable globals. It is safe for
// concurrent use.
package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Effect is what a rule does when it matches. The spelling is the platform's,
// so policies copied from its documentation work unchanged.
type Effect string

// The two effects a rule may have.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Rule allows or denies every listed action on every listed resource.
// Condition (Allow rules on one FHIR resource type only) restricts the grant
// to the FHIR resources that the search queries select.
type Rule struct {
	Resource  []string `json:"resource"`
	Action    []string `json:"action"`
	Effect    Effect   `json:"effect"`
	Condition []string `json:"condition,omitempty"`
}

// Policy is an ordered list of rules. Order matters only for which rule
// Can reports as deciding; the decision itself does not depend on it.
type Policy struct {
	Rule []Rule `json:"rule"`
}

// Merge returns a policy holding the rules of ps in order: the effective
// policy of a principal is Merge(rolePolicies..., inlinePolicy).
func Merge(ps ...Policy) Policy {
	n := 0
	for _, p := range ps {
		n += len(p.Rule)
	}
	out := Policy{Rule: make([]Rule, 0, n)}
	for _, p := range ps {
		out.Rule = append(out.Rule, p.Rule...)
	}
	return out
}

// UnmarshalJSON accepts a single string or an array of strings for resource,
// action and condition: platform documents use both forms.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var raw struct {
		Resource  json.RawMessage `json:"resource"`
		Action    json.RawMessage `json:"action"`
		Effect    Effect          `json:"effect"`
		Condition json.RawMessage `json:"condition"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := Rule{Effect: raw.Effect}
	fields := []struct {
		name string
		raw  json.RawMessage
		dst  *[]string
	}{
		{"resource", raw.Resource, &out.Resource},
		{"action", raw.Action, &out.Action},
		{"condition", raw.Condition, &out.Condition},
	}
	for _, f := range fields {
		list, err := stringOrList(f.raw)
		if err != nil {
			return fmt.Errorf("access policy rule: %s: %w", f.name, err)
		}
		*f.dst = list
	}
	*r = out
	return nil
}

func stringOrList(b json.RawMessage) ([]string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	if b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		return []string{s}, err
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, errors.New("must be a string or an array of strings")
	}
	return list, nil
}

// Length bounds keep hostile input cheap to check and to store.
const (
	maxResourceLen = 256
	maxActionLen   = 128
)

// resourceID is a resource identifier split into service, type and id.
// Omitted segments are "*", so "FHIR", "FHIR:*" and "FHIR:*:*" parse to the
// same value. For Z3 the type segment holds the whole path and the id is "*".
//
// Requests are parsed the same way: a type-level request ("IAM:Role") has id
// "*", which only a wildcard pattern segment matches, because a concrete
// pattern segment is never "*".
type resourceID [3]string

// parseResource is the one grammar for resource identifiers, used both to
// validate policies and to match requests. Errors read after the identifier,
// as in `resource "FHIR:*:1": ...`.
func parseResource(s string) (resourceID, error) {
	id := resourceID{"*", "*", "*"}
	if s == "" {
		return id, errors.New("is empty")
	}
	if len(s) > maxResourceLen {
		return id, fmt.Errorf("is longer than %d characters", maxResourceLen)
	}
	if path, ok := strings.CutPrefix(s, "Z3:"); ok {
		id[0], id[1] = "Z3", path
		return id, checkZ3Path(path)
	}
	rest := s
	for i := 0; ; i++ {
		if i == len(id) {
			return id, errors.New("has more than 3 segments; the form is Service:Type:Id")
		}
		seg, tail, more := strings.Cut(rest, ":")
		if err := checkSegment(i, seg); err != nil {
			return id, err
		}
		if i > 0 && id[i-1] == "*" && seg != "*" {
			return id, fmt.Errorf("segment %q follows a wildcard; a wildcard already covers everything below it", seg)
		}
		id[i] = seg
		if !more {
			return id, nil
		}
		rest = tail
	}
}

var segmentNames = [3]string{"service", "type", "id"}

func checkSegment(i int, seg string) error {
	switch {
	case seg == "":
		return errors.New("has an empty segment")
	case seg == "*":
		return nil
	case i < 2 && !isName(seg):
		return fmt.Errorf("%s %q must be letters and digits, starting with a letter", segmentNames[i], seg)
	case i == 2:
		if c, ok := badChar(seg); ok {
			return fmt.Errorf("id %q contains %q (ids are printable ASCII without spaces, and '*' must be a whole segment)", seg, c)
		}
	}
	return nil
}

// checkZ3Path accepts bucket, folder and object paths. A '*' is allowed only
// at the end, where it means "everything under this prefix".
func checkZ3Path(path string) error {
	if path == "" {
		return errors.New("has an empty Z3 path")
	}
	if c, ok := badChar(strings.TrimSuffix(path, "*")); ok {
		return fmt.Errorf("Z3 path %q contains %q (paths are printable ASCII without spaces; '*' only at the end)", path, c)
	}
	return nil
}

// badChar reports the first byte that may not appear in an id or path:
// anything outside printable ASCII, space, or '*'.
func badChar(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '*' {
			return c, true
		}
	}
	return 0, false
}

// parseAction splits an action into service and name; "*" is ("*", "*").
func parseAction(s string) (service, name string, err error) {
	switch {
	case s == "*":
		return "*", "*", nil
	case s == "":
		return "", "", errors.New("is empty")
	case len(s) > maxActionLen:
		return "", "", fmt.Errorf("is longer than %d characters", maxActionLen)
	}
	service, name, ok := strings.Cut(s, ":")
	switch {
	case !ok || strings.Contains(name, ":"):
		return "", "", errors.New(`must be "*", "Service:*" or "Service:ActionName"`)
	case !isName(service):
		return "", "", fmt.Errorf("service %q must be letters and digits, starting with a letter", service)
	case name != "*" && (!isName(name) || name[0] < 'A' || name[0] > 'Z'):
		return "", "", fmt.Errorf("action name %q must be PascalCase letters and digits", name)
	}
	return service, name, nil
}

// isName reports whether s is an ASCII letter followed by letters and digits.
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}
