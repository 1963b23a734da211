// Package pkgguard checks the packages that shell commands install
// before they run. A model that names a package it half remembers may
// name one that does not exist — or one a squatter has registered under
// that name to be installed by such mistakes. Every install command of
// a parsed script (pip, uv, uvx, pipx, poetry, npm, pnpm, yarn, go,
// cargo, gem) is found with [Installs], each package it names is looked
// up in its registry by a [Checker], and a [Guard] turns the findings
// into the decision on the call:
//
//   - a package that does not exist is denied, naming the package and
//     the registry, so that the model can correct the name;
//   - a package outside the allowlist, when one is required, is denied;
//   - a registry that cannot be reached, a package younger than the
//     minimum age or with fewer downloads than the minimum, and an
//     install the guard cannot see into (a name known only at run time,
//     a package index of the command's choosing) are asked about: a
//     person may know better, and with nobody to ask they are denied.
//
// Nothing is ever allowed that the wrapped policy would not allow.
package pkgguard

// Registry is a package registry.
type Registry string

// The registries the guard knows; each is also the prefix of an
// allowlist entry (pypi:requests) and a key of Config.Registries.
const (
	PyPI     Registry = "pypi"
	Npm      Registry = "npm"
	Go       Registry = "go"
	Crates   Registry = "crates"
	RubyGems Registry = "rubygems"
	// NpmDownloads is npm's download counts API, which has its own
	// address; it is a key of Config.Registries only.
	NpmDownloads Registry = "npm_downloads"
)

// Registries lists the keys of Config.Registries.
var Registries = []Registry{PyPI, Npm, NpmDownloads, Go, Crates, RubyGems}

// DefaultURLs are the public registries' base URLs.
var DefaultURLs = map[Registry]string{
	PyPI:         "https://pypi.org/pypi",
	Npm:          "https://registry.npmjs.org",
	NpmDownloads: "https://api.npmjs.org/downloads",
	Go:           "https://proxy.golang.org",
	Crates:       "https://crates.io/api/v1/crates",
	RubyGems:     "https://rubygems.org/api/v1",
}

// String names the registry as its users do.
func (r Registry) String() string {
	switch r {
	case PyPI:
		return "PyPI"
	case Npm:
		return "npm"
	case NpmDownloads:
		return "npm's download counts"
	case Go:
		return "the Go module proxy"
	case Crates:
		return "crates.io"
	case RubyGems:
		return "RubyGems"
	}
	return string(r)
}

// Package is a package an install command names.
type Package struct {
	Registry Registry
	// Name is the package's name as the command gives it: a PyPI or npm
	// name (@scope/name), a Go module path, a crate or gem name.
	Name string
	// Version is the version or constraint given with it, if any
	// (==1.2, ^4.17, v0.3.0); informational.
	Version string
}
