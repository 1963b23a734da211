package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestUI(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       UI
		err        string
	}{
		{"default", "", UI{Animations: true}, ""},
		{"off", "[ui]\nanimations = false\n", UI{}, ""},
		{"not a bool", "[ui]\nanimations = \"no\"\n", UI{}, "~/.config/lathe/config.toml:2:14: ui.animations"},
		{"unknown key", "[ui]\nanimation = false\n", UI{}, "ui.animation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := env(t)
			if tc.file != "" {
				write(t, filepath.Join(home, ".config", "lathe", "config.toml"), tc.file)
			}
			c, err := Load(home)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.UI != tc.want {
				t.Errorf("UI = %+v, want %+v", c.UI, tc.want)
			}
		})
	}
}
