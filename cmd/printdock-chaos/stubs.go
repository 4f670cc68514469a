package main

import (
	"context"
	"errors"
)

func runPGRestart(ctx context.Context, e env, r *Result) error { return errors.New("todo") }
func runLinkCut(ctx context.Context, e env, r *Result) error   { return errors.New("todo") }
func runAgentDisk(ctx context.Context, e env, r *Result) error { return errors.New("todo") }
func runReplicas(ctx context.Context, e env, r *Result) error  { return errors.New("todo") }
