//go:build !linux

package checkpoint

// watcher is Linux's inotify; elsewhere every snapshot is a full one.
type watcher struct{}

func newWatcher(string, func(string) bool) *watcher { return nil }

func (*watcher) changes() (paths map[string]bool, full, rewatch bool) { return nil, true, true }

func (*watcher) close() {}
