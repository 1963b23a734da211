package app

// ContextStatus reports how many tokens the conversation fills now and
// the model's context window (0 when unknown), for a front end's status
// line. It may be called from any goroutine, during a run too.
func (a *App) ContextStatus() (used, window int) { return a.agent.ContextStatus() }
