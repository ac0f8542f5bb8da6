package iam

import (
	"fmt"
	"net/url"
)

// ValidOrigin checks a web origin: http(s), a host, and no path, query,
// fragment or credentials.
func ValidOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an origin such as https://app.example.com", o)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%q: an origin has no path, query or credentials", o)
	}
	return nil
}

// ValidWebURL checks an absolute http(s) URL without credentials.
func ValidWebURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}
