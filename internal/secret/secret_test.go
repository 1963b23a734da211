package secret

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPaths(t *testing.T) {
	if Paths("") != nil {
		t.Error("Paths(\"\") should know no location")
	}
	home := filepath.FromSlash("/home/u")
	got := Paths(home)
	for _, want := range []string{".ssh", ".aws", ".config/gcloud", ".netrc", ".cargo/credentials.toml"} {
		if !slices.Contains(got, filepath.Join(home, filepath.FromSlash(want))) {
			t.Errorf("Paths lacks ~/%s", want)
		}
	}
	// Caches stay readable: only the credentials file inside is secret.
	if slices.Contains(got, filepath.Join(home, ".cargo")) {
		t.Error("Paths hides the whole cargo cache")
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name      string
		deny, ask bool
	}{
		{".env", true, false},
		{".env.local", true, false},
		{".ENV.Production", true, false},
		{".env.example", false, false},
		{".env.sample", false, false},
		{".envrc", false, false},
		{"env", false, false},
		{"server.pem", false, true},
		{"tls.KEY", false, true},
		{"id_rsa", false, true},
		{"id_ed25519_work", false, true},
		{"id_rsa.pub", false, false},
		{"keystore.jks", false, true},
		{"keys.go", false, false},
		{"monkey.txt", false, false},
	} {
		if got := DenyName(tc.name); got != tc.deny {
			t.Errorf("DenyName(%q) = %v, want %v", tc.name, got, tc.deny)
		}
		if got := AskName(tc.name); got != tc.ask {
			t.Errorf("AskName(%q) = %v, want %v", tc.name, got, tc.ask)
		}
	}
}

func TestEnvName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"ANTHROPIC_API_KEY", true},
		{"OPENAI_API_KEY", true},
		{"ANTHROPIC_AUTH_TOKEN", true},
		{"GITHUB_TOKEN", true},
		{"AWS_ACCESS_KEY_ID", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"AWS_SESSION_TOKEN", true},
		{"PGPASSWORD", true},
		{"DB_PASSWD", true},
		{"SSH_AUTH_SOCK", true},
		{"GOOGLE_APPLICATION_CREDENTIALS", true},
		{"npm_config__authToken", true},
		{"stripe_apikey", true},
		{"PATH", false},
		{"HOME", false},
		{"GOCACHE", false},
		{"KEYBOARD_LAYOUT", false},
		{"TERM", false},
	} {
		if got := EnvName(tc.name); got != tc.want {
			t.Errorf("EnvName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	const pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"aws", "key AKIAIOSFODNN7EXAMPLE here", "key [REDACTED:aws-access-key] here"},
		{"github", "ghp_" + strings.Repeat("a1", 18), "[REDACTED:github-token]"},
		{"github fine-grained", "github_pat_11ABCDEFG0123456789abcdef_xyz", "[REDACTED:github-token]"},
		{"anthropic", "export K=sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "export K=[REDACTED:anthropic-key]"},
		{"openai", "sk-proj-" + strings.Repeat("x", 40), "[REDACTED:openai-key]"},
		{"slack", "xoxb-1234567890-abcdefghij", "[REDACTED:slack-token]"},
		{"google", "AIza" + strings.Repeat("B", 35), "[REDACTED:google-api-key]"},
		{"stripe", "sk_live_" + strings.Repeat("4", 24), "[REDACTED:stripe-key]"},
		{"npm", "npm_" + strings.Repeat("Z", 36), "[REDACTED:npm-token]"},
		{"jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "Bearer [REDACTED:jwt]"},
		{"pem", "before\n" + pem + "\nafter", "before\n[REDACTED:private-key]\nafter"},
		{"pem cut", "x " + pem[:60], "x [REDACTED:private-key]"},
		{"url password", "postgres://app:hunter2@db:5432/x", "postgres://app:[REDACTED:url-password]@db:5432/x"},
		{"assigned", "DB_PASSWORD=s3cretvalue99", "DB_PASSWORD=[REDACTED:assigned-secret]"},
		{"assigned quoted", `"api_key": "abcdefghijkl"`, `"api_key": "[REDACTED:assigned-secret]"`},
		{"assigned yaml", "access_key: 0123456789abcdef", "access_key: [REDACTED:assigned-secret]"},
		// Look-alikes that are not secrets stay as written.
		{"code", `password = os.Getenv("DB_PASSWORD")`, `password = os.Getenv("DB_PASSWORD")`},
		{"short", "token=abc", "token=abc"},
		{"prose", "the key is to keep tokens short", "the key is to keep tokens short"},
		{"url without password", "https://example.com/a:b@c", "https://example.com/a:b@c"},
		{"sk word", "ask-anyone about risk-free", "ask-anyone about risk-free"},
		{"already", "token=[REDACTED:github-token]", "token=[REDACTED:github-token]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if got := Redact(Redact(tc.in)); got != tc.want {
				t.Errorf("Redact is not idempotent on %q: %q", tc.in, got)
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	// Typical tool output: source and test logs with no secret in them.
	line := "ok  \tgithub.com/example/project/internal/pkg\t0.123s\tcoverage: 81.2% of statements; the key idea\n"
	text := strings.Repeat(line, 64<<10/len(line))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Redact(text)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("DB_PASSWORD=s3cretvalue99 AKIAIOSFODNN7EXAMPLE")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nabc")
	f.Add("postgres://a:b@c")
	f.Fuzz(func(t *testing.T, s string) {
		once := Redact(s)
		if Redact(once) != once {
			t.Errorf("Redact is not idempotent on %q", s)
		}
	})
}

// A structured field's value is redacted by the field's name, as an
// assignment in text is; any value is redacted by its shape too.
func TestRedactValue(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"password", "correct horse battery", "[REDACTED:assigned-secret]"},
		{"DB_PASSWORD", "s3cr3tvalue", "[REDACTED:assigned-secret]"},
		{"stripe_api_key", "abcdefgh", "[REDACTED:assigned-secret]"},
		{"token", "short", "short"},
		{"password_hint", "the dog's name", "the dog's name"},
		{"command", "ls -la", "ls -la"},
		{"command", "echo AKIAIOSFODNN7EXAMPLE", "echo [REDACTED:aws-access-key]"},
		{"secret", "[REDACTED:jwt]", "[REDACTED:jwt]"},
	} {
		if got := RedactValue(tc.name, tc.value); got != tc.want {
			t.Errorf("RedactValue(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}
