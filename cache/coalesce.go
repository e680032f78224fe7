package cache

import "sync"

// flights are the upstream answers in progress that identical requests can
// share, by key.
type flights struct {
	mu sync.Mutex
	m  map[Key]*flight
}

// find returns the flight in progress for k and a new follower of it, or
// nils when there is none that can be joined.
func (fs *flights) find(k Key) (*flight, *follower) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f := fs.m[k]; f != nil {
		if fo := f.join(); fo != nil {
			return f, fo
		}
	}
	return nil, nil
}

// join returns the flight in progress for k and a new follower of it when
// follow allows and one can be joined. Otherwise it returns a flight for
// the caller to lead: registered under k, so that others can follow it,
// unless one is registered there already and follow is false.
func (fs *flights) join(k Key, follow bool, max int64) (*flight, *follower) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f := fs.m[k]; f != nil {
		if !follow {
			return newFlight(max, false), nil
		}
		if fo := f.join(); fo != nil {
			return f, fo
		}
	}
	f := newFlight(max, true)
	fs.m[k] = f
	return f, nil
}

// remove unregisters f, unless another flight has taken its place.
func (fs *flights) remove(k Key, f *flight) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m[k] == f {
		delete(fs.m, k)
	}
}
