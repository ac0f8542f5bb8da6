package service

import (
	"context"
	"errors"
	"fmt"

	"atrium/iam"
)

// Node is an entity named by a global id (iam.GlobalID): a *iam.Project,
// *iam.Role, *iam.Application, *iam.User, *iam.Membership (a Developer) or
// *iam.M2MClient.
type Node interface{}

// MaxNodes is how many global ids one Nodes call may name.
const MaxNodes = 100

// Node returns the entity a global id names, read through the use case of
// its type (role, user, ...), so the caller needs exactly what that one
// needs. A string that is not a global id, and an entity of another
// project, are NOT_FOUND alike.
func (s *Service) Node(ctx context.Context, gid string) (_ Node, err error) {
	_, op, err := s.begin(ctx, ucNode, "")
	defer op.end(&err)
	if err != nil {
		return nil, err
	}
	return s.node(ctx, gid, "id")
}

// Nodes returns the entities the global ids name, in their order; an id
// that names nothing has a nil entity and its error (field "ids[i]"), the
// others are found as by Node. At most MaxNodes ids.
func (s *Service) Nodes(ctx context.Context, gids []string) (_ []Node, _ []error, err error) {
	_, op, err := s.begin(ctx, ucNodes, "")
	defer op.end(&err)
	if err != nil {
		return nil, nil, err
	}
	if len(gids) > MaxNodes {
		return nil, nil, iam.Invalid("ids", "names %d ids; at most %d are allowed", len(gids), MaxNodes)
	}
	nodes, errs := make([]Node, len(gids)), make([]error, len(gids))
	for i, gid := range gids {
		nodes[i], errs[i] = s.node(ctx, gid, fmt.Sprintf("ids[%d]", i))
		if errs[i] != nil {
			nodes[i] = nil
			if iam.ErrorCode(errs[i]) == iam.Internal {
				return nil, nil, errs[i]
			}
		}
	}
	return nodes, errs, nil
}

// node reads the entity gid names through its type's use case. A NOT_FOUND
// names the global id the caller gave (never the id inside it) and field.
func (s *Service) node(ctx context.Context, gid, field string) (Node, error) {
	typ, id, ok := iam.ParseGlobalID(gid)
	if !ok {
		return nil, notFound("node", gid, field)
	}
	var n Node
	var err error
	switch typ {
	case "Project":
		var p *iam.Project
		if p, err = s.Project(ctx); err == nil && p.ID != id {
			return nil, notFound("node", gid, field)
		}
		n = p
	case "Role":
		n, err = s.Role(ctx, id)
	case "Application":
		n, err = s.Application(ctx, id)
	case "User":
		n, err = s.User(ctx, id)
	case "Developer":
		n, err = s.Developer(ctx, id)
	case "M2MClient":
		n, err = s.M2MClient(ctx, id)
	default:
		return nil, notFound("node", gid, field)
	}
	// The entity's own NOT_FOUND (field "id"; a project that is not found
	// has none) names the id inside: name the global id instead.
	if e, ok := errors.AsType[*iam.Error](err); ok && e.Code == iam.NotFound && e.Field != "" {
		return nil, notFound("node", gid, field)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}
