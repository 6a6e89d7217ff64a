package router

import "net/http"

// pageCSP lets an HTML answer load nothing but its own inline styles and
// post its form back to itself; frame-ancestors 'none' stops another site
// framing the page to trick a click on its button.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// htmlPage sets the security headers every HTML answer carries, before h
// writes anything, so no branch of h can forget them (docs/operations.md,
// "Security headers").
func htmlPage(h http.HandlerFunc) http.Handler { return htmlPageCSP(pageCSP, h) }

// consoleHTML is htmlPage for the console's pages, whose CSP also lets
// them run the live refresh script (consoleCSP).
func consoleHTML(h http.HandlerFunc) http.Handler { return htmlPageCSP(consoleCSP, h) }

func htmlPageCSP(csp string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY") // browsers without CSP level 2
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h(w, r)
	})
}
