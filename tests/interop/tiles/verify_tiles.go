// Checks a static export (`pedigree tiles export`) with Go's golang.org/x/mod/sumdb/tlog,
// reading only the files: tlog.TileHashReader authenticates every hash tile it reads against
// the checkpoint's root, then TreeHash, ProveRecord/CheckRecord prove entries from the entry
// bundles. Paths are C2SP tlog-tiles (x001/x234/067, .p/W), not x/mod's go.sum layout.
// Usage: go run verify_tiles.go TILES_DIR LOG_VKEY_FILE
package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func indexPath(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}

func width(w int) string {
	if w < 256 {
		return ".p/" + strconv.Itoa(w)
	}
	return ""
}

type tileReader struct{ dir string }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := fmt.Sprintf("tile/%d/%s%s", t.L, indexPath(t.N), width(t.W))
		b, err := os.ReadFile(filepath.Join(r.dir, p))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	dir, vkeyFile := os.Args[1], os.Args[2]
	vkey, err := os.ReadFile(vkeyFile)
	if err != nil {
		fail("%v", err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		fail("vkey: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, tileReader{dir})
	th, err := tlog.TreeHash(size, hr)
	if err != nil || th != root {
		fail("tree hash from tiles: %v %v", th, err)
	}
	proved := 0
	for i := int64(0); i < size; i += 37 {
		bundleN := i / 256
		w := int(size - bundleN*256)
		if w > 256 {
			w = 256
		}
		b, err := os.ReadFile(filepath.Join(dir, "tile/entries/"+indexPath(bundleN)+width(w)))
		if err != nil {
			fail("%v", err)
		}
		var entry []byte
		for k, pos := int64(0), 0; k <= i%256; k++ {
			l := int(b[pos])<<8 | int(b[pos+1])
			entry = b[pos+2 : pos+2+l]
			pos += 2 + l
		}
		p, err := tlog.ProveRecord(size, i, hr)
		if err != nil {
			fail("prove %d: %v", i, err)
		}
		if err := tlog.CheckRecord(p, size, root, i, tlog.RecordHash(entry)); err != nil {
			fail("check %d: %v", i, err)
		}
		proved++
	}
	fmt.Printf("ok: static tiles of %s size %d verified by x/mod/sumdb/tlog, %d entries proved\n",
		lines[0], size, proved)
}
