package engine

// The engine's tests fail loudly on a finding of a rule nobody registered.
func init() { panicOnUnregistered = true }
