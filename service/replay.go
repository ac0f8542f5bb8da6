package service

// Retried requests. The platform's SDK retries every request, POST
// included, with the same request id (x-oystehr-request-id); Once makes a
// retry of a completed change get the first answer again instead of acting
// twice (inviting twice, creating two roles). Answers are kept in the store,
// so every instance of Atrium sees them, for ReplayTTL; sealed, since they
// may carry secrets (an invitation link, a new client secret), with a key
// that needs the token key and the caller's request id.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"atrium/auth"
	"atrium/iam"
	"atrium/store"
)

// Bounds of remembered answers: how long they are kept, and the largest
// one kept (a larger answer is not remembered; its retry runs again).
const (
	ReplayTTL     = 10 * time.Minute
	MaxReplayBody = 64 << 10
)

// Answer is a transport's answer to a request, as remembered.
type Answer struct {
	Status int
	Body   []byte
}

// Once runs do unless the same caller already made a request with this id
// in the project in scope: then it returns that request's answer and true.
// fingerprint identifies the request (reusing an id for another request is
// a CONFLICT, as is a retry while the first attempt still runs). Only
// successful answers (2xx) are remembered; after a failure a retry runs
// afresh. Without a caller, a project or an id, do just runs.
func (s *Service) Once(ctx context.Context, requestID, fingerprint string, do func() Answer) (Answer, bool, error) {
	req := auth.FromContext(ctx)
	p := req.Principal
	if requestID == "" || p == nil || req.Err != nil || s.sealer == nil {
		return do(), false, nil
	}
	project := p.ProjectID
	if project == "" {
		project = req.ProjectID
	}
	if project == "" {
		return do(), false, nil
	}
	caller := string(p.Kind) + ":" + p.ID + "/" + requestID
	sum := sha256.Sum256([]byte(caller))
	key := hex.EncodeToString(sum[:])
	t := s.db.Tenant(project)
	prev, err := t.ReserveReplay(ctx, key, fingerprint, ReplayTTL)
	if errors.Is(err, store.ErrDuplicate) {
		return Answer{}, false, iam.Errorf(iam.Conflict, "a request with the id %q is being handled; retry shortly", requestID)
	}
	if err != nil {
		return Answer{}, false, domainError(err)
	}
	switch {
	case prev == nil:
	case prev.Fingerprint != fingerprint:
		return Answer{}, false, iam.Errorf(iam.Conflict, "the request id %q was already used for another request; send a new id", requestID)
	case !prev.Done:
		return Answer{}, false, iam.Errorf(iam.Conflict, "a request with the id %q is being handled; retry shortly", requestID)
	default:
		body, err := s.sealer.Open(caller, prev.Body)
		if err != nil { // sealed under another sealing secret
			return Answer{}, false, iam.Errorf(iam.Conflict, "the request id %q was used before and its answer can no longer be read; send a new id", requestID)
		}
		return Answer{Status: prev.Status, Body: body}, true, nil
	}
	a := do()
	bg := context.WithoutCancel(ctx)
	var sealed []byte
	if a.Status >= 200 && a.Status < 300 && len(a.Body) <= MaxReplayBody {
		sealed, err = s.sealer.Seal(caller, a.Body)
	}
	if sealed != nil && err == nil {
		err = t.CompleteReplay(bg, key, a.Status, sealed)
	} else {
		err = t.ReleaseReplay(bg, key)
	}
	if err != nil {
		s.log.WarnContext(ctx, "request answer not remembered", "error", err.Error())
	}
	return a, false, nil
}
