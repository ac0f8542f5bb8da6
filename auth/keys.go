package auth

// The key ring: the ES256 (P-256) keys that sign every token of an issuer
// (a project, or "" for the platform), kept in the store so that they
// survive restarts and are shared by every Atrium instance on a database.
//
// Rotation. An issuer's keys are numbered by generation. Its first key is
// made on first use and signs at once (nobody can hold a token of the
// issuer yet). Once the signing key is within Lead of its rotation (its
// ActiveAt + Rotation), the next generation is made and published at once,
// but signs only from max(rotation, now+Lead): a verifier that fetched the
// JWKS up to Lead earlier already knows it when the first token signed by
// it arrives. The key it supersedes signs until then, and stays published
// until MaxTokenLifetime after it (the last token it signed has expired).
// Nothing runs on a timer: the first Signing call after a boundary makes
// the next key, which is why a late successor starts Lead after it is made.
//
// Races. Making a key is an insert of (issuer, generation) that the store
// keeps unique, so two requests or two instances that make the same
// generation at once end with one key: the loser reads the winner's.
//
// Cost. An issuer's ring is read from the store at most once per cacheTTL
// (or after this process made a key, or at most once a second for a kid
// the cached ring does not hold); a verification otherwise costs no store
// read. A key made by another instance signs at the earliest Lead after it
// is made, longer than cacheTTL, so every instance publishes it in time.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"atrium/iam"
)

// KeyStore keeps the issuers' keys (store.SigningKeys implements it). List
// returns an issuer's keys, newest generation first; Insert stores a key
// unless its issuer already has one of its generation (inserted false).
type KeyStore interface {
	List(ctx context.Context, projectID string) ([]iam.SigningKey, error)
	Insert(ctx context.Context, key iam.SigningKey) (inserted bool, err error)
}

// KeyOptions are the key ring's schedule.
type KeyOptions struct {
	// Rotation is how long a key signs before its successor takes over
	// (ATRIUM_KEY_ROTATION); 30 days when zero.
	Rotation time.Duration
	// Lead is how long a successor is published before it signs; a tenth
	// of Rotation, at most a day, when zero.
	Lead time.Duration
	// MaxTokenLifetime is the longest lifetime of any token signed with a
	// ring key: a superseded key stays published that long.
	MaxTokenLifetime time.Duration
	// Clock tells the time of the schedule; nil is the system clock.
	Clock func() time.Time
}

// SigningKey is the key an issuer signs with now.
type SigningKey struct {
	ID      string // the kid
	Private *ecdsa.PrivateKey
}

// Keys is the key ring of every issuer.
type Keys struct {
	store    KeyStore
	sealer   *Sealer
	rotation time.Duration
	lead     time.Duration
	lifetime time.Duration
	now      func() time.Time

	mu    sync.Mutex
	rings map[string]*ring
	// changes counts, per issuer, the keys this process made: a read of
	// the store that began before a change is not cached after it.
	changes map[string]uint64
}

// How long a ring read from the store is trusted, how often a kid it
// lacks may make it be read again, and how many issuers' rings are kept.
const (
	cacheTTL       = 30 * time.Second
	missReloadGap  = time.Second
	maxCachedRings = 10000
)

// ring is one issuer's keys as last read, newest generation first.
type ring struct {
	keys   []*ringKey
	loaded time.Time // wall clock
}

type ringKey struct {
	iam.SigningKey
	public  *ecdsa.PublicKey
	private *ecdsa.PrivateKey // opened on first use for signing
}

// NewKeys returns the key ring over st, sealing private keys with sealer.
func NewKeys(st KeyStore, sealer *Sealer, o KeyOptions) *Keys {
	k := &Keys{store: st, sealer: sealer, rotation: o.Rotation, lead: o.Lead, lifetime: o.MaxTokenLifetime,
		now: time.Now, rings: map[string]*ring{}, changes: map[string]uint64{}}
	if k.rotation <= 0 {
		k.rotation = 30 * 24 * time.Hour
	}
	if k.lead <= 0 {
		k.lead = min(k.rotation/10, 24*time.Hour)
	}
	if k.lifetime <= 0 {
		k.lifetime = time.Hour
	}
	if o.Clock != nil {
		k.now = o.Clock
	}
	return k
}

// Signing returns the key projectID's issuer signs with now ("" is the
// platform issuer), making the issuer's first key, or its next one when
// the rotation is near.
func (k *Keys) Signing(ctx context.Context, projectID string) (SigningKey, error) {
	cur, _, err := k.current(ctx, projectID)
	if err != nil {
		return SigningKey{}, err
	}
	priv, err := k.private(cur)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{ID: cur.KeyID, Private: priv}, nil
}

// current returns the key projectID's issuer signs with now and its ring,
// making the issuer's first key, or its next one when the rotation is near.
func (k *Keys) current(ctx context.Context, projectID string) (*ringKey, *ring, error) {
	for range 4 {
		now := k.now()
		r, err := k.ring(ctx, projectID, false)
		if err != nil {
			return nil, nil, err
		}
		cur := r.current(now)
		if cur == nil {
			if err := k.create(ctx, projectID, 1, now, now); err != nil {
				return nil, nil, err
			}
			continue
		}
		if r.generation(cur.Generation+1) == nil && !now.Before(cur.ActiveAt.Add(k.rotation-k.lead)) {
			activeAt := maxTime(cur.ActiveAt.Add(k.rotation), now.Add(k.lead))
			if err := k.create(ctx, projectID, cur.Generation+1, now, activeAt); err != nil {
				return nil, nil, err
			}
			continue // cur still signs until the successor's ActiveAt
		}
		return cur, r, nil
	}
	return nil, nil, fmt.Errorf("auth: the signing keys of issuer %q kept changing", projectID)
}

// Published returns the public halves of the keys projectID's issuer
// publishes now: the signing key, its published successor, and superseded
// keys whose tokens may not have expired yet. Like Signing, it makes the
// issuer's first key (or its next, near the rotation), so that a verifier
// that caches the set before the first token already holds its key.
func (k *Keys) Published(ctx context.Context, projectID string) ([]jose.JSONWebKey, error) {
	_, r, err := k.current(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return k.published(r), nil
}

func (k *Keys) published(r *ring) []jose.JSONWebKey {
	now := k.now()
	out := []jose.JSONWebKey{}
	for _, key := range r.keys {
		if now.Before(key.PublishAt) || k.expired(r, key, now) {
			continue
		}
		out = append(out, jose.JSONWebKey{Key: key.public, KeyID: key.KeyID, Algorithm: string(jose.ES256), Use: "sig"})
	}
	return out
}

// verifier returns the public key kid of projectID's issuer, if published.
// A kid the cached ring lacks may be a key another instance just made, so
// the ring is read again (at most once per missReloadGap).
func (k *Keys) verifier(ctx context.Context, projectID, kid string) (*ecdsa.PublicKey, error) {
	for _, force := range []bool{false, true} {
		r, err := k.ring(ctx, projectID, force)
		if err != nil {
			return nil, err
		}
		for _, jwk := range k.published(r) {
			if jwk.KeyID == kid {
				return jwk.Key.(*ecdsa.PublicKey), nil
			}
		}
		if time.Since(r.loaded) < missReloadGap {
			break
		}
	}
	return nil, errToken
}

// expired reports whether key is superseded and its last token has expired.
func (k *Keys) expired(r *ring, key *ringKey, now time.Time) bool {
	next := r.generation(key.Generation + 1)
	return next != nil && !now.Before(next.ActiveAt.Add(k.lifetime))
}

// current is the key that signs at now: the newest that is active.
func (r *ring) current(now time.Time) *ringKey {
	for _, key := range r.keys {
		if !now.Before(key.ActiveAt) {
			return key
		}
	}
	return nil
}

func (r *ring) generation(g int64) *ringKey {
	for _, key := range r.keys {
		if key.Generation == g {
			return key
		}
	}
	return nil
}

// ring returns projectID's keys, read from the store when the cached read
// is older than cacheTTL or, with force, than missReloadGap.
func (k *Keys) ring(ctx context.Context, projectID string, force bool) (*ring, error) {
	k.mu.Lock()
	r, ok := k.rings[projectID]
	change := k.changes[projectID]
	k.mu.Unlock()
	if ok {
		age := time.Since(r.loaded)
		if age < cacheTTL && (!force || age < missReloadGap) {
			return r, nil
		}
	}
	stored, err := k.store.List(ctx, projectID)
	if err != nil {
		return nil, err
	}
	r = &ring{loaded: time.Now()}
	for _, s := range stored {
		pub, err := x509.ParsePKIXPublicKey(s.Public)
		ec, ok := pub.(*ecdsa.PublicKey)
		if err != nil || !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("auth: signing key %s of issuer %q is not a P-256 public key", s.KeyID, projectID)
		}
		r.keys = append(r.keys, &ringKey{SigningKey: s, public: ec})
	}
	k.mu.Lock()
	if len(k.rings) >= maxCachedRings {
		clear(k.rings) // (changes stay: one entry per issuer this process made a key for)
	}
	if k.changes[projectID] == change {
		k.rings[projectID] = r
	}
	k.mu.Unlock()
	return r, nil
}

// forget drops projectID's cached ring, after this process changed it,
// and keeps reads that began before from caching what they read.
func (k *Keys) forget(projectID string) {
	k.mu.Lock()
	delete(k.rings, projectID)
	k.changes[projectID]++
	k.mu.Unlock()
}

// create makes and stores a new key of projectID's issuer. Losing the race
// for the generation to another request is no error: the ring is read
// again either way.
func (k *Keys) create(ctx context.Context, projectID string, generation int64, publishAt, activeAt time.Time) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return err
	}
	thumb, err := (&jose.JSONWebKey{Key: &priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return err
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	sealed, err := k.sealer.Seal(sealContext(projectID, kid), der)
	if err != nil {
		return err
	}
	_, err = k.store.Insert(ctx, iam.SigningKey{ProjectID: projectID, Generation: generation, KeyID: kid, Sealed: sealed, Public: pub,
		PublishAt: publishAt.UTC(), ActiveAt: activeAt.UTC()})
	k.forget(projectID)
	return err
}

// private opens a key's sealed private half, once.
func (k *Keys) private(key *ringKey) (*ecdsa.PrivateKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key.private != nil {
		return key.private, nil
	}
	der, err := k.sealer.Open(sealContext(key.ProjectID, key.KeyID), key.Sealed)
	if err != nil {
		return nil, fmt.Errorf("auth: signing key %s of issuer %q: %w (is the sealing secret the one it was made with?)", key.KeyID, key.ProjectID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if err != nil || !ok || !priv.PublicKey.Equal(key.public) {
		return nil, errors.New("auth: a sealed signing key does not match its public half")
	}
	key.private = priv
	return priv, nil
}

// sealContext binds a sealed private key to its issuer and kid: one moved
// to another issuer's document does not open.
func sealContext(projectID, kid string) string { return "signing key/" + projectID + "/" + kid }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
