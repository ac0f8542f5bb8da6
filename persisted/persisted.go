// Package persisted holds trusted documents: the operations a production
// deployment accepts (ATRIUM_TRUSTED_DOCUMENTS), as an Apollo persisted
// query manifest, the format Apollo's and GraphQL Codegen's tools write:
//
//	{"format": "apollo-persisted-query-manifest", "version": 1,
//	 "operations": [{"id": "<sha256 of body, hex>", "name": "Roles", "type": "query", "body": "query Roles { … }"}]}
//
// A request names a document by the SHA-256 of its exact text: it sends
// the text (as any client does), or only the hash in
// extensions.persistedQuery.sha256Hash (Apollo's persisted queries).
package persisted

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Format and Version are the manifest format this package reads and
// writes.
const (
	Format  = "apollo-persisted-query-manifest"
	Version = 1
)

// Operation is one trusted document.
type Operation struct {
	ID   string `json:"id"` // Hash(Body)
	Name string `json:"name"`
	Type string `json:"type"` // query, mutation, subscription
	Body string `json:"body"`
}

// Manifest is a set of trusted documents.
type Manifest struct {
	Format     string      `json:"format"`
	Version    int         `json:"version"`
	Operations []Operation `json:"operations"`
	byID       map[string]string
}

// Hash is the id of a document: the SHA-256 of its text, in hex.
func Hash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// New returns the manifest of the documents, in their order; ids and types
// are derived from the bodies.
func New(ops []Operation) *Manifest {
	m := &Manifest{Format: Format, Version: Version, Operations: make([]Operation, len(ops))}
	for i, op := range ops {
		op.ID = Hash(op.Body)
		if op.Type == "" {
			op.Type, _, _ = strings.Cut(strings.TrimSpace(op.Body), " ")
		}
		m.Operations[i] = op
	}
	m.index()
	return m
}

// Parse reads a manifest and checks it: its format and version, and that
// every id is the hash of its body.
func Parse(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not an %s: %w", Format, err)
	}
	if m.Format != Format || m.Version != Version {
		return nil, fmt.Errorf("format %q version %d, want %q version %d", m.Format, m.Version, Format, Version)
	}
	if len(m.Operations) == 0 {
		return nil, fmt.Errorf("the manifest has no operations")
	}
	for i, op := range m.Operations {
		if op.Body == "" || op.ID != Hash(op.Body) {
			return nil, fmt.Errorf("operations[%d] (%s): id %q is not the SHA-256 of its body", i, op.Name, op.ID)
		}
	}
	m.index()
	return &m, nil
}

// Read reads the manifest in a file.
func Read(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

func (m *Manifest) index() {
	m.byID = make(map[string]string, len(m.Operations))
	for _, op := range m.Operations {
		m.byID[op.ID] = op.Body
	}
}

// Body returns the document with the id, and whether the manifest has it.
func (m *Manifest) Body(id string) (string, bool) {
	b, ok := m.byID[id]
	return b, ok
}

// JSON is the manifest as a file holds it.
func (m *Manifest) JSON() []byte {
	out, _ := json.MarshalIndent(m, "", "  ")
	return append(out, '\n')
}
