package instructions

import (
	"fmt"
	"path/filepath"

	"github.com/lathe-dev/lathe/internal/config"
)

// MaxMemoryBytes caps the memory loaded into the prompt, a quarter of
// the instructions' cap: memory grows a line at a time, session after
// session, and is sent with every request.
const MaxMemoryBytes = 8 << 10

// MemoryFiles returns the memory files of a session in cwd: the user's,
// userDir/memory.md (empty without a userDir), and the project's,
// .lathe/memory.md at the repository root (cwd itself outside one).
func MemoryFiles(userDir, cwd string) (user, project string) {
	if userDir != "" {
		user = filepath.Join(userDir, "memory.md")
	}
	root, ok := config.RepoRoot(cwd)
	if !ok {
		root = cwd
	}
	return user, filepath.Join(root, ".lathe", "memory.md")
}

// LoadMemory reads the memory of a session in cwd (see [MemoryFiles]):
// the user's, then the project's, each under a heading naming it, cut at
// MaxMemoryBytes like the instructions at theirs. Like them, it is read
// once, at the start of a session, into the stable prefix of every
// request: a change made during the session takes effect in the next.
// Missing and empty files are skipped; one that cannot be read is an
// error naming it.
func LoadMemory(userDir, cwd string) (Doc, error) {
	cwd, err := filepath.Abs(cwd)
	if err != nil {
		return Doc{}, fmt.Errorf("load memory: %w", err)
	}
	user, project := MemoryFiles(userDir, cwd)
	var sections []section
	if user != "" {
		if _, err := readSection(&sections, user, user, user+" (user memory)", "load memory"); err != nil {
			return Doc{}, err
		}
	}
	if _, err := readSection(&sections, project, project, ".lathe/memory.md (project memory)", "load memory"); err != nil {
		return Doc{}, err
	}
	return render(sections, MaxMemoryBytes, "Memory"), nil
}
