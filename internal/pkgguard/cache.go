package pkgguard

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// diskCache keeps look-ups in files under dir, one a package, named by
// a hash of the registry's URL and the package: a registry of another
// address is another registry. A nil *diskCache keeps nothing.
//
// The cache is an optimisation: a file that cannot be read or written
// costs a look-up, never a wrong answer, so its errors are not reported.
// Files are replaced atomically, so concurrent sessions see a whole
// answer or none.
type diskCache struct {
	dir string
	ttl time.Duration
}

// missingTTL bounds how long a package found missing is remembered: it
// may be published any moment, and the user may be waiting for it.
const missingTTL = time.Hour

type cacheFile struct {
	Checked time.Time `json:"checked"`
	Facts   facts     `json:"facts"`
}

func (d *diskCache) path(k cacheKey, base string) string {
	sum := sha256.Sum256([]byte(string(k.reg) + "\x00" + base + "\x00" + k.name))
	return filepath.Join(d.dir, hex.EncodeToString(sum[:16])+".json")
}

func (d *diskCache) get(k cacheKey, base string, now time.Time) (facts, bool) {
	if d == nil {
		return facts{}, false
	}
	b, err := regfile.ReadFile(d.path(k, base), 64<<10)
	if err != nil {
		return facts{}, false
	}
	var cf cacheFile
	if json.Unmarshal(b, &cf) != nil {
		return facts{}, false
	}
	ttl := d.ttl
	if !cf.Facts.Exists {
		ttl = min(ttl, missingTTL)
	}
	if age := now.Sub(cf.Checked); age < 0 || age >= ttl {
		return facts{}, false
	}
	return cf.Facts, true
}

func (d *diskCache) put(k cacheKey, base string, f facts, now time.Time) {
	if d == nil {
		return
	}
	b, err := json.Marshal(cacheFile{Checked: now, Facts: f})
	if err != nil {
		return
	}
	_ = textfile.WriteAtomic(d.path(k, base), b, 0o600)
}
