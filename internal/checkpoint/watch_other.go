//go:build !linux

package checkpoint

// watcher is Linux's inotify; elsewhere every snapshot is a full one.
type watcher struct{}

// newWatcher reports no error: without inotify there is nothing the user
// could change.
func newWatcher(string, func(string) bool) (*watcher, error) { return nil, nil }

func (*watcher) changes() (paths map[string]bool, full, rewatch bool) { return nil, true, true }

func (*watcher) close() {}
