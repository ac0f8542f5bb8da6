package sms

// The three senders.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DevSender keeps every message in memory, for tests and for a developer
// on the embedded engine, whose log shows the messages (dev mode only:
// elsewhere the log says that a message was kept, never what it says).
type DevSender struct {
	log     *slog.Logger
	logBody bool
	mu      sync.Mutex
	outbox  []Message
}

// NewDevSender returns a dev sender; logBody is whether Atrium runs in dev
// mode.
func NewDevSender(log *slog.Logger, logBody bool) *DevSender {
	return &DevSender{log: log, logBody: logBody}
}

// Send keeps m.
func (d *DevSender) Send(ctx context.Context, m Message) error {
	d.mu.Lock()
	d.outbox = append(d.outbox, m)
	d.mu.Unlock()
	if d.logBody {
		d.log.InfoContext(ctx, "sms (dev sender, not sent)", "to", m.To, "body", m.Body)
	} else {
		d.log.InfoContext(ctx, "sms kept by the dev sender, not sent")
	}
	return nil
}

// Sent returns the messages sent to a number so far, oldest first.
func (d *DevSender) Sent(to string) []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Message
	for _, m := range d.outbox {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Await waits, within ctx, until n messages have been sent to a number and
// returns the nth.
func (d *DevSender) Await(ctx context.Context, to string, n int) (Message, error) {
	for {
		if sent := d.Sent(to); len(sent) >= n {
			return sent[n-1], nil
		}
		select {
		case <-ctx.Done():
			return Message{}, fmt.Errorf("sms: %d messages to %s, still waiting for message %d: %w", len(d.Sent(to)), to, n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// WebhookSender POSTs each message as JSON {"to", "body"} to a URL, like
// Auth0's SMS gateway. The request carries X-Atrium-Timestamp (Unix
// seconds) and X-Atrium-Signature: "sha256=" and the hex HMAC-SHA256,
// under the shared secret, of the timestamp, a dot and the body, so that
// the receiver can check who sent it and refuse old requests. Only a 2xx
// answer counts as sent.
type WebhookSender struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// The webhook's headers.
const (
	SignatureHeader = "X-Atrium-Signature"
	TimestampHeader = "X-Atrium-Timestamp"
)

// NewWebhookSender returns a webhook sender.
func NewWebhookSender(url, secret string, timeout time.Duration) *WebhookSender {
	return &WebhookSender{url: url, secret: []byte(secret), client: &http.Client{Timeout: timeout}, now: time.Now}
}

// Sign is the signature of a webhook body at a timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts m.
func (w *WebhookSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]string{"to": m.To, "body": m.Body})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(w.secret, ts, body))
	return deliver(w.client, req, "sms webhook")
}

// TwilioSender sends through Twilio's Messages API, or any service with
// its shape: a form POST of To, From and Body to
// <base>/2010-04-01/Accounts/<sid>/Messages.json with HTTP basic auth
// (the account SID and auth token). Only a 2xx answer counts as sent.
type TwilioSender struct {
	endpoint, sid, token, from string
	client                     *http.Client
}

// NewTwilioSender returns a Twilio-compatible sender; base "" is Twilio's.
func NewTwilioSender(base, sid, token, from string, timeout time.Duration) *TwilioSender {
	if base == "" {
		base = "https://api.twilio.com"
	}
	endpoint := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(sid) + "/Messages.json"
	return &TwilioSender{endpoint: endpoint, sid: sid, token: token, from: from, client: &http.Client{Timeout: timeout}}
}

// Send posts m.
func (t *TwilioSender) Send(ctx context.Context, m Message) error {
	form := url.Values{"To": {m.To}, "From": {t.from}, "Body": {m.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("sms twilio: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(t.sid, t.token)
	return deliver(t.client, req, "sms twilio")
}

// deliver performs req and wants a 2xx answer. Its errors name the host
// and the status, never the request's body.
func deliver(c *http.Client, req *http.Request, what string) error {
	res, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error quotes the URL, which may hold a token
		}
		return fmt.Errorf("%s to %s: %v", what, req.URL.Host, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("%s to %s: answered %s", what, req.URL.Host, res.Status)
	}
	return nil
}
