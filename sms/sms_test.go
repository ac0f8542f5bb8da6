package sms_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/sms"
)

// The senders against servers running in the test: the webhook's signature
// checked by its receiver, Twilio's form and basic auth, 2xx only, the
// timeout, and the dev sender's log in and out of dev mode.

const secretBody = "481516 is your Portal sign-in code."

// receiver is a test server that records what it gets and answers status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T, status int, delay time.Duration) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.bodies = append(r.got, req.Clone(context.Background())), append(r.bodies, body)
		r.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func TestWebhookSignsWhatItPosts(t *testing.T) {
	r := newReceiver(t, http.StatusAccepted, 0)
	secret := "webhook-secret-0123456789"
	w := sms.NewWebhookSender(r.URL+"/hook", secret, 5*time.Second)
	if err := w.Send(t.Context(), sms.Message{To: "+15555550123", Body: secretBody}); err != nil {
		t.Fatal(err)
	}
	req, body := r.got[0], r.bodies[0]
	if req.Method != http.MethodPost || req.URL.Path != "/hook" || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s %s", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	var msg map[string]string
	if err := json.Unmarshal(body, &msg); err != nil || msg["to"] != "+15555550123" || msg["body"] != secretBody || len(msg) != 2 {
		t.Fatalf("body %s (%v)", body, err)
	}
	// The receiver's check: HMAC-SHA256 of timestamp "." body.
	ts := req.Header.Get(sms.TimestampHeader)
	if n, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(n, 0)).Abs() > time.Minute {
		t.Fatalf("timestamp %q", ts)
	}
	want := sms.Sign([]byte(secret), ts, body)
	if got := req.Header.Get(sms.SignatureHeader); !hmac.Equal([]byte(got), []byte(want)) || !strings.HasPrefix(got, "sha256=") {
		t.Fatalf("signature %q, want %q", got, want)
	}
	if sms.Sign([]byte("another secret"), ts, body) == want || sms.Sign([]byte(secret), ts, append(body, ' ')) == want {
		t.Fatal("the signature does not depend on the secret and the body")
	}
}

func TestOnly2xxIsSent(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError, http.StatusFound} {
		r := newReceiver(t, status, 0)
		for _, s := range []sms.Sender{
			sms.NewWebhookSender(r.URL, "webhook-secret-0123456789", 5*time.Second),
			sms.NewTwilioSender(r.URL, "AC123", "auth-token-xyz", "+15550001111", 5*time.Second),
		} {
			err := s.Send(t.Context(), sms.Message{To: "+15555550123", Body: secretBody})
			if err == nil || !strings.Contains(err.Error(), strconv.Itoa(status)) {
				t.Fatalf("%T answered %d: error %v", s, status, err)
			}
			if strings.Contains(err.Error(), "481516") || strings.Contains(err.Error(), "auth-token-xyz") {
				t.Fatalf("the error quotes a secret: %v", err)
			}
		}
	}
}

func TestSendersTimeOut(t *testing.T) {
	r := newReceiver(t, http.StatusOK, 5*time.Second)
	err := sms.NewWebhookSender(r.URL, "webhook-secret-0123456789", 100*time.Millisecond).Send(t.Context(), sms.Message{To: "+1555", Body: secretBody})
	if err == nil {
		t.Fatal("a receiver slower than the timeout: sent")
	}
}

func TestTwilioPostsTheForm(t *testing.T) {
	r := newReceiver(t, http.StatusCreated, 0)
	s := sms.NewTwilioSender(r.URL+"/", "AC0123", "auth-token-xyz", "+15550001111", 5*time.Second)
	if err := s.Send(t.Context(), sms.Message{To: "+15555550123", Body: secretBody}); err != nil {
		t.Fatal(err)
	}
	req := r.got[0]
	if req.URL.Path != "/2010-04-01/Accounts/AC0123/Messages.json" || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("%s %s", req.URL.Path, req.Header.Get("Content-Type"))
	}
	if user, pass, ok := req.BasicAuth(); !ok || user != "AC0123" || pass != "auth-token-xyz" {
		t.Fatalf("basic auth %q %q %v", user, pass, ok)
	}
	form, err := url.ParseQuery(string(r.bodies[0]))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("To") != "+15555550123" || form.Get("From") != "+15550001111" || form.Get("Body") != secretBody {
		t.Fatalf("form %v", form)
	}
}

// The dev sender logs what it sends in dev mode only; elsewhere the log
// never holds a code.
func TestDevSenderLogsBodiesInDevModeOnly(t *testing.T) {
	for _, dev := range []bool{true, false} {
		var log bytes.Buffer
		s, err := sms.New(sms.Config{Sender: sms.SenderDev}, dev, slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		o := sms.NewOutbox(s, slog.New(slog.NewJSONHandler(&log, nil)))
		o.SendSMS(sms.Message{To: "+15555550123", Body: secretBody})
		o.Close(context.Background())
		d := s.(*sms.DevSender)
		if sent := d.Sent("+15555550123"); len(sent) != 1 || sent[0].Body != secretBody {
			t.Fatalf("outbox %v", sent)
		}
		if logged := strings.Contains(log.String(), "481516"); logged != dev {
			t.Fatalf("dev mode %v: the code is in the log %v: %s", dev, logged, log.String())
		}
	}
}

// SendSMS returns while the receiver still holds the request: a caller
// that waited for it would never get here.
func TestOutboxDeliversOffTheCaller(t *testing.T) {
	release := make(chan struct{})
	var got sync.WaitGroup
	got.Add(1)
	r := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Done()
		<-release
	}))
	defer r.Close()
	o := sms.NewOutbox(sms.NewWebhookSender(r.URL, "webhook-secret-0123456789", 30*time.Second), slog.New(slog.DiscardHandler))
	o.SendSMS(sms.Message{To: "+15555550123", Body: secretBody})
	got.Wait()
	close(release)
	o.Close(context.Background())
	if _, err := sms.New(sms.Config{Sender: "carrier-pigeon"}, true, slog.Default()); err == nil {
		t.Fatal("an unknown sender was accepted")
	}
}
