package compact

import (
	"slices"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Native is the Reason of a provider-native compaction: the provider
// summarised the conversation itself, and its compaction block stands
// for everything before it.
const Native = "native"

// NativeStart returns the index of the message holding the newest
// provider compaction in msgs, or -1 when none does: the conversation
// the provider reads begins there.
func NativeStart(msgs []llm.Message) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if IsNative(msgs[i]) {
			return i
		}
	}
	return -1
}

// IsNative reports whether m holds a provider's compaction.
func IsNative(m llm.Message) bool {
	return m.Role == llm.RoleAssistant && slices.ContainsFunc(m.Parts, func(p llm.Part) bool { return p.Kind == llm.PartCompaction })
}
