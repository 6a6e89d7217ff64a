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
// RFC 5321's 64-octet local part is left out of the address but not out of
// the MAC ("+{incident}.{mac}"): the address still proves the person, checked
// against the users VerifyReplyAddress is given.
func ReplyAddress(key []byte, incidentID int64, userID, baseLocal, domain string) string {
	local := replyLocal(key, incidentID, userID, userID, baseLocal)
	if len(local) > maxLocalPart {
		local = replyLocal(key, incidentID, "", userID, baseLocal)
	}
	return local + "@" + domain
}

// replyLocal names named in the address and binds bound in the MAC.
func replyLocal(key []byte, incidentID int64, named, bound, baseLocal string) string {
	var b strings.Builder
	b.WriteString(baseLocal)
	b.WriteByte('+')
	b.WriteString(strconv.FormatInt(incidentID, 10))
	if named != "" {
		b.WriteByte('.')
		b.WriteString(named)
	}
	b.WriteByte('.')
	b.WriteString(replyMAC(key, incidentID, bound))
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
// returns its incident and user. An address that names no user is checked
// against each of unnamed (the users it may have been made for: those whose
// address sent the reply) and returns the one its MAC binds. userID is ""
// only for an address whose MAC binds no user, as hikyaku made them for
// long user ids before the MAC always bound the person: it proves the
// incident, not who answers. Any base local part and domain are accepted:
// the MAC is what counts.
func VerifyReplyAddress(key []byte, addr string, unnamed ...string) (incidentID int64, userID string, ok bool) {
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
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != num {
		return 0, "", false
	}
	candidates := []string{""}
	if first != last {
		candidates = []string{tag[first+1 : last]}
	} else {
		candidates = append(candidates, unnamed...)
	}
	for _, u := range candidates {
		if hmac.Equal([]byte(mac), []byte(replyMAC(key, n, u))) {
			return n, u, true
		}
	}
	return 0, "", false
}
