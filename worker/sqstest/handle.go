package sqstest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// handleMACSize is how many bytes of the HMAC a receipt handle carries.
const handleMACSize = 16

// receipts issues and checks receipt handles. A handle names the message
// and which receive of it issued the handle, sealed with an HMAC keyed by a
// per-server secret and bound to the queue. The server therefore keeps no
// table of handles, yet tells a handle it never issued (invalid) from one
// that an older receive issued (stale).
type receipts struct {
	key []byte
}

func newReceipts() receipts {
	key := make([]byte, 32)
	rand.Read(key)
	return receipts{key: key}
}

// issue returns the handle for the receive-th receive of message id.
func (rc receipts) issue(queue, id string, receive int) string {
	payload := id + ":" + strconv.Itoa(receive)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString(rc.mac(queue, payload))
}

// open returns the message id and receive number a handle was issued for,
// or ok false when this server did not issue it for this queue.
func (rc receipts) open(queue, handle string) (id string, receive int, ok bool) {
	p, m, found := strings.Cut(handle, ".")
	if !found {
		return "", 0, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", 0, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !hmac.Equal(mac, rc.mac(queue, string(payload))) {
		return "", 0, false
	}
	id, n, found := strings.Cut(string(payload), ":")
	receive, err = strconv.Atoi(n)
	if !found || err != nil {
		return "", 0, false
	}
	return id, receive, true
}

func (rc receipts) mac(queue, payload string) []byte {
	h := hmac.New(sha256.New, rc.key)
	h.Write([]byte(queue))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)[:handleMACSize]
}

// newMessageID returns a random version 4 UUID, the form SQS message ids
// take.
func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
