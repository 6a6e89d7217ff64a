package store

import (
	"crypto/sha256"
	"encoding/hex"
)

// MaxIndexedKey is the longest dedup key both stores index as it is; a longer
// one is indexed by IndexKey's digest. Alertmanager's group key grows with
// every group_by label value, and bbolt refuses keys over 32 KiB
// (bolt.MaxKeySize): such a group got 503 forever and never paged. The
// incident keeps its full Key either way.
const MaxIndexedKey = 512

// IndexKey is the form under which a dedup key is indexed: the key itself up
// to MaxIndexedKey bytes, else "sha256:" and the hex SHA-256 of the key. Both
// stores use it, so a store's data means the same to either implementation.
func IndexKey(key string) string {
	if len(key) <= MaxIndexedKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// errKey is a key as error messages show it: a 40 KiB group key would make
// every log line about it 40 KiB long.
func errKey(key string) string {
	if len(key) <= MaxIndexedKey {
		return key
	}
	return key[:64] + "…(" + IndexKey(key) + ")"
}
