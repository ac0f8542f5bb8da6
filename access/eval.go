package access

import "strings"

// Decision is the outcome of Can, with the rule that decided it.
type Decision struct {
	Allowed bool
	Index   int   // index in p.Rule of the deciding rule; -1 when nothing matched (default deny)
	Rule    *Rule // the deciding rule; nil on default deny
}

// Can reports whether p allows action on resource.
//
// action is a concrete "Service:ActionName". resource is either concrete
// ("IAM:Role:123") or type-level ("IAM:Role", "Project:Settings"), the latter
// for checks that concern a type as a whole (create, list). A concrete pattern
// segment matches only an equal request segment, so a grant on
// "IAM:Role:123" does not satisfy a type-level check on "IAM:Role"; a "*" or
// omitted pattern segment matches anything, including an omitted one. A Z3
// path pattern ending in "*" matches by prefix. The two spellings of the M2M
// actions (App:GetM2MClient, IAM:GetM2MClient, ...) are the same action.
//
// Default deny. A matching Deny beats any matching Allow: the deciding rule is
// the first matching Deny if any, else the first matching Allow.
//
// Allow rules with a condition grant only the FHIR resources a FHIR search
// selects, which this engine cannot run, so Can ignores them; whatever serves
// FHIR must evaluate them. Can never panics and fails closed on policies that did not
// pass Validate: unparsable patterns match nothing, and a matching rule grants
// only if its effect is exactly Allow; any other effect (or a Deny carrying a
// condition) denies. A malformed action or resource is denied.
func Can(p Policy, action, resource string) Decision {
	deny := Decision{Index: -1}
	service, name, err := parseAction(action)
	if err != nil || name == "*" {
		return deny
	}
	req, err := parseResource(resource)
	if err != nil {
		return deny
	}
	alias := m2mAlias[action]
	d := deny
	for i := range p.Rule {
		r := &p.Rule[i]
		if d.Allowed && r.Effect == Allow {
			continue // once granted, only a Deny can change the outcome
		}
		if !r.coversAction(action, service, alias) || !r.coversResource(req) {
			continue
		}
		if r.Effect != Allow {
			return Decision{Index: i, Rule: r}
		}
		if len(r.Condition) == 0 {
			d = Decision{Allowed: true, Index: i, Rule: r}
		}
	}
	return d
}

func (r *Rule) coversAction(action, service, alias string) bool {
	for _, pat := range r.Action {
		if actionMatches(pat, action, service) {
			return true
		}
		if alias != "" && actionMatches(pat, alias, alias[:strings.IndexByte(alias, ':')]) {
			return true
		}
	}
	return false
}

// actionMatches needs no parsing of pat: a malformed pattern can equal no
// well-formed action.
func actionMatches(pat, action, service string) bool {
	if pat == "*" || pat == action {
		return true
	}
	svc, name, ok := strings.Cut(pat, ":")
	return ok && name == "*" && svc == service
}

func (r *Rule) coversResource(req resourceID) bool {
	for _, s := range r.Resource {
		if pat, err := parseResource(s); err == nil && pat.covers(req) {
			return true
		}
	}
	return false
}

func (pat resourceID) covers(req resourceID) bool {
	for i, p := range pat {
		switch {
		case p == "*" || p == req[i]:
		case i == 1 && pat[0] == "Z3" && strings.HasSuffix(p, "*"):
			if !strings.HasPrefix(req[i], p[:len(p)-1]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
