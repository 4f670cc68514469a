//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly && !windows

package main

import "errors"

// isTerminal is false where the agent cannot switch echo off: the secret must come from stdin.
func isTerminal(uintptr) bool { return false }

func noEcho(uintptr) (func(), error) { return nil, errors.New("no terminal support") }
