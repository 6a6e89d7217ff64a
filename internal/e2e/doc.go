// Package e2e holds end-to-end guarantee tests of `hikyaku serve`: real processes,
// real Redis and a real Alertmanager, killed and restarted, checked through logs and the API.
package e2e
