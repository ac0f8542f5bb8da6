// Package sms sends Atrium's text messages (sign-in codes, invitation
// links) through a small Sender interface with three implementations: the
// development sender (an in-memory outbox, and the log in dev mode only), a
// webhook (JSON signed with HMAC-SHA256) and a Twilio-compatible REST API.
// An Outbox queues messages and one worker delivers them, off the request
// path, so that an answer takes the same time whether or not a message was
// sent. Message bodies carry secrets (codes, links): apart from the dev
// sender in dev mode, nothing here logs one, and errors never quote one.
package sms

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Message is one text message.
type Message struct {
	// To is an E.164 phone number.
	To   string
	Body string
}

// Sender delivers one message, or says why not.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// The senders ATRIUM_SMS_SENDER names.
const (
	SenderDev     = "dev"
	SenderWebhook = "webhook"
	SenderTwilio  = "twilio"
	SenderOff     = "off"
)

// Config chooses and configures a sender.
type Config struct {
	// Sender is SenderDev, SenderWebhook, SenderTwilio or SenderOff.
	Sender string
	// WebhookURL receives the messages of the webhook sender, signed with
	// WebhookSecret.
	WebhookURL    string
	WebhookSecret string
	// The Twilio-compatible sender posts to TwilioURL (default
	// https://api.twilio.com) as TwilioAccountSID with TwilioAuthToken,
	// from the number From.
	TwilioURL        string
	TwilioAccountSID string
	TwilioAuthToken  string
	From             string
	// Timeout bounds one delivery (default 10 s).
	Timeout time.Duration
}

// New returns the sender cfg names; dev is whether Atrium runs in dev
// mode (the embedded engine), the only mode in which the dev sender logs
// what it sends. SenderOff is a nil Sender.
func New(cfg Config, dev bool, log *slog.Logger) (Sender, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	switch cfg.Sender {
	case SenderDev:
		return NewDevSender(log, dev), nil
	case SenderWebhook:
		return NewWebhookSender(cfg.WebhookURL, cfg.WebhookSecret, timeout), nil
	case SenderTwilio:
		return NewTwilioSender(cfg.TwilioURL, cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.From, timeout), nil
	case SenderOff, "":
		return nil, nil
	}
	return nil, errors.New("sms: unknown sender " + cfg.Sender)
}

// Outbox delivers messages off the request path: Send queues (and drops,
// with an error in the log, when the queue is full), one worker delivers
// each once.
type Outbox struct {
	sender Sender
	log    *slog.Logger
	mu     sync.RWMutex // guards closed against sends to a closed queue
	closed bool
	queue  chan Message
	done   chan struct{}
}

// queueLen bounds the messages waiting.
const queueLen = 1000

// NewOutbox starts the worker delivering through sender.
func NewOutbox(sender Sender, log *slog.Logger) *Outbox {
	o := &Outbox{sender: sender, log: log, queue: make(chan Message, queueLen), done: make(chan struct{})}
	go o.work()
	return o
}

// SendSMS queues m; it never blocks.
func (o *Outbox) SendSMS(m Message) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		o.log.Error("sms outbox closed: message dropped")
		return
	}
	select {
	case o.queue <- m:
	default:
		o.log.Error("sms queue full: message dropped", "queued", len(o.queue))
	}
}

func (o *Outbox) work() {
	defer close(o.done)
	for m := range o.queue {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := o.sender.Send(ctx, m); err != nil {
			// The error is the sender's own, which never quotes the body.
			o.log.Error("sms not sent", "error", err.Error())
		}
		cancel()
	}
}

// Close delivers what is queued, within ctx.
func (o *Outbox) Close(ctx context.Context) {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.queue)
	}
	o.mu.Unlock()
	select {
	case <-o.done:
	case <-ctx.Done():
		o.log.Error("sms messages still queued at shutdown were not sent", "queued", len(o.queue))
	}
}
