package email

import (
	"strings"
)

// ownText is what the person wrote above the message they answer. Mail
// clients put the quote below: lines starting with ">", often after an
// attribution line ending in a colon ("On Tue, 7 Jan 2026, hikyaku
// wrote:", "2026年1月7日(水) 6:00 hikyaku <pages@example.com>:"), or
// after a separator line of Outlook's ("-----Original Message-----",
// "________________________________", "From: …"); a signature starts at
// "-- ". None of these is part of a note.
func ownText(text string) string {
	lines := strings.Split(text, "\n")
	end := len(lines)
	for i, l := range lines {
		t := strings.TrimRight(l, " \t\r")
		if strings.HasPrefix(t, ">") || t == "--" && strings.HasPrefix(l, "-- ") || t == "-- " ||
			strings.HasPrefix(t, "-----Original Message-----") || strings.HasPrefix(t, "-----元のメッセージ-----") ||
			len(t) >= 16 && strings.Trim(t, "_") == "" || i > 0 && strings.HasPrefix(t, "From: ") && strings.TrimSpace(lines[i-1]) == "" {
			end = i
			break
		}
	}
	if end < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[end]), ">") {
		// The attribution line just above the quote belongs to it.
		j := end - 1
		for j >= 0 && strings.TrimSpace(lines[j]) == "" {
			j--
		}
		if j >= 0 {
			if a := strings.TrimSpace(lines[j]); strings.HasSuffix(a, ":") || strings.HasSuffix(a, "：") {
				end = j
			}
		}
	}
	return strings.Join(lines[:end], "\n")
}
