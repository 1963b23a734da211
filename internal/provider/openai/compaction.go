package openai

import (
	"encoding/json"
	"fmt"

	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Provider-native compaction: a request with [llm.Request.CompactAt]
// carries context_management [{"type": "compaction", "compact_threshold":
// N}], with which the API, once the input reaches the threshold,
// compacts the conversation itself and puts a compaction output item,
// encrypted, before the rest of its output. The item comes back as an
// [llm.PartCompaction] holding it; sent back as an input item, it stands
// for every item before it, which need not be sent any more.

// contextManagement is the context_management parameter asking for
// compaction at input tokens, or nil when at is 0.
func contextManagement(at int) []responses.ResponseNewParamsContextManagement {
	if at <= 0 {
		return nil
	}
	return []responses.ResponseNewParamsContextManagement{{Type: "compaction", CompactThreshold: param.NewOpt(int64(at))}}
}

// compactionItem is the Opaque form of a compaction item: what the API
// needs to go on from it. Its id is left out, as with store: false the
// API keeps no item to refer to.
type compactionItem struct {
	Type             string `json:"type"`
	EncryptedContent string `json:"encrypted_content"`
}

// compactionPart keeps a compaction output item to send back. An item
// without encrypted content holds nothing to go on from: it has no part.
func compactionPart(it responses.ResponseOutputItemUnion) (llm.Part, bool) {
	if it.EncryptedContent == "" {
		return llm.Part{}, false
	}
	opaque, err := json.Marshal(compactionItem{Type: "compaction", EncryptedContent: it.EncryptedContent})
	if err != nil {
		panic(fmt.Sprintf("openai: marshal compaction item: %v", err)) // strings only: cannot fail
	}
	return llm.Part{Kind: llm.PartCompaction, Opaque: opaque, Origin: Kind}, true
}

// compactionInput returns the input item that sends a compaction part
// back. Another provider's compaction can only be sent as its readable
// summary, if it has one.
func compactionInput(part llm.Part) (responses.ResponseInputItemUnionParam, bool) {
	if part.Origin != Kind || len(part.Opaque) == 0 {
		if part.Text == "" {
			return responses.ResponseInputItemUnionParam{}, false
		}
		return responses.ResponseInputItemUnionParam{OfOutputMessage: &responses.ResponseOutputMessageParam{
			Content: []responses.ResponseOutputMessageContentUnionParam{{OfOutputText: &responses.ResponseOutputTextParam{Text: part.Text}}},
		}}, true
	}
	c := param.Override[responses.ResponseCompactionItemParam](json.RawMessage(part.Opaque))
	return responses.ResponseInputItemUnionParam{OfCompaction: &c}, true
}
