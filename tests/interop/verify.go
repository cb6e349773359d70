// Checks pedigree's checkpoints and proofs with Go's golang.org/x/mod/sumdb/{note,tlog},
// an implementation we did not write. Usage: go run verify.go DIR
// DIR holds log.vkey, entries.txt (one entry per line, index order), cp1.note,
// cp2.note, prove-*.json and consistency.json as written by run.sh.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func hashFromB64(s string) tlog.Hash {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func openCheckpoint(path string, verifiers note.Verifiers) checkpoint {
	msg, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, verifiers)
	if err != nil {
		fail("note.Open(%s): %v", path, err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		fail("%s: checkpoint body has %d lines", path, len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("%s: size %q", path, lines[1])
	}
	return checkpoint{lines[0], size, hashFromB64(lines[2])}
}

// memStore serves tlog's stored hashes for the entries, computed by Go itself.
type memStore []tlog.Hash

func (m memStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

func main() {
	dir := os.Args[1]
	vkey, err := os.ReadFile(filepath.Join(dir, "log.vkey"))
	if err != nil {
		fail("%v", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	verifiers := note.VerifierList(v)
	cp1 := openCheckpoint(filepath.Join(dir, "cp1.note"), verifiers)
	cp2 := openCheckpoint(filepath.Join(dir, "cp2.note"), verifiers)

	// Go recomputes the tree from the raw entries; its roots must equal ours.
	f, err := os.Open(filepath.Join(dir, "entries.txt"))
	if err != nil {
		fail("%v", err)
	}
	var entries [][]byte
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		entries = append(entries, []byte(scanner.Text()))
	}
	var store memStore
	for i, e := range entries {
		hashes, err := tlog.StoredHashes(int64(i), e, store)
		if err != nil {
			fail("StoredHashes: %v", err)
		}
		store = append(store, hashes...)
	}
	for _, cp := range []checkpoint{cp1, cp2} {
		th, err := tlog.TreeHash(cp.size, store)
		if err != nil {
			fail("TreeHash: %v", err)
		}
		if th != cp.root {
			fail("root of size %d: Go computes %v, checkpoint says %v", cp.size, th, cp.root)
		}
	}

	proofs, _ := filepath.Glob(filepath.Join(dir, "prove-*.json"))
	if len(proofs) == 0 {
		fail("no inclusion proofs")
	}
	for _, p := range proofs {
		var pr struct {
			Index    int64    `json:"index"`
			Size     int64    `json:"size"`
			LeafHash string   `json:"leaf_hash"`
			Proof    []string `json:"proof"`
		}
		raw, _ := os.ReadFile(p)
		if err := json.Unmarshal(raw, &pr); err != nil {
			fail("%s: %v", p, err)
		}
		if pr.Size != cp2.size {
			fail("%s: proof size %d, checkpoint size %d", p, pr.Size, cp2.size)
		}
		leaf := tlog.RecordHash(entries[pr.Index])
		if leaf != hashFromB64(pr.LeafHash) {
			fail("%s: leaf hash differs from Go's RecordHash", p)
		}
		var rp tlog.RecordProof
		for _, h := range pr.Proof {
			rp = append(rp, hashFromB64(h))
		}
		if err := tlog.CheckRecord(rp, cp2.size, cp2.root, pr.Index, leaf); err != nil {
			fail("CheckRecord index %d: %v", pr.Index, err)
		}
		// A tampered proof must not pass either.
		if len(rp) > 0 {
			rp[0][0] ^= 1
			if tlog.CheckRecord(rp, cp2.size, cp2.root, pr.Index, leaf) == nil {
				fail("CheckRecord accepted a flipped proof for index %d", pr.Index)
			}
		}
	}

	var cons struct {
		From  int64    `json:"from"`
		To    int64    `json:"to"`
		Proof []string `json:"proof"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "consistency.json"))
	if err := json.Unmarshal(raw, &cons); err != nil {
		fail("consistency.json: %v", err)
	}
	var tp tlog.TreeProof
	for _, h := range cons.Proof {
		tp = append(tp, hashFromB64(h))
	}
	if cons.From != cp1.size || cons.To != cp2.size {
		fail("consistency %d->%d does not join the checkpoints %d and %d", cons.From, cons.To, cp1.size, cp2.size)
	}
	if err := tlog.CheckTree(tp, cp2.size, cp2.root, cp1.size, cp1.root); err != nil {
		fail("CheckTree %d->%d: %v", cp1.size, cp2.size, err)
	}
	fmt.Printf("ok: Go verified 2 checkpoints, %d inclusion proofs and consistency %d->%d over %d entries\n",
		len(proofs), cp1.size, cp2.size, len(entries))
}
