package main

import (
	"context"
	"errors"
)

func runAgentDisk(ctx context.Context, e env, r *Result) error { return errors.New("todo") }
func runReplicas(ctx context.Context, e env, r *Result) error  { return errors.New("todo") }
