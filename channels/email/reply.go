package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"
)

// Every message about an incident carries identifiers a reply brings back:
// the Message-ID (and the incident's thread root in References) come back in
// In-Reply-To/References, the Reply-To address comes back as the recipient.
// Only the Reply-To token is authenticated; Message-IDs are guessable and
// must not be trusted alone to acknowledge.

// lowerBase32 survives mail systems that fold the case of local parts.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// maxLocalPart is RFC 5321's limit on the part of an address before the @.
const maxLocalPart = 64

// MessageID is the id of one message (without angle brackets): the incident
// and a digest of the idempotency key, so a retry of the same message keeps
// its id and a receiving system can drop the duplicate.
func MessageID(incidentID int64, idempotencyKey, domain string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "hikyaku." + strconv.FormatInt(incidentID, 10) + "." + lowerBase32.EncodeToString(sum[:10]) + "@" + domain
}

// ThreadID is the incident's thread root (without angle brackets): every
// message about the incident names it in References, so mail clients show one
// conversation per incident.
func ThreadID(incidentID int64, domain string) string {
	return "hikyaku." + strconv.FormatInt(incidentID, 10) + "@" + domain
}

// IncidentFromMessageID recognises a MessageID or ThreadID (with or without
// angle brackets), as found in a reply's In-Reply-To or References.
func IncidentFromMessageID(id string) (int64, bool) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	left, _, ok := strings.Cut(id, "@")
	if !ok {
		return 0, false
	}
	rest, ok := strings.CutPrefix(left, "hikyaku.")
	if !ok {
		return 0, false
	}
	num, digest, hasDigest := strings.Cut(rest, ".")
	if hasDigest && (len(digest) != 16 || strings.Trim(digest, "abcdefghijklmnopqrstuvwxyz234567") != "") {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != num {
		return 0, false
	}
	return n, true
}

// ReplyAddress is the Reply-To of a message to userID about an incident:
// base's local part plus "+{incident}.{user}.{mac}" at domain. The MAC binds
// incident and user under key, so a reply to it proves which incident and whose
// page it answers without trusting the From header. A user id too long for
// RFC 5321's 64-octet local part is left out (and out of the MAC).
func ReplyAddress(key []byte, incidentID int64, userID, baseLocal, domain string) string {
	local := replyLocal(key, incidentID, userID, baseLocal)
	if len(local) > maxLocalPart {
		local = replyLocal(key, incidentID, "", baseLocal)
	}
	return local + "@" + domain
}

func replyLocal(key []byte, incidentID int64, userID, baseLocal string) string {
	var b strings.Builder
	b.WriteString(baseLocal)
	b.WriteByte('+')
	b.WriteString(strconv.FormatInt(incidentID, 10))
	if userID != "" {
		b.WriteByte('.')
		b.WriteString(userID)
	}
	b.WriteByte('.')
	b.WriteString(replyMAC(key, incidentID, userID))
	return b.String()
}

// replyMAC is 80 bits of HMAC-SHA256: enough that guessing one is hopeless,
// short enough to keep the address readable.
func replyMAC(key []byte, incidentID int64, userID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hikyaku-reply-v1\x00"))
	m.Write([]byte(strconv.FormatInt(incidentID, 10)))
	m.Write([]byte{0})
	m.Write([]byte(userID))
	return lowerBase32.EncodeToString(m.Sum(nil)[:10])
}

// VerifyReplyAddress checks an address made by ReplyAddress under key and
// returns its incident and user ("" when the address names none). Any base
// local part and domain are accepted: the MAC is what counts.
func VerifyReplyAddress(key []byte, addr string) (incidentID int64, userID string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || len(key) == 0 {
		return 0, "", false
	}
	local := addr[:at]
	plus := strings.LastIndexByte(local, '+') // the base may hold a + of its own; the tag cannot
	if plus < 0 {
		return 0, "", false
	}
	tag := local[plus+1:]
	first, last := strings.IndexByte(tag, '.'), strings.LastIndexByte(tag, '.')
	if first < 0 {
		return 0, "", false
	}
	num, mac := tag[:first], strings.ToLower(tag[last+1:])
	if first != last {
		userID = tag[first+1 : last]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != num {
		return 0, "", false
	}
	if !hmac.Equal([]byte(mac), []byte(replyMAC(key, n, userID))) {
		return 0, "", false
	}
	return n, userID, true
}
