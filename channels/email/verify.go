package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// LookupTXT answers a DNS TXT query; net.DefaultResolver.LookupTXT in
// production, a table of test keys in tests.
type LookupTXT func(ctx context.Context, name string) ([]string, error)

// Bounds on DKIM verification: each signature costs a DNS query, so a
// message stacked with signatures cannot make the listener a DNS amplifier.
const (
	maxDKIMSignatures = 5
	dkimTimeout       = 10 * time.Second
)

// errDKIMTemporary means DNS could not answer for a key: the relay is told
// to try again later (451), as RFC 6376's TEMPFAIL asks.
var errDKIMTemporary = errors.New("dkim: key lookup failed temporarily")

// threadHeaders are the headers that name the incident when no reply
// address does: an aligned signature must cover each one present, or a
// signed reply to one incident could be re-addressed to another.
var threadHeaders = []string{"In-Reply-To", "References"}

// verifySender proves that the From domain wrote raw: a valid DKIM signature
// whose d= is aligned with fromDomain (DMARC's relaxed alignment: the same
// domain, a parent that is not a top-level domain, or a subdomain) and
// whose signed headers include the thread headers present in r. It returns
// "" when proven, else the refusal reason; err is errDKIMTemporary (wrapped)
// when only a DNS failure kept it from an answer.
func verifySender(ctx context.Context, lookup LookupTXT, raw []byte, r *mailReply, fromDomain string) (reason string, err error) {
	if r.Duplicate != "" {
		return reasonDuplicateHeader, nil
	}
	ctx, cancel := context.WithTimeout(ctx, dkimTimeout)
	defer cancel()
	opts := &dkim.VerifyOptions{MaxVerifications: maxDKIMSignatures,
		LookupTXT: func(name string) ([]string, error) { return lookup(ctx, name) }}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), opts)
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return reasonDKIMInvalid, nil // an unreadable header or body: no valid signature in it
	}
	reason = reasonDKIMNone
	var temp error
	for _, v := range verifs {
		switch {
		case v.Err != nil && dkim.IsTempFail(v.Err):
			temp = v.Err
			continue
		case v.Err != nil:
			reason = worse(reason, reasonDKIMInvalid)
			continue
		case !aligned(strings.ToLower(strings.TrimSuffix(v.Domain, ".")), fromDomain):
			reason = worse(reason, reasonDKIMMisaligned)
			continue
		}
		if missing := unsignedThreadHeader(v.HeaderKeys, r); missing != "" {
			reason = worse(reason, reasonDKIMThreadUnsigned)
			continue
		}
		return "", nil
	}
	if temp != nil {
		return "", fmt.Errorf("%w: %v", errDKIMTemporary, temp)
	}
	return reason, nil
}

// worse keeps the more telling of two reasons for the log and the person:
// a signature that exists but does not fit says more than none at all.
func worse(a, b string) string {
	rank := map[string]int{reasonDKIMNone: 0, reasonDKIMInvalid: 1, reasonDKIMMisaligned: 2, reasonDKIMThreadUnsigned: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// aligned is DMARC's relaxed identifier alignment without the public suffix
// list: d equals from, or one is a subdomain of the other, and d has at least
// two labels. Signing as d needs a key in d's DNS, so a parent d is one that
// controls from's DNS anyway.
func aligned(d, from string) bool {
	if d == "" || from == "" || !strings.Contains(d, ".") {
		return false
	}
	return d == from || strings.HasSuffix(from, "."+d) || strings.HasSuffix(d, "."+from)
}

// unsignedThreadHeader is the first thread header present in r that the
// signature's h= does not list.
func unsignedThreadHeader(signed []string, r *mailReply) string {
	for _, k := range threadHeaders {
		if !slices.Contains(r.Present, k) {
			continue
		}
		if !slices.ContainsFunc(signed, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), k) }) {
			return k
		}
	}
	return ""
}

// systemLookupTXT is DNS as the host resolves it: the listener needs DNS to
// check DKIM keys (docs/acknowledge.md).
func systemLookupTXT(ctx context.Context, name string) ([]string, error) {
	return net.DefaultResolver.LookupTXT(ctx, name)
}
