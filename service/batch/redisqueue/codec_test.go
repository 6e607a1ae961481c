package redisqueue

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/procore-directory/procore-directory/service/batch"
)

// TestCodec: a chunk encodes to the same bytes every time, and decodes
// back to itself; other bytes are refused.
func TestCodec(t *testing.T) {
	t.Parallel()
	c := batch.Chunk{Operation: "operations/0b5c", Seq: 7, CompanyID: 1 << 40, Items: []batch.Item{
		{Index: 3, Request: []byte{0x08, 0x00, 0xff, '"'}}, {Index: 0, Request: []byte{}},
	}}
	a, err := encodeChunk(c)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		b, _ := encodeChunk(c)
		if !bytes.Equal(a, b) {
			t.Fatalf("encodings differ:\n%s\n%s", a, b)
		}
	}
	got, err := decodeChunk(a)
	if err != nil {
		t.Fatal(err)
	}
	c.Items[1].Request = nil // JSON does not tell empty from absent; proto decodes both alike
	if got.Items[1].Request != nil && len(got.Items[1].Request) == 0 {
		got.Items[1].Request = nil
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("decoded %+v, want %+v", got, c)
	}
	for _, bad := range []string{"", "{", `{"v":2,"op":"operations/x"}`, `[]`} {
		if _, err := decodeChunk([]byte(bad)); err == nil {
			t.Errorf("decodeChunk(%q) accepted", bad)
		}
	}
}
