package main

import (
	"errors"
	"net"
	"testing"
)

// TestLimitListenerHoldsAtMostN: with two slots a third connection is not
// accepted until one of the two closes, and Close ends a waiting Accept.
func TestLimitListenerHoldsAtMostN(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 2)
	accepted := make(chan net.Conn, 3)
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String()) // the kernel queues what is not accepted
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted while two were open")
	default:
	}
	if len(ln.slots) != 2 {
		t.Fatalf("%d slots taken, want 2", len(ln.slots))
	}
	first.Close()
	first.Close() // a second Close must not free a second slot
	third := <-accepted
	if len(ln.slots) != 2 {
		t.Fatalf("after one close and a new accept: %d slots taken, want 2", len(ln.slots))
	}
	second.Close()
	third.Close()
	ln.Close()
	if err := <-acceptErr; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
}
