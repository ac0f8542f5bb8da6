package auth

import (
	"context"
	"time"

	"atrium/iam"
)

// Attempts keeps the throttle's counts: fixed windows per key, in the store,
// so that every Atrium instance on one database counts together. Take counts
// an attempt unless the key's window already holds limit of them; GiveBack
// returns one; Reset ends the window (store.Attempts implements it).
type Attempts interface {
	Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (count int, expiresAt time.Time, taken bool, err error)
	GiveBack(ctx context.Context, key string, now time.Time) error
	Reset(ctx context.Context, key string) error
}

// Limit is how many attempts a key may make per window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Throttle limits password sign-ins: per account (Account failures per
// window, forgotten on a success) and per client address (Address failures
// per window, for an address that tries many accounts). An attempt is taken
// before the password is checked, so parallel attempts cannot slip past the
// limit while the hash runs; a success gives it back.
type Throttle struct {
	attempts Attempts
	account  Limit
	address  Limit
	now      func() time.Time
}

// NewThrottle returns a throttle keeping its counts in attempts.
func NewThrottle(attempts Attempts, account, address Limit) *Throttle {
	return &Throttle{attempts: attempts, account: account, address: address, now: time.Now}
}

// ErrWrongPassword is the answer of a password sign-in that failed.
var ErrWrongPassword = iam.Errorf(iam.Unauthenticated, "wrong email or password")

// tooMany is the answer once a limit is reached, with the limit to publish:
// too many of what (failed sign-ins from your address). The wait is never
// more than the window: a parallel attempt that read the clock after this
// one may have opened it, ending it a little over a window from now.
func tooMany(what string, l Limit, expiresAt, now time.Time) error {
	reset := min(max(expiresAt.Sub(now), time.Second), l.Window)
	return &iam.Error{
		Code:       iam.RateLimited,
		Message:    "too many " + what + "; try again later",
		RetryAfter: reset,
		Limit:      &iam.RateLimit{Limit: l.Max, Remaining: 0, Reset: reset},
	}
}

// SignIn is the one credential check of every kind of password sign-in
// (users, developers, a login page). key names the account, clientAddr the
// caller ("" when unknown: then only the account is limited). find looks the
// account up and returns its password hash (found false when there is no
// such account); an unknown account and a wrong password fail the same way
// after the same work.
func (t *Throttle) SignIn(ctx context.Context, key, clientAddr, password string, find func() (hash string, found bool, err error)) error {
	outcome, err := t.check(ctx, key, clientAddr, ErrWrongPassword, func() (bool, error) {
		hash, found, err := find()
		if err != nil {
			return false, err
		}
		// CheckPassword does the full work even without a hash.
		match, err := CheckPassword(ctx, password, hash)
		return match && found, err
	})
	signInsTotal.WithLabelValues(outcome).Inc()
	return err
}

// Check is SignIn for a credential other than a password (a second
// factor's code): the same limits and order, with ok the caller's own check
// and wrong the answer when it fails.
func (t *Throttle) Check(ctx context.Context, key, clientAddr string, wrong error, ok func() (bool, error)) error {
	_, err := t.check(ctx, key, clientAddr, wrong, ok)
	return err
}

// Count counts one use of key (a message sent: nothing is given back)
// under l, and refuses it with RATE_LIMITED, saying "too many " + what,
// once l is reached.
func (t *Throttle) Count(ctx context.Context, key string, l Limit, what string) error {
	now := t.now()
	_, exp, took, err := t.attempts.Take(ctx, key, l.Max, l.Window, now)
	if err != nil {
		return err
	}
	if !took {
		return tooMany(what, l, exp, now)
	}
	return nil
}

// check runs ok under the limits and names the outcome, for
// atrium_signins_total.
func (t *Throttle) check(ctx context.Context, key, clientAddr string, wrong error, ok func() (bool, error)) (string, error) {
	now := t.now()
	var taken []string // what to give back if the check does not happen
	giveBack := func() {
		for _, k := range taken {
			_ = t.attempts.GiveBack(context.WithoutCancel(ctx), k, now)
		}
	}
	if clientAddr != "" {
		k := "address/" + clientAddr
		_, exp, took, err := t.attempts.Take(ctx, k, t.address.Max, t.address.Window, now)
		if err != nil {
			return "error", err
		}
		if !took {
			return "throttled_address", tooMany("failed sign-ins from your address", t.address, exp, now)
		}
		taken = append(taken, k)
	}
	k := "account/" + key
	_, exp, took, err := t.attempts.Take(ctx, k, t.account.Max, t.account.Window, now)
	if err != nil || !took {
		giveBack()
		if err != nil {
			return "error", err
		}
		return "throttled_account", tooMany("failed sign-ins for this account", t.account, exp, now)
	}
	match, err := ok()
	if err != nil {
		taken = append(taken, k)
		giveBack()
		return "error", err
	}
	if !match {
		return "wrong_credentials", wrong
	}
	giveBack()
	_ = t.attempts.Reset(context.WithoutCancel(ctx), k) // a stale count only delays the next failure's refusal
	return "ok", nil
}

// Request limits a request that costs the service something whatever its
// outcome, such as emailing a password reset link: every request counts,
// per account (key) and per client address ("" when unknown), under the
// same limits as password sign-ins but in counts of their own (kind names
// them, e.g. "password reset"), so that neither can use up the other's. A
// request over a limit is refused with RATE_LIMITED and the limit to
// publish.
func (t *Throttle) Request(ctx context.Context, kind, key, clientAddr string) error {
	if clientAddr != "" {
		if err := t.Count(ctx, kind+"/address/"+clientAddr, t.address, kind+" requests from your address"); err != nil {
			return err
		}
	}
	return t.Count(ctx, kind+"/account/"+key, t.account, kind+" requests for this account")
}

// Forgive forgets the failed sign-ins counted for an account (key as given
// to SignIn), as a successful sign-in does: once its owner has proved
// itself another way, such as by a password reset link.
func (t *Throttle) Forgive(ctx context.Context, key string) error {
	return t.attempts.Reset(ctx, "account/"+key)
}
