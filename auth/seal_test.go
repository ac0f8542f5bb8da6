package auth

import (
	"bytes"
	"errors"
	"testing"
)

func TestSeal(t *testing.T) {
	tok := NewSealer([]byte("a-sealing-secret-of-32-bytes-or-more!"))
	secret := []byte(`{"invitationUrl":"https://x/invitation?ticket=abc"}`)
	sealed, err := tok.Seal("user:1/request-1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("ticket")) {
		t.Fatal("sealed data shows its plaintext")
	}
	if got, err := tok.Open("user:1/request-1", sealed); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := NewSealer([]byte("another-sealing-secret-of-32-bytes!!!"))
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"other context": func() ([]byte, error) { return tok.Open("user:2/request-1", sealed) },
		"other key":     func() ([]byte, error) { return other.Open("user:1/request-1", sealed) },
		"tampered":      func() ([]byte, error) { return tok.Open("user:1/request-1", tampered) },
		"short":         func() ([]byte, error) { return tok.Open("user:1/request-1", sealed[:4]) },
	} {
		if _, err := open(); !errors.Is(err, ErrUnsealable) {
			t.Errorf("%s: err %v, want ErrUnsealable", name, err)
		}
	}
}
