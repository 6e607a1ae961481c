package redisqueue

import (
	"encoding/json"
	"fmt"

	"github.com/procore-directory/procore-directory/service/batch"
)

// codecVersion is written with each chunk, so that a later format can
// tell an entry written by an older replica during a rolling upgrade.
const codecVersion = 1

// wireChunk is a chunk as the stream stores it: JSON with short, fixed
// names (encoding/json writes struct fields in order, so the same chunk
// always encodes to the same bytes). The items' requests are already
// deterministic proto encodings; JSON carries them as base64.
type wireChunk struct {
	V         int        `json:"v"`
	Operation string     `json:"op"`
	Seq       int        `json:"seq"`
	CompanyID int64      `json:"company"`
	Items     []wireItem `json:"items"`
	// Caller and CallID name the submitter in the items' audit events;
	// absent in chunks of older replicas.
	Caller string `json:"caller,omitempty"`
	CallID string `json:"call,omitempty"`
}

type wireItem struct {
	Index   int32  `json:"i"`
	Request []byte `json:"req"`
}

func encodeChunk(c batch.Chunk) ([]byte, error) {
	w := wireChunk{V: codecVersion, Operation: c.Operation, Seq: c.Seq, CompanyID: c.CompanyID, Items: make([]wireItem, len(c.Items)),
		Caller: c.Caller, CallID: c.CallID}
	for i, it := range c.Items {
		w.Items[i] = wireItem{Index: it.Index, Request: it.Request}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("redisqueue: encode chunk %d of %s: %w", c.Seq, c.Operation, err)
	}
	return b, nil
}

func decodeChunk(b []byte) (batch.Chunk, error) {
	var w wireChunk
	if err := json.Unmarshal(b, &w); err != nil {
		return batch.Chunk{}, fmt.Errorf("redisqueue: decode chunk: %w", err)
	}
	if w.V != codecVersion {
		return batch.Chunk{}, fmt.Errorf("redisqueue: chunk format %d, this replica reads %d", w.V, codecVersion)
	}
	c := batch.Chunk{Operation: w.Operation, Seq: w.Seq, CompanyID: w.CompanyID, Items: make([]batch.Item, len(w.Items)),
		Caller: w.Caller, CallID: w.CallID}
	for i, it := range w.Items {
		c.Items[i] = batch.Item{Index: it.Index, Request: it.Request}
	}
	return c, nil
}
