// Verifies a pedigree-bundle/v2 file with Go's golang.org/x/mod/sumdb/{note,tlog}, code we did
// not write: the checkpoint's signature under the trusted log key, every entry's C2SP
// tlog-proof against that checkpoint, every entry's Ed25519 signature, the consistency
// proof to the newest checkpoint when the bundle has one, and the evidence index: signed by the
// log key over "pedigree/evidence-index/v1\n" + its bytes, naming the checkpoint's origin and
// size and the bundle's pack, and listing exactly the bundle's entries. A flipped bit in a proof
// must be refused. Usage: go run verify_bundle.go BUNDLE LOG_VKEY_FILE
package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type bundle struct {
	Format           string   `json:"format"`
	Pack             string   `json:"pack"`
	AuthorityKey     string   `json:"authorityKey"`
	Checkpoint       string   `json:"checkpoint"`
	LatestCheckpoint string   `json:"latestCheckpoint"`
	Consistency      []string `json:"consistency"`
	EvidenceIndex    string   `json:"evidenceIndex"`
	EvidenceIndexSig string   `json:"evidenceIndexSignature"`
	Entries          []struct {
		Index int64  `json:"index"`
		Entry string `json:"entry"`
		Proof string `json:"proof"`
	} `json:"entries"`
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

// openCheckpoint verifies the note and parses its tlog-checkpoint body.
func openCheckpoint(text string, verifiers note.Verifiers, origin string) (int64, tlog.Hash) {
	n, err := note.Open([]byte(text), verifiers)
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != origin {
		fail("checkpoint body %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size %q", lines[1])
	}
	return size, hashFromB64(lines[2])
}

// parseProof reads c2sp.org/tlog-proof@v1: header, optional extra, index, path, blank line,
// checkpoint.
func parseProof(text string) (int64, tlog.RecordProof, string) {
	lines := strings.SplitN(text, "\n\n", 2)
	if len(lines) != 2 {
		fail("tlog-proof without blank line")
	}
	head := strings.Split(lines[0], "\n")
	if head[0] != "c2sp.org/tlog-proof@v1" {
		fail("tlog-proof header %q", head[0])
	}
	head = head[1:]
	if len(head) > 0 && strings.HasPrefix(head[0], "extra ") {
		head = head[1:]
	}
	if len(head) == 0 || !strings.HasPrefix(head[0], "index ") {
		fail("tlog-proof index line missing")
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(head[0], "index "), 10, 64)
	if err != nil {
		fail("tlog-proof index %q", head[0])
	}
	var proof tlog.RecordProof
	for _, h := range head[1:] {
		proof = append(proof, hashFromB64(h))
	}
	return index, proof, lines[1]
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	vkey, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	var b bundle
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		fail("bundle JSON: %v", err)
	}
	if b.Format != "pedigree-bundle/v2" {
		fail("format %q", b.Format)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		fail("verifier key: %v", err)
	}
	verifiers := note.VerifierList(verifier)
	size, root := openCheckpoint(b.Checkpoint, verifiers, verifier.Name())
	for _, e := range b.Entries {
		index, proof, cp := parseProof(e.Proof)
		if index != e.Index || cp != b.Checkpoint {
			fail("entry %d: proof names index %d or another checkpoint", e.Index, index)
		}
		leaf := tlog.RecordHash([]byte(e.Entry))
		if err := tlog.CheckRecord(proof, size, root, index, leaf); err != nil {
			fail("CheckRecord index %d: %v", index, err)
		}
		if len(proof) > 0 {
			flipped := append(tlog.RecordProof(nil), proof...)
			flipped[0][7] ^= 1
			if tlog.CheckRecord(flipped, size, root, index, leaf) == nil {
				fail("CheckRecord accepted a flipped proof for index %d", index)
			}
		}
		// The envelope is canonical JSON: version 2 {"alg","key","log","payload","seq","sig"}
		// (seq, the log's sequencing time, is outside the signature) or version 1
		// {"alg","key","payload","sig"}. The signed payload bytes are exactly the text after
		// "payload": up to ,"seq": (or ,"sig": without seq).
		var env struct {
			Alg     string          `json:"alg"`
			Key     string          `json:"key"`
			Log     *string         `json:"log"`
			Payload json.RawMessage `json:"payload"`
			Seq     *struct {
				Time string `json:"time"`
			} `json:"seq"`
			Sig string `json:"sig"`
		}
		if err := json.Unmarshal([]byte(e.Entry), &env); err != nil || env.Alg != "Ed25519" {
			fail("entry %d: envelope %v", index, err)
		}
		start := strings.Index(e.Entry, `,"payload":`) + len(`,"payload":`)
		end := strings.LastIndex(e.Entry, `,"sig":`)
		if env.Seq != nil {
			end = strings.LastIndex(e.Entry[:end], `,"seq":`)
		}
		key, _ := base64.StdEncoding.DecodeString(env.Key)
		sig, _ := base64.StdEncoding.DecodeString(env.Sig)
		msg := append([]byte("pedigree/entry/v1\n"), e.Entry[start:end]...)
		if env.Log != nil {
			if *env.Log != verifier.Name() {
				fail("entry %d: signed for the log %q, not %q", index, *env.Log, verifier.Name())
			}
			if env.Seq == nil {
				fail("entry %d: a version 2 leaf without its sequencing time", index)
			}
			msg = append([]byte("pedigree/entry/v2\n"+*env.Log+"\n"), e.Entry[start:end]...)
		}
		if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, msg, sig) {
			fail("entry %d: Ed25519 signature does not verify", index)
		}
	}
	if b.LatestCheckpoint != "" {
		latestSize, latestRoot := openCheckpoint(b.LatestCheckpoint, verifiers, verifier.Name())
		var proof tlog.TreeProof
		for _, h := range b.Consistency {
			proof = append(proof, hashFromB64(h))
		}
		if err := tlog.CheckTree(proof, latestSize, latestRoot, size, root); err != nil {
			fail("CheckTree %d -> %d: %v", size, latestSize, err)
		}
		fmt.Printf("ok: checkpoint %d is consistent with the newest, %d\n", size, latestSize)
	}
	// The evidence index: Ed25519 by the log key (the note verifier key's 0x01-prefixed key).
	// name+hash+base64: the name holds no '+' and the hash is hex, but base64 may hold '+'.
	vparts := strings.SplitN(strings.TrimSpace(string(vkey)), "+", 3)
	if len(vparts) != 3 {
		fail("log verifier key is not name+hash+key")
	}
	vraw, err := base64.StdEncoding.DecodeString(vparts[2])
	if err != nil || len(vraw) != 1+ed25519.PublicKeySize || vraw[0] != 1 {
		fail("log verifier key is not an Ed25519 note key")
	}
	isig, _ := base64.StdEncoding.DecodeString(b.EvidenceIndexSig)
	imsg := append([]byte("pedigree/evidence-index/v1\n"), b.EvidenceIndex...)
	if !ed25519.Verify(ed25519.PublicKey(vraw[1:]), imsg, isig) {
		fail("evidence index signature does not verify under the log key")
	}
	var index struct {
		Entries []int64 `json:"entries"`
		Origin  string  `json:"origin"`
		Size    int64   `json:"size"`
		Subject string  `json:"subject"`
	}
	if err := json.Unmarshal([]byte(b.EvidenceIndex), &index); err != nil {
		fail("evidence index JSON: %v", err)
	}
	if index.Origin != verifier.Name() || index.Size != size || index.Subject != b.Pack {
		fail("evidence index names %s/%d/%s", index.Origin, index.Size, index.Subject)
	}
	if len(index.Entries) != len(b.Entries) {
		fail("evidence index lists %d entries, the bundle holds %d", len(index.Entries),
			len(b.Entries))
	}
	for i, e := range b.Entries {
		if index.Entries[i] != e.Index {
			fail("evidence index lists %d where the bundle holds %d", index.Entries[i], e.Index)
		}
	}
	fmt.Printf("ok: evidence index signed by the log: the bundle holds all %d entries\n",
		len(index.Entries))
	fmt.Printf("ok: bundle for %s, %d entries proved against checkpoint %d\n", b.Pack,
		len(b.Entries), size)
}
