package access

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Size bounds for a policy, so that one stored policy cannot make every
// request that evaluates it slow.
const (
	maxRules        = 200
	maxEntries      = 100 // resources or actions in one rule
	maxConditions   = 20
	maxConditionLen = 2048
)

// ValidationError is the first problem Validate found in a policy.
type ValidationError struct {
	Rule    int    // 0-based rule index; -1 for a problem with the policy as a whole
	Field   string // "resource", "action", "effect", "condition", or "" for the policy
	Message string // names the offending value and the problem
}

func (e *ValidationError) Error() string {
	if e.Rule < 0 {
		return "access policy: " + e.Message
	}
	return fmt.Sprintf("rule %d: %s", e.Rule, e.Message)
}

func bad(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate checks p against the platform's grammar and rules, and the actions
// and resource types of Atrium's own services against the catalogue. It
// returns nil or a *ValidationError describing the first problem, checking
// rule by rule: resources, actions, effect, then whether each action applies
// to each resource, then conditions.
func Validate(p Policy) error {
	if len(p.Rule) > maxRules {
		return &ValidationError{Rule: -1, Message: fmt.Sprintf("has %d rules; at most %d are allowed", len(p.Rule), maxRules)}
	}
	for i := range p.Rule {
		if err := validateRule(&p.Rule[i]); err != nil {
			err.Rule = i
			return err
		}
	}
	return nil
}

func validateRule(r *Rule) *ValidationError {
	if err := checkCount("resource", len(r.Resource)); err != nil {
		return err
	}
	ids := make([]resourceID, len(r.Resource))
	for j, s := range r.Resource {
		id, err := parseResource(s)
		if err == nil {
			err = checkOwnResource(id)
		}
		if err != nil {
			return bad("resource", "resource %q: %v", s, err)
		}
		ids[j] = id
	}
	if err := checkCount("action", len(r.Action)); err != nil {
		return err
	}
	for _, a := range r.Action {
		if err := checkAction(a); err != nil {
			return bad("action", "action %q: %v", a, err)
		}
	}
	if r.Effect != Allow && r.Effect != Deny {
		return bad("effect", `effect %q: must be exactly "Allow" or "Deny"`, r.Effect)
	}
	for _, a := range r.Action {
		for j, id := range ids {
			if err := checkPairing(a, r.Resource[j], id); err != nil {
				return err
			}
		}
	}
	return checkConditions(r, ids)
}

func checkCount(field string, n int) *ValidationError {
	switch {
	case n == 0:
		return bad(field, "%s: at least one is required", field)
	case n > maxEntries:
		return bad(field, "%s: %d entries; at most %d are allowed", field, n, maxEntries)
	}
	return nil
}

// checkOwnResource checks resources of Atrium's own services against the
// catalogue's resource types; other services are not Atrium's to police.
func checkOwnResource(id resourceID) error {
	if err := checkSpelling(id[0]); err != nil {
		return err
	}
	if !ownService[id[0]] || id[1] == "*" {
		return nil
	}
	typ := id[0] + ":" + id[1]
	if !knownType[typ] {
		return fmt.Errorf("unknown resource type %q of service %s (known: %s)", id[1], id[0], strings.Join(typesOfOwner[id[0]], ", "))
	}
	if typ == "Project:Settings" && id[2] != "*" {
		return fmt.Errorf("Project:Settings has no id segment (the project is the one the policy belongs to)")
	}
	return nil
}

// checkSpelling refuses a miscased service name, which would otherwise be a
// well-formed unknown service that silently matches nothing.
func checkSpelling(service string) error {
	for _, known := range knownServices {
		if service != known && strings.EqualFold(service, known) {
			return fmt.Errorf("service %q is spelled %q", service, known)
		}
	}
	return nil
}

func checkAction(a string) error {
	service, name, err := parseAction(a)
	if err == nil {
		err = checkSpelling(service)
	}
	if err == nil && ownService[service] && name != "*" {
		if _, ok := Lookup(a); !ok {
			err = fmt.Errorf("unknown action of service %s", service)
		}
	}
	return err
}

// checkPairing enforces that action applies to the resource (raw, parsed as
// id) and, for type-wide actions, that it targets the whole type.
func checkPairing(action, raw string, id resourceID) *ValidationError {
	service, _, _ := parseAction(action) // already checked
	if service == "*" || id[0] == "*" {
		return nil
	}
	spec, known := Lookup(action)
	if !known {
		// "S:*" and uncatalogued actions: any resource of service S.
		if id[0] != service {
			return bad("action", "action %q does not apply to resource %q: it applies only to resources of service %s", action, raw, service)
		}
		return nil
	}
	owner, typ, _ := strings.Cut(spec.ResourceType, ":")
	if id[0] != owner || id[1] != "*" && id[1] != typ {
		return bad("action", "action %q does not apply to resource %q: it applies to %s", action, raw, spec.ResourceType)
	}
	if spec.TypeWide && id[2] != "*" {
		return bad("resource", "resource %q: action %q acts on %s as a whole, so it must target %q or %q, not one id",
			raw, action, spec.ResourceType, spec.ResourceType, spec.ResourceType+":*")
	}
	return nil
}

// checkConditions enforces the platform's constraints on conditional rules:
// Allow only, exactly one resource naming one whole FHIR type, and each
// condition a FHIR search on that type that returns only that type.
func checkConditions(r *Rule, ids []resourceID) *ValidationError {
	if len(r.Condition) == 0 {
		return nil
	}
	switch {
	case r.Effect != Allow:
		return bad("condition", "condition %q: only Allow rules may have a condition", r.Condition[0])
	case len(r.Condition) > maxConditions:
		return bad("condition", "condition: %d entries; at most %d are allowed", len(r.Condition), maxConditions)
	case len(ids) != 1:
		return bad("condition", "condition: a rule with a condition must have exactly one resource, not %d (%s)", len(ids), strings.Join(r.Resource, ", "))
	}
	if id := ids[0]; id[0] != "FHIR" || id[1] == "*" || id[2] != "*" {
		return bad("condition", "condition: resource %q must name one whole FHIR resource type, such as \"FHIR:Patient:*\"", r.Resource[0])
	}
	for _, c := range r.Condition {
		if err := checkQuery(ids[0][1], c); err != nil {
			return bad("condition", "condition %q: %v", c, err)
		}
	}
	return nil
}

// crossType parameters can return resources of other types or select by
// them, so a condition using them would grant more than the rule's type.
var crossType = map[string]bool{"_include": true, "_revinclude": true, "_has": true}

// checkQuery checks a FHIR search query on fhirType: an optional "Type?" or
// "?" prefix, then name=value parameters joined by '&', percent-encoded.
func checkQuery(fhirType, q string) error {
	switch {
	case q == "":
		return fmt.Errorf("is empty; write a FHIR search query such as \"name=Smith\"")
	case len(q) > maxConditionLen:
		return fmt.Errorf("is longer than %d characters", maxConditionLen)
	case !utf8.ValidString(q) || strings.IndexFunc(q, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("contains spaces or control characters; percent-encode them (a space is %%20)")
	}
	if prefix, rest, ok := strings.Cut(q, "?"); ok {
		switch {
		case prefix != "" && !isName(prefix):
			return fmt.Errorf("'?' may only follow the resource type; inside a value write %%3F")
		case prefix != "" && prefix != fhirType:
			return fmt.Errorf("searches %s, but the rule's resource is FHIR:%s", prefix, fhirType)
		}
		q = rest
	}
	n := 0
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, hasValue := strings.Cut(part, "=")
		name, err1 := url.QueryUnescape(rawName)
		value, err2 := url.QueryUnescape(rawValue)
		switch {
		case err1 != nil || err2 != nil:
			return fmt.Errorf("parameter %q is not correctly percent-encoded", part)
		case !hasValue || value == "":
			return fmt.Errorf("parameter %q has no value", part)
		case !isParamName(name):
			return fmt.Errorf("parameter name %q may contain only letters, digits and _ . : -", name)
		}
		if base, _, _ := strings.Cut(name, ":"); crossType[base] {
			return fmt.Errorf("parameter %q is not allowed: it returns or depends on resources of other types", name)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("has no search parameters")
	}
	return nil
}

// isParamName accepts FHIR search parameter names with modifiers and chains
// ("name", "name:exact", "general-practitioner.name", "_lastUpdated").
func isParamName(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_.:-", r)) {
			return false
		}
	}
	return s != ""
}
