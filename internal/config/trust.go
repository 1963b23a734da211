package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// Trust is whether the project configuration of a workspace may widen
// permissions. A cloned repository must not grant itself power, so what
// its files set that widens anything — a wider permission mode, allow
// rules, and every other grant as it comes — takes effect only once the
// user has trusted that configuration, exactly as it is: trust is
// remembered per workspace directory and hash of the project files' paths
// and contents, and a changed file needs trusting again. Deny and ask
// rules, and narrower modes, apply whether trusted or not.
type Trust struct {
	// Dir is the workspace directory.
	Dir string
	// Hash identifies the project configuration as read.
	Hash string
	// Files are the project files read, lowest layer first.
	Files []string
	// Trusted says the configuration's widening settings take effect:
	// the user trusted it (Remember) or this run (WithTrustedWorkspace).
	Trusted bool
	// Remembered says the user trusted this configuration before.
	Remembered bool
	// Ignored lists what the configuration would have widened, were it
	// trusted; Granted what it widened, being trusted.
	Ignored, Granted []Widening

	docs []projectDoc
}

// Widening is one setting of a project file that widens permissions.
type Widening struct {
	// File is the file's path.
	File string
	// What is the setting, as the file has it: "allow rule Bash(npm
	// test)", "permission_mode = bypassPermissions".
	What string
}

type projectDoc struct {
	path string
	doc  []byte
}

// trustOf works out the trust of the project configuration in srcs for a
// session in dir; forced trusts it regardless.
func trustOf(dir string, srcs []source, forced bool) (Trust, []string) {
	t := Trust{Dir: dir}
	for _, s := range srcs {
		if s.kind == kindProject {
			t.Files = append(t.Files, s.path)
			t.docs = append(t.docs, projectDoc{s.path, s.doc})
		}
	}
	t.Hash = hashDocs(t.docs)
	var warnings []string
	if len(t.docs) > 0 {
		st, err := readTrustStore()
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%v; trusting no workspace", err))
		}
		t.Remembered = st.Workspaces[dir].SHA256 == t.Hash
	}
	t.Trusted = forced || t.Remembered
	return t, warnings
}

func hashDocs(docs []projectDoc) string {
	if len(docs) == 0 {
		return ""
	}
	h := sha256.New()
	for _, d := range docs {
		// Lengths keep one file's end from passing for another's start.
		fmt.Fprintf(h, "%d:%s%d:", len(d.path), d.path, len(d.doc))
		h.Write(d.doc)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// trustStore is the file of trusted workspaces, under StateDir.
type trustStore struct {
	Workspaces map[string]trustedWorkspace `json:"workspaces"`
}

type trustedWorkspace struct {
	SHA256  string    `json:"sha256"`
	Trusted time.Time `json:"trusted"`
}

// TrustFile is the file that remembers trusted workspaces.
func TrustFile() string {
	if dir := StateDir(); dir != "" {
		return filepath.Join(dir, "trusted.json")
	}
	return ""
}

func readTrustStore() (trustStore, error) {
	st := trustStore{Workspaces: map[string]trustedWorkspace{}}
	path := TrustFile()
	if path == "" {
		return st, nil
	}
	doc, err := regfile.ReadFile(path, MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err == nil {
		err = json.Unmarshal(doc, &st)
	}
	if err != nil {
		return trustStore{Workspaces: map[string]trustedWorkspace{}}, fmt.Errorf("read %s: %w", displayPath(path), err)
	}
	if st.Workspaces == nil {
		st.Workspaces = map[string]trustedWorkspace{}
	}
	return st, nil
}

// Remember records the workspace's project configuration, as read, as
// trusted (`lathe trust`), so that later sessions in the workspace apply
// its widening settings until a project file changes.
func (t *Trust) Remember() error {
	return rememberTrust(t.Dir, t.Hash)
}

func rememberTrust(dir, hash string) error {
	path := TrustFile()
	if path == "" {
		return errors.New("trust the workspace: no state directory: set HOME or XDG_STATE_HOME")
	}
	st, err := readTrustStore()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// A store that cannot be read is replaced: it trusted nothing.
		st = trustStore{Workspaces: map[string]trustedWorkspace{}}
	}
	st.Workspaces[dir] = trustedWorkspace{SHA256: hash, Trusted: time.Now().UTC().Truncate(time.Second)}
	doc, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := textfile.WriteAtomic(path, append(doc, '\n'), 0o600); err != nil {
		return fmt.Errorf("trust the workspace: %w", err)
	}
	return nil
}
