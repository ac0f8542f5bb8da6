// Command trusteddocs writes the trusted-documents manifest of the typed
// client (ATRIUM_TRUSTED_DOCUMENTS): every operation of
// client/operations.graphql, in the exact text genqlient sends, so that a
// server started with the manifest runs the client's operations and refuses
// any other document. Run it from the repository's root:
//
//	go run ./client/trusteddocs > trusted-documents.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/Khan/genqlient/generate"

	"atrium/persisted"
)

func main() {
	config := flag.String("config", "client/genqlient.yaml", "the genqlient configuration of the client")
	out := flag.String("o", "", "the file to write (default: standard output)")
	flag.Parse()
	m, err := manifest(*config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trusteddocs:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(m.JSON())
	} else {
		err = os.WriteFile(*out, m.JSON(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trusteddocs:", err)
		os.Exit(1)
	}
}

// manifest runs genqlient's generator (writing nothing) with its export of
// operations, which holds each document as the generated client sends it.
func manifest(config string) (*persisted.Manifest, error) {
	cfg, err := generate.ReadAndValidateConfig(config)
	if err != nil {
		return nil, err
	}
	const export = "trusted-documents.export.json"
	cfg.ExportOperations = export
	files, err := generate.Generate(cfg)
	if err != nil {
		return nil, err
	}
	var exported struct {
		Operations []struct {
			Name string `json:"operationName"`
			Body string `json:"query"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(files[export], &exported); err != nil {
		return nil, fmt.Errorf("genqlient's export of operations: %w", err)
	}
	ops := make([]persisted.Operation, len(exported.Operations))
	for i, op := range exported.Operations {
		ops[i] = persisted.Operation{Name: op.Name, Body: op.Body}
	}
	return persisted.New(ops), nil
}
