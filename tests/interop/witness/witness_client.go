// A C2SP tlog-witness client written from the specs, against pedigree's witness server:
// it sends the interop ledger's checkpoints (add-checkpoint, 409 resync, consistency proof),
// and checks every cosignature with crypto/ed25519 as C2SP tlog-cosignature defines
// cosignature/v1 (signed-note key type 0x04), and the log's own signature with
// golang.org/x/mod/sumdb/note, which must ignore the cosignature it does not know.
// Usage: go run witness_client.go URL DIR
// DIR holds log.vkey, witness.vkey, cp1.note, cp2.note and consistency.json (run.sh).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func read(dir, name string) string {
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fail("%v", err)
	}
	return string(raw)
}

// A cosignature/v1 verifier key: name+hex(keyID)+base64(0x04 || Ed25519 public key).
type cosigner struct {
	name  string
	keyID uint32
	key   ed25519.PublicKey
}

func parseCosigner(vkey string) cosigner {
	vkey = strings.TrimSpace(vkey)
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		fail("witness vkey %q is not name+id+key", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		fail("witness vkey %q is not a type 0x04 Ed25519 key", vkey)
	}
	// key ID = SHA-256(name || 0x0A || type || public key)[:4]
	h := sha256.Sum256(append(append([]byte(parts[0]), '\n'), raw...))
	id := binary.BigEndian.Uint32(h[:4])
	if fmt.Sprintf("%08x", id) != parts[1] {
		fail("witness vkey %q: key ID %s, computed %08x", vkey, parts[1], id)
	}
	return cosigner{parts[0], id, ed25519.PublicKey(raw[1:])}
}

// Checks the witness's response (its signature lines) for the checkpoint body `text`;
// returns the cosignature's timestamp.
func checkCosignature(w cosigner, text, lines string) uint64 {
	lines = strings.TrimSuffix(lines, "\n")
	if strings.Contains(lines, "\n") {
		fail("expected one cosignature line, got %q", lines)
	}
	prefix := "\u2014 " + w.name + " "
	if !strings.HasPrefix(lines, prefix) {
		fail("cosignature line %q is not by %s", lines, w.name)
	}
	sig, err := base64.StdEncoding.DecodeString(lines[len(prefix):])
	if err != nil || len(sig) != 4+8+64 {
		fail("cosignature %q is not base64 of 76 bytes", lines)
	}
	if binary.BigEndian.Uint32(sig[:4]) != w.keyID {
		fail("cosignature key ID %x, want %08x", sig[:4], w.keyID)
	}
	ts := binary.BigEndian.Uint64(sig[4:12])
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
	if !ed25519.Verify(w.key, []byte(msg), sig[12:]) {
		fail("cosignature over %q does not verify with crypto/ed25519", msg)
	}
	now := uint64(time.Now().Unix())
	if ts+600 < now || ts > now+600 {
		fail("cosignature time %d is not near now (%d)", ts, now)
	}
	return ts
}

func post(url, body string) (int, string, string) {
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", strings.NewReader(body))
	if err != nil {
		fail("POST: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}

func textOf(n string) string {
	i := strings.Index(n, "\n\n")
	if i < 0 {
		fail("note without a blank line")
	}
	return n[:i+1]
}

func main() {
	url, dir := os.Args[1], os.Args[2]
	w := parseCosigner(read(dir, "witness.vkey"))
	logVerifier, err := note.NewVerifier(strings.TrimSpace(read(dir, "log.vkey")))
	if err != nil {
		fail("log vkey: %v", err)
	}
	cp1, cp2 := read(dir, "cp1.note"), read(dir, "cp2.note")
	var cons struct {
		From  int64    `json:"from"`
		To    int64    `json:"to"`
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal([]byte(read(dir, "consistency.json")), &cons); err != nil {
		fail("consistency.json: %v", err)
	}

	// 1. The first checkpoint: old 0, no proof.
	status, _, body := post(url, "old 0\n\n"+cp1)
	if status != 200 {
		fail("first checkpoint: %d %s", status, body)
	}
	checkCosignature(w, textOf(cp1), body)
	// x/mod's note.Open verifies the log's signature and ignores the unknown cosigner.
	if _, err := note.Open([]byte(cp1+body), note.VerifierList(logVerifier)); err != nil {
		fail("x/mod note.Open on the cosigned checkpoint: %v", err)
	}

	// 2. A client that does not know the witness's size learns it from the 409.
	status, ctype, body := post(url, "old 0\n\n"+cp2)
	if status != 409 || ctype != "text/x.tlog.size" || body != fmt.Sprintf("%d\n", cons.From) {
		fail("stale old size: %d %q %q, want 409 text/x.tlog.size %d", status, ctype, body, cons.From)
	}

	// 3. A bad proof is refused with 422.
	var bad bytes.Buffer
	fmt.Fprintf(&bad, "old %d\n", cons.From)
	for range cons.Proof {
		bad.WriteString(base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n")
	}
	bad.WriteString("\n" + cp2)
	if status, _, body = post(url, bad.String()); status != 422 {
		fail("bad proof: %d %s, want 422", status, body)
	}

	// 4. The consistency proof from the cosigned size: cosigned.
	var req bytes.Buffer
	fmt.Fprintf(&req, "old %d\n", cons.From)
	for _, h := range cons.Proof {
		req.WriteString(h + "\n")
	}
	req.WriteString("\n" + cp2)
	status, _, body = post(url, req.String())
	if status != 200 {
		fail("second checkpoint: %d %s", status, body)
	}
	ts := checkCosignature(w, textOf(cp2), body)

	// 5. The monitoring endpoint serves the checkpoint with the log's and the witness's lines.
	origin := strings.SplitN(textOf(cp2), "\n", 2)[0]
	sum := sha256.Sum256([]byte(origin))
	resp, err := http.Get(url + "/" + hex.EncodeToString(sum[:]) + "/checkpoint")
	if err != nil {
		fail("GET checkpoint: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(raw), cp2) {
		fail("monitoring endpoint: %d %q", resp.StatusCode, raw)
	}
	if got := checkCosignature(w, textOf(cp2), string(raw[len(cp2):])); got != ts {
		fail("monitoring endpoint cosignature time %d, want %d", got, ts)
	}
	fmt.Printf("ok: Go verified pedigree's witness cosignatures (cosignature/v1, crypto/ed25519) "+
		"for sizes %d and %d, its 409 and 422\n", cons.From, cons.To)
}
