// Package secret says what Lathe treats as a secret: the credential files
// no tool or sandboxed command may read, the file names that hold keys,
// the environment variables that hold credentials, and the values that
// look like keys wherever they appear. The policy, the sandbox and every
// record Lathe writes for people (audit log, event stream, exports) use
// it, so that all of them agree on one list.
package secret

import (
	"path/filepath"
	"regexp"
	"strings"
)

// homePaths are the credential stores under the home directory: keys,
// cloud and registry credentials, and the login files of the agents
// whose users Lathe serves. Caches that hold a credentials file (cargo)
// name the file, not the cache, so that builds keep their cache.
var homePaths = []string{
	".ssh",
	".gnupg",
	".aws",
	".azure",
	".config/gcloud",
	".kube",
	".docker/config.json",
	".netrc",
	".git-credentials",
	".config/git/credentials",
	".config/gh",
	".npmrc",
	".pypirc",
	".gem/credentials",
	".cargo/credentials",
	".cargo/credentials.toml",
	".m2/settings.xml",
	".gradle/gradle.properties",
	".terraform.d/credentials.tfrc.json",
	".vault-token",
	".password-store",
	".local/share/keyrings",
	".config/op",
	".claude/.credentials.json",
	".codex/auth.json",
}

// Paths returns the credential locations under home that nothing Lathe
// runs may read, as absolute paths; each is a file or a directory whose
// whole tree is secret. It returns nil when home is empty, as no
// location is known then.
func Paths(home string) []string {
	if home == "" {
		return nil
	}
	paths := make([]string, len(homePaths))
	for i, p := range homePaths {
		paths[i] = filepath.Join(home, filepath.FromSlash(p))
	}
	return paths
}

// envTemplates are the .env files projects commit as documentation of
// the variables they need, with placeholder values: reading them is how
// an agent learns a project's setup, so they are not denied.
var envTemplates = []string{".example", ".sample", ".template", ".dist", ".defaults"}

// DenyName reports whether a file of this base name is denied by
// default: dotenv files (.env, .env.local, .env.production, …) but not
// their committed templates (.env.example). Names are compared without
// case, as case-insensitive file systems see them.
func DenyName(base string) bool {
	lower := strings.ToLower(base)
	if lower == ".env" {
		return true
	}
	if !strings.HasPrefix(lower, ".env.") {
		return false
	}
	for _, t := range envTemplates {
		if strings.HasSuffix(lower, t) {
			return false
		}
	}
	return true
}

// keyPrefixes name private keys by the tools' default names
// (ssh-keygen's id_rsa, id_ed25519, …).
var keyPrefixes = []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"}

// keySuffixes are the extensions of key and certificate-bundle files.
var keySuffixes = []string{".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"}

// AskName reports whether a file of this base name may hold a private
// key, so that reading it asks first: *.pem, *.key, key stores and ssh
// private keys. Public keys (id_rsa.pub) are not secrets.
func AskName(base string) bool {
	lower := strings.ToLower(base)
	for _, s := range keySuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	if strings.HasSuffix(lower, ".pub") {
		return false
	}
	for _, p := range keyPrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}

// envExact are credential variables whose names the patterns below miss.
var envExact = []string{
	"SSH_AUTH_SOCK",
	"GPG_AGENT_INFO",
	"AWS_ACCESS_KEY_ID",
	"GOOGLE_APPLICATION_CREDENTIALS",
	"AZURE_CLIENT_ID",
	"AZURE_TENANT_ID",
	"KUBECONFIG",
	"DOCKER_AUTH_CONFIG",
	"VAULT_ADDR",
}

// envParts are the name fragments of credential variables: API_KEY and
// the like end in _KEY; tokens, secrets, passwords and credentials say
// so anywhere in the name (GITHUB_TOKEN, ANTHROPIC_AUTH_TOKEN,
// AWS_SECRET_ACCESS_KEY, PGPASSWORD).
var envParts = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "APIKEY", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY"}

// EnvName reports whether an environment variable of this name looks
// like it holds a credential, so that commands do not get it unless the
// policy passes it through by name. It errs on the side of hiding: a
// variable hidden by mistake costs a command its setting, one passed by
// mistake costs the user a key.
func EnvName(name string) bool {
	upper := strings.ToUpper(name)
	if strings.HasSuffix(upper, "_KEY") || upper == "KEY" {
		return true
	}
	for _, e := range envExact {
		if upper == e {
			return true
		}
	}
	for _, p := range envParts {
		if strings.Contains(upper, p) {
			return true
		}
	}
	return false
}

// Marker replaces a redacted value; Redact writes it as [REDACTED:kind].
const Marker = "[REDACTED"

// A pattern finds one kind of secret value. hints are substrings every
// match contains, checked before the pattern runs, so that text without
// them — nearly all text — costs a few substring searches. find returns
// the spans of the secret values in s; for a regular expression, the
// first submatch that matched or else the whole match, so that the name
// in "user:password@" stays readable.
type pattern struct {
	kind  string
	hints []string
	find  func(s string) [][2]int
}

func expr(re string) func(string) [][2]int {
	rx := regexp.MustCompile(re)
	return func(s string) [][2]int {
		var spans [][2]int
		for _, loc := range rx.FindAllStringSubmatchIndex(s, -1) {
			span := [2]int{loc[0], loc[1]}
			for g := 1; 2*g < len(loc); g++ {
				if loc[2*g] >= 0 {
					span = [2]int{loc[2*g], loc[2*g+1]}
					break
				}
			}
			spans = append(spans, span)
		}
		return spans
	}
}

var patterns = []pattern{
	{kind: "private-key", hints: []string{"PRIVATE KEY-----"},
		find: expr(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)`)},
	{kind: "aws-access-key", hints: []string{"AKIA", "ASIA"},
		find: expr(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{kind: "github-token", hints: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		find: expr(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b`)},
	{kind: "gitlab-token", hints: []string{"glpat-"},
		find: expr(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{kind: "anthropic-key", hints: []string{"sk-ant-"},
		find: expr(`\bsk-ant-[A-Za-z0-9_-]{20,}`)},
	{kind: "openai-key", hints: []string{"sk-"},
		find: expr(`\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}`)},
	{kind: "slack-token", hints: []string{"xox"},
		find: expr(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{kind: "google-api-key", hints: []string{"AIza"},
		find: expr(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{kind: "stripe-key", hints: []string{"_live_", "_test_"},
		find: expr(`\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b`)},
	{kind: "npm-token", hints: []string{"npm_"},
		find: expr(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{kind: "jwt", hints: []string{"eyJ"},
		find: expr(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{kind: "url-password", hints: []string{"://"}, find: urlPasswords},
	{kind: "assigned-secret", hints: []string{":", "="}, find: assignedSecrets},
}

// urlPasswords finds the passwords of URLs' user information
// (scheme://user:password@host). It scans instead of matching an
// expression because "://" is in most logs and an expression without a
// literal prefix costs a pass of the slow matcher over all of them.
func urlPasswords(s string) [][2]int {
	var spans [][2]int
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			return spans
		}
		start := i + k + 3
		end := start + strings.IndexAny(s[start:], "/@ \t\r\n\"'<>")
		if end < start {
			end = len(s)
		}
		if end < len(s) && s[end] == '@' {
			if c := strings.IndexByte(s[start:end], ':'); c > 0 && start+c+1 < end {
				spans = append(spans, [2]int{start + c + 1, end})
			}
		}
		i = start
	}
}

// secretNames are the names whose assigned values are secrets, in lower
// case; a name ends with one (DB_PASSWORD, stripe_api_key).
var secretNames = []string{"password", "passwd", "secret", "token", "apikey", "api_key", "accesskey", "access_key", "privatekey", "private_key"}

// assignedSecrets finds values assigned to a secret's name — name, an
// optional closing quote, then ':' or '=' (or ':='), then the value:
// quoted, or bare with a digit in it, so that code (password =
// os.Getenv(...)) stays as written. Values shorter than 8 bytes are left
// alone. It scans from each separator rather than matching a
// case-insensitive expression, which would run the slow matcher over all
// of a command's output.
func assignedSecrets(s string) [][2]int {
	var spans [][2]int
	for i := 0; ; i++ {
		k := strings.IndexAny(s[i:], ":=")
		if k < 0 {
			return spans
		}
		i += k
		if !secretNameBefore(s[:i]) {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '=' || s[j] == ' ' || s[j] == '\t') {
			j++
		}
		quoted := j < len(s) && (s[j] == '"' || s[j] == '\'')
		if quoted {
			j++
		}
		end := j
		for end < len(s) && !valueEnd(s[end], quoted) {
			end++
		}
		v := s[j:end]
		if len(v) >= 8 && (quoted && end < len(s) && (s[end] == '"' || s[end] == '\'') || !quoted && strings.ContainsAny(v, "0123456789")) {
			spans = append(spans, [2]int{j, end})
			i = end - 1
		}
	}
}

func valueEnd(c byte, quoted bool) bool {
	if quoted {
		return c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
	}
	return strings.IndexByte(" \t\r\n\"',;(){}[]<>", c) >= 0
}

// RedactValue returns value, the value of a field named name in
// structured data (a JSON object's member), redacted: whole, as an
// assigned secret, when name is a secret's name (as in `name = "value"`,
// which Redact redacts) and value is long enough to be one; otherwise as
// Redact redacts it. A field's value is a string of its own, which
// Redact alone cannot tell belongs to a secret's name.
func RedactValue(name, value string) string {
	if len(value) >= 8 && !strings.HasPrefix(value, Marker) && secretNameBefore(name) {
		return Marker + ":assigned-secret]"
	}
	return Redact(value)
}

// secretNameBefore reports whether s ends with a secret's name, allowing
// a closing quote and blanks between the name and the separator.
func secretNameBefore(s string) bool {
	s = strings.TrimRight(s, " \t")
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\""), "'")
	for _, n := range secretNames {
		if len(s) >= len(n) && strings.EqualFold(s[len(s)-len(n):], n) {
			return true
		}
	}
	return false
}

// Redact returns s with every value that matches a known secret pattern
// (private key blocks, cloud and forge tokens, provider API keys, JWTs,
// passwords in URLs, and values assigned to names like password or
// api_key) replaced by [REDACTED:kind]. It is for what people read:
// audit records, the event stream, exports. A secret cut in two, as by
// streamed deltas, may escape it; the complete text that follows does
// not.
func Redact(s string) string {
	for _, p := range patterns {
		if !hinted(s, p.hints) {
			continue
		}
		s = p.replace(s)
	}
	return s
}

func hinted(s string, hints []string) bool {
	for _, h := range hints {
		if strings.Contains(s, h) {
			return true
		}
	}
	return false
}

func (p pattern) replace(s string) string {
	spans := p.find(s)
	if spans == nil {
		return s
	}
	marker := Marker + ":" + p.kind + "]"
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		if sp[0] < last || strings.HasPrefix(s[sp[0]:], Marker) {
			continue
		}
		b.WriteString(s[last:sp[0]])
		b.WriteString(marker)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
