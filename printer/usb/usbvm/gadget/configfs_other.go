//go:build !linux

package gadget

import (
	"context"
	"errors"
)

var errNotLinux = errors.New("gadget: the USB printer gadget needs Linux")

// ConfigFS is the Linux configfs USB printer gadget; elsewhere it cannot be made.
type ConfigFS struct{ Dir, UDC, Node string }

// NewConfigFS fails: only Linux has the printer gadget.
func NewConfigFS(configfsRoot, name, udc string, id Identity) (*ConfigFS, error) {
	return nil, errNotLinux
}

func (g *ConfigFS) Plug() error                              { return errNotLinux }
func (g *ConfigFS) Unplug() error                            { return errNotLinux }
func (g *ConfigFS) SetIdentity(id Identity) error            { return errNotLinux }
func (g *ConfigFS) Open(ctx context.Context) (Device, error) { return nil, errNotLinux }
