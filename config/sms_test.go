package config_test

import (
	"strings"
	"testing"

	"atrium/config"
)

// The SMS sender's settings: dev on the embedded engine and off with
// MongoDB by default; a chosen sender without its settings stops start-up
// naming the variable, and never quotes a secret.
func TestSMSSenderSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil || c.SMSSender != "dev" {
		t.Fatalf("embedded default: %q %v", c.SMSSender, err)
	}
	c, err = config.Load(env(map[string]string{"MONGODB_URI": "mongodb://db:27017", "ATRIUM_SEALING_SECRET": strings.Repeat("s", 32)}))
	if err != nil || c.SMSSender != "off" {
		t.Fatalf("MongoDB default: %q %v", c.SMSSender, err)
	}
	c, err = config.Load(env(map[string]string{"ATRIUM_SMS_SENDER": "webhook", "ATRIUM_SMS_WEBHOOK_URL": "https://sms.example.com/hook",
		"ATRIUM_SMS_WEBHOOK_SECRET": "0123456789abcdef", "ATRIUM_SMS_TIMEOUT": "3s"}))
	if err != nil || c.SMSWebhookURL != "https://sms.example.com/hook" || c.SMSTimeout.Seconds() != 3 {
		t.Fatalf("webhook: %+v %v", c, err)
	}
	c, err = config.Load(env(map[string]string{"ATRIUM_SMS_SENDER": "twilio", "ATRIUM_SMS_TWILIO_ACCOUNT_SID": "AC1",
		"ATRIUM_SMS_TWILIO_AUTH_TOKEN": "tok", "ATRIUM_SMS_FROM": "+15550001111"}))
	if err != nil || c.SMSTwilioURL != "https://api.twilio.com" {
		t.Fatalf("twilio: %+v %v", c, err)
	}
	for _, tc := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"ATRIUM_SMS_SENDER": "pigeon"}, "ATRIUM_SMS_SENDER"},
		{map[string]string{"ATRIUM_SMS_SENDER": "webhook", "ATRIUM_SMS_WEBHOOK_SECRET": "0123456789abcdef"}, "ATRIUM_SMS_WEBHOOK_URL"},
		{map[string]string{"ATRIUM_SMS_SENDER": "webhook", "ATRIUM_SMS_WEBHOOK_URL": "ftp://x", "ATRIUM_SMS_WEBHOOK_SECRET": "0123456789abcdef"}, "ATRIUM_SMS_WEBHOOK_URL"},
		{map[string]string{"ATRIUM_SMS_SENDER": "webhook", "ATRIUM_SMS_WEBHOOK_URL": "https://x", "ATRIUM_SMS_WEBHOOK_SECRET": "short-hunter2"}, "ATRIUM_SMS_WEBHOOK_SECRET"},
		{map[string]string{"ATRIUM_SMS_SENDER": "twilio", "ATRIUM_SMS_TWILIO_AUTH_TOKEN": "hunter2", "ATRIUM_SMS_FROM": "+15550001111"}, "ATRIUM_SMS_TWILIO_ACCOUNT_SID"},
		{map[string]string{"ATRIUM_SMS_SENDER": "twilio", "ATRIUM_SMS_TWILIO_ACCOUNT_SID": "AC1", "ATRIUM_SMS_FROM": "+15550001111"}, "ATRIUM_SMS_TWILIO_AUTH_TOKEN"},
		{map[string]string{"ATRIUM_SMS_SENDER": "twilio", "ATRIUM_SMS_TWILIO_ACCOUNT_SID": "AC1", "ATRIUM_SMS_TWILIO_AUTH_TOKEN": "hunter2", "ATRIUM_SMS_FROM": "5550001111"}, "ATRIUM_SMS_FROM"},
		{map[string]string{"ATRIUM_SMS_TIMEOUT": "never"}, "ATRIUM_SMS_TIMEOUT"},
	} {
		_, err := config.Load(env(tc.env))
		if err == nil || !strings.HasPrefix(err.Error(), tc.name+":") {
			t.Errorf("%v: got %v, want an error naming %s", tc.env, err, tc.name)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error quotes a secret: %v", err)
		}
	}
}
