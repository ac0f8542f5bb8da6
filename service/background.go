package service

import (
	"context"
	"sync"
	"time"

	"atrium/iam"
)

// The work the service does off the answer path: writing the audit events
// of the use cases that check a credential (an answer that waited for them
// would take longer for an account that exists, or belongs to more
// projects, than for one that does not, and so tell them apart), and
// sweeping the sign-in throttle's finished windows and ended SMS codes. Close drains both.

// auditQueueLen bounds the events waiting to be written; when the queue is
// full an event is written on the answer path instead, so none is lost.
const auditQueueLen = 4096

// sweepEvery is how often what has expired is deleted: the sign-in
// throttle's finished windows, the remembered answers of retried POSTs and
// the password reset tickets past their hour.
const sweepEvery = time.Minute

type background struct {
	mu     sync.RWMutex // guards closed against sends to a closed queue
	closed bool
	queue  chan auditJob
	stop   chan struct{}
	done   sync.WaitGroup
}

// auditJob is an event to write, or (with flushed set) a marker closed once
// every event queued before it is written.
type auditJob struct {
	ctx     context.Context
	event   iam.AuditEvent
	flushed chan struct{}
}

func (s *Service) startBackground() {
	s.bg = &background{queue: make(chan auditJob, auditQueueLen), stop: make(chan struct{})}
	s.bg.done.Add(2)
	go s.writeAudit()
	go s.sweep()
}

func (s *Service) writeAudit() {
	defer s.bg.done.Done()
	for job := range s.bg.queue {
		if job.flushed != nil {
			close(job.flushed)
			continue
		}
		s.insertEvent(job.ctx, job.event)
	}
}

func (s *Service) sweep() {
	defer s.bg.done.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.bg.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := s.db.Attempts().Sweep(ctx, s.now()); err != nil {
				s.log.Warn("sweeping the sign-in throttle's finished windows", "error", err.Error())
			}
			if _, err := s.db.SMSCodes().Sweep(ctx, s.now()); err != nil {
				s.log.Warn("sweeping ended SMS codes", "error", err.Error())
			}
			if _, err := s.db.SweepReplays(ctx); err != nil {
				s.log.Warn("sweeping remembered answers", "error", err.Error())
			}
			if err := s.sweepOpenID(ctx); err != nil {
				s.log.Warn("sweeping the OpenID provider's expired records", "error", err.Error())
			}
			if _, err := s.db.Resets().Sweep(ctx, s.now()); err != nil {
				s.log.Warn("sweeping expired password reset tickets", "error", err.Error())
			}
			cancel()
		}
	}
}

// recordLater queues an audit event (already stamped) for the writer, or
// writes it now when the queue is full or closed.
func (s *Service) recordLater(ctx context.Context, e iam.AuditEvent) {
	s.bg.mu.RLock()
	defer s.bg.mu.RUnlock()
	if !s.bg.closed {
		select {
		case s.bg.queue <- auditJob{ctx: context.WithoutCancel(ctx), event: e}:
			return
		default:
		}
	}
	s.insertEvent(ctx, e)
}

// flushAudit waits, within ctx, until the events queued so far are written,
// so that a caller reads the trail its own earlier requests left.
func (s *Service) flushAudit(ctx context.Context) {
	flushed := make(chan struct{})
	s.bg.mu.RLock()
	if s.bg.closed {
		s.bg.mu.RUnlock()
		return
	}
	select {
	case s.bg.queue <- auditJob{flushed: flushed}:
	case <-ctx.Done():
	}
	s.bg.mu.RUnlock()
	select {
	case <-flushed:
	case <-ctx.Done():
	}
}

// Close stops the background work once the queued audit events are
// written, or when ctx ends; later events are written on the answer path.
func (s *Service) Close(ctx context.Context) {
	s.bg.mu.Lock()
	if !s.bg.closed {
		s.bg.closed = true
		close(s.bg.queue)
		close(s.bg.stop)
	}
	s.bg.mu.Unlock()
	drained := make(chan struct{})
	go func() { s.bg.done.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		s.log.Error("audit events still queued at shutdown were not written", "queued", len(s.bg.queue))
	}
}
