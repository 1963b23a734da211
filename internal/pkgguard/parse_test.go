package pkgguard

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/policy"
)

// summary writes installs as one line each, "MANAGER: REG:NAME@VERSION
// …", with "?" for an install the guard cannot see into, so that a
// parser case stays one line.
func summary(ins []Install) string {
	var lines []string
	for _, in := range ins {
		var parts []string
		for _, p := range in.Packages {
			s := string(p.Registry) + ":" + p.Name
			if p.Version != "" {
				s += "@" + p.Version
			}
			parts = append(parts, s)
		}
		if in.Unchecked != "" {
			parts = append(parts, "?")
		}
		lines = append(lines, in.Manager+": "+strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

func TestInstalls(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		// pip and its spellings.
		{`pip install requests`, `pip install: pypi:requests`},
		{`pip3 install requests==2.31.0 'flask>=2,<3'`, `pip3 install: pypi:requests@==2.31.0 pypi:flask@>=2,<3`},
		{`pip3.12 install -U "requests[socks]==2.0" 'uvicorn[standard]'`, `pip3.12 install: pypi:requests@==2.0 pypi:uvicorn`},
		{`pip install "requests; python_version > '3.8'"`, `pip install: pypi:requests`},
		{`python -m pip install numpy`, `pip install: pypi:numpy`},
		{`python3 -I -m pip install --user numpy`, `pip install: pypi:numpy`},
		{`python3.11 -mpip install numpy`, `pip install: pypi:numpy`},
		{`/usr/bin/pip install numpy`, `pip install: pypi:numpy`},
		{`pip --quiet --proxy http://p:3128 install numpy`, `pip install: pypi:numpy`},
		{`pip install -r requirements.txt`, ``},
		{`pip install -e .`, ``},
		{`pip install -e ./lib numpy`, `pip install: pypi:numpy`},
		{`pip install --target build/ numpy`, `pip install: pypi:numpy`},
		{`pip install ./dist/pkg-1.0-py3-none-any.whl`, ``},
		{`pip install pkg.tar.gz src/`, ``},
		{`pip install git+https://github.com/psf/requests`, ``},
		{`pip install "requests @ https://example.com/requests.zip"`, ``},
		{`pip install --no-index --find-links wheels/ numpy`, `pip install: ?`},
		{`pip install --no-index numpy`, ``},
		{`pip install --index-url https://mirror.example/simple numpy`, `pip install: pypi:numpy ?`},
		{`pip install --extra-index-url=https://evil.example numpy`, `pip install: pypi:numpy ?`},
		{`pip install $PKG`, `pip install: ?`},
		{`pip install "$(cat deps)" numpy`, `pip install: pypi:numpy ?`},
		{`pip install --target "$DIR" numpy`, `pip install: pypi:numpy`},
		{`pip install {requests,flask}`, `pip install: pypi:requests pypi:flask`},
		{`pip install re\quests`, `pip install: pypi:requests`},
		{`pip install 0 ''`, `pip install: pypi:0`}, // found by FuzzInstalls
		// uv and poetry.
		{`uv add httpx 'fastapi>=0.110'`, `uv add: pypi:httpx pypi:fastapi@>=0.110`},
		{`uv add --dev pytest --group lint ruff`, `uv add: pypi:pytest pypi:ruff`},
		{`uv pip install requests`, `uv pip install: pypi:requests`},
		{`uv --directory app pip install -r req.txt`, ``},
		{`uv add --index https://x.example/simple foo`, `uv add: pypi:foo ?`},
		{`uvx ruff check .`, `uvx: pypi:ruff`},
		{`uvx ruff@0.5.0 check --fix`, `uvx: pypi:ruff@0.5.0`},
		{`uvx --from 'httpie==3.2' http GET example.com`, `uvx: pypi:httpie@==3.2`},
		{`uvx --python 3.12 --with rich pycowsay hi`, `uvx: pypi:rich pypi:pycowsay`},
		{`uvx --index-url https://x.example/simple ruff`, `uvx: pypi:ruff ?`},
		{`uvx $TOOL`, `uvx: ?`},
		{`uvx --with '' ruff`, `uvx: pypi:ruff`},
		{`uvx ''`, ``},
		{`uv tool install black`, `uv tool install: pypi:black`},
		{`uv tool run --from black==24.1 black .`, `uv tool run: pypi:black@==24.1`},
		{`uv tool list`, ``},
		{`pipx install poetry httpie`, `pipx install: pypi:poetry pypi:httpie`},
		{`pipx run --spec cowsay==6 cowsay moo`, `pipx run: pypi:cowsay@==6`},
		{`pipx install --pip-args='--index-url https://evil.example' foo`, `pipx install: pypi:foo ?`},
		{`pipx list`, ``},
		{`poetry add requests@^2.31 "django>=4"`, `poetry add: pypi:requests@^2.31 pypi:django@>=4`},
		{`poetry add --group dev pytest`, `poetry add: pypi:pytest`},
		{`poetry add ./libs/mine git+https://github.com/x/y.git`, ``},
		// npm, pnpm, yarn.
		{`npm install left-pad`, `npm install: npm:left-pad`},
		{`npm i -D @types/node@20 typescript@^5.4`, `npm i: npm:@types/node@20 npm:typescript@^5.4`},
		{`npm add lodash@latest`, `npm add: npm:lodash@latest`},
		{`npm isntall lodash`, `npm isntall: npm:lodash`},
		{`npm install`, ``},
		{`npm ci`, ``},
		{`npm install --save-dev`, ``},
		{`npm install -w packages/app lodash`, `npm install: npm:lodash`},
		{`npm install ./local ../other file:../x user/repo github:user/repo https://x.example/a.tgz`, ``},
		{`npm install my-alias@npm:real-pkg@1.2`, `npm install: npm:real-pkg@1.2`},
		{`npm install --registry https://npm.example lodash`, `npm install: npm:lodash ?`},
		{`npm -g install pnpm`, `npm install: npm:pnpm`},
		{`pnpm add zod`, `pnpm add: npm:zod`},
		{`pnpm install -w zod`, `pnpm install: npm:zod`},
		{`pnpm install`, ``},
		{`yarn add react react-dom`, `yarn add: npm:react npm:react-dom`},
		{`yarn global add @vue/cli`, `yarn add: npm:@vue/cli`},
		{`yarn`, ``},
		{`yarn install`, ``},
		// go.
		{`go get golang.org/x/net@v0.20.0`, `go get: go:golang.org/x/net@v0.20.0`},
		{`go get -u github.com/spf13/cobra`, `go get: go:github.com/spf13/cobra`},
		{`go get -tags integration github.com/a/b@latest`, `go get: go:github.com/a/b@latest`},
		{`go get golang.org/x/tools/...@latest`, `go get: go:golang.org/x/tools@latest`},
		{`go get ./... all`, ``},
		{`go get github.com/old/mod@none`, ``},
		{`go install golang.org/x/tools/gopls@latest`, `go install: go:golang.org/x/tools/gopls@latest`},
		{`go install ./cmd/lathe`, ``},
		{`go install github.com/x/y`, ``},
		{`go build github.com/x/y@v1`, ``},
		// cargo and gem.
		{`cargo add serde --features derive tokio@1`, `cargo add: crates:serde crates:tokio@1`},
		{`cargo add --path ../mylib`, ``},
		{`cargo add --git https://github.com/x/y foo`, `cargo add: crates:foo ?`},
		{`gem install rails -v 7.1.0`, `gem install: rubygems:rails`},
		{`gem install rake:13.0 bundler`, `gem install: rubygems:rake@13.0 rubygems:bundler`},
		{`gem install ./local.gem`, ``},
		// Wrappers are seen through.
		{`sudo pip install requests`, `pip install: pypi:requests`},
		{`sudo -u root -H pip install requests`, `pip install: pypi:requests`},
		{`env PIP_NO_CACHE_DIR=1 -u HOME pip install requests`, `pip install: pypi:requests`},
		{`timeout 60 npm install lodash`, `npm install: npm:lodash`},
		{`timeout -k 5 -s KILL 60 npm install lodash`, `npm install: npm:lodash`},
		{`nice -n 10 nohup command cargo add serde`, `cargo add: crates:serde`},
		{`sudo -- env X=1 timeout 5m \gem install rails`, `gem install: rubygems:rails`},
		{`PIP_INDEX_URL=x pip install requests`, `pip install: pypi:requests`},
		{`\pip install requests`, `pip install: pypi:requests`},
		{`p\ip install requests`, `pip install: pypi:requests`},
		{`"pip" install requests`, `pip install: pypi:requests`},
		{`g'o' get golang.org/x/net`, `go get: go:golang.org/x/net`},
		{`go "get" golang.org/x/net`, `go get: go:golang.org/x/net`},
		// Everywhere in the script.
		{`cd app && pip install requests || npm i lodash`, "pip install: pypi:requests\nnpm i: npm:lodash"},
		{`(cd x; pip install a) | tee log`, `pip install: pypi:a`},
		{`if true; then f() { gem install b; }; fi`, `gem install: rubygems:b`},
		{`echo $(pip install c)`, `pip install: pypi:c`},
		{`bash -c "pip install d && npm i e"`, "pip install: pypi:d\nnpm i: npm:e"},
		{`sudo sh -ec 'cd x; gem install f'`, `gem install: rubygems:f`},
		{`bash -lc "bash -c 'cargo add g'"`, `cargo add: crates:g`},
		{`bash script.sh pip install h`, ``},
		// Look-alikes that install nothing from a registry.
		{`pip show requests`, ``},
		{`pip download requests`, ``},
		{`pip uninstall requests`, ``},
		{`pip freeze > requirements.txt`, ``},
		{`python -c "import pip; pip.main(['install', 'x'])"`, ``},
		{`python setup.py install`, ``},
		{`npm run install-deps`, ``},
		{`npm view lodash`, ``},
		{`npm uninstall lodash`, ``},
		{`echo pip install requests`, ``},
		{`grep "npm install" README.md`, ``},
		{`go mod tidy`, ``},
		{`cargo install ripgrep`, ``},
		{`make install`, ``},
		{`$PM install lodash`, ``},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			f := policy.ParseCommand(tc.cmd)
			if f == nil {
				t.Fatalf("does not parse")
			}
			if got := summary(Installs(f)); got != tc.want {
				t.Errorf("Installs(%q):\n got %q\nwant %q", tc.cmd, got, tc.want)
			}
		})
	}
}

func TestInstallsUncheckedSaysWhy(t *testing.T) {
	for cmd, want := range map[string]string{
		`pip install $PKG`:                            `pip install is given $PKG, which is known only when the command runs`,
		`npm install --registry=https://x.example a`:  `npm install --registry installs from a package index of its own choosing`,
		`pip install --extra-index-url https://x y`:   `pip install --extra-index-url installs from a package index`,
		`uv add --default-index https://x.example y`:  `uv add --default-index`,
		`poetry add --source private y`:               `poetry add --source`,
		`gem install --source https://gems.example y`: `gem install --source`,
	} {
		ins := Installs(policy.ParseCommand(cmd))
		if len(ins) != 1 || !strings.Contains(ins[0].Unchecked, want) {
			t.Errorf("Installs(%q) = %s, want Unchecked containing %q", cmd, fmt.Sprint(ins), want)
		}
	}
}

// FuzzInstalls checks that no script makes Installs panic, and that
// what it finds is well formed: every install names packages or says
// why it cannot be checked, and every package has a registry and a name.
func FuzzInstalls(f *testing.F) {
	for _, seed := range []string{
		`pip install requests==2.31.0 'flask>=2,<3'`, `python3 -I -mpip install -e . numpy`,
		`sudo -u root env X=1 timeout -k 5 60 npm i -D @types/node@20 alias@npm:real@1`,
		`bash -lc "uvx --from 'httpie==3.2' http; go get golang.org/x/tools/...@latest"`,
		`pipx install --pip-args='--index-url x' foo; cargo add --git u foo; gem install a:1`,
		`pip install $PKG "$(cat deps)" {a,b}`, `yarn global add @vue/cli && pnpm add -w zod`,
		`env -S 'pip install x'`, `timeout`, `sudo --`, `python -m`, `uvx --from`, `npm install @`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		file := policy.ParseCommand(cmd)
		if file == nil {
			return
		}
		for _, in := range Installs(file) {
			if len(in.Packages) == 0 && in.Unchecked == "" {
				t.Errorf("%q: an install with no packages and nothing unchecked: %+v", cmd, in)
			}
			for _, p := range in.Packages {
				if p.Registry == "" || p.Name == "" {
					t.Errorf("%q: package %+v has no registry or name", cmd, p)
				}
			}
		}
	})
}
