// Package access proves who a request comes from and decides what they may
// do: console sessions, API tokens, and the roles departments give people.
package access
