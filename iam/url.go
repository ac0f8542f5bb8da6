package iam

import (
	"fmt"
	"net/url"
	"strings"
)

// ValidOrigin checks a web origin: http(s), a host, and no path, query,
// fragment or credentials.
func ValidOrigin(o string) error {
	_, err := NormalOrigin(o)
	return err
}

// NormalOrigin checks a web origin and returns it as browsers send it in the
// Origin header: lower case, no trailing slash.
func NormalOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "HTTP" && u.Scheme != "HTTPS") {
		return "", fmt.Errorf("%q is not an origin such as https://app.example.com", o)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return "", fmt.Errorf("%q: an origin has no path, query or credentials", o)
	}
	host := strings.ToLower(u.Host)
	scheme := strings.ToLower(u.Scheme)
	// Browsers leave the scheme's default port out of the Origin header.
	host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[scheme])
	return scheme + "://" + host, nil
}

// ValidWebURL checks an absolute http(s) URL without credentials.
func ValidWebURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}
