package deploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Nginx is a real nginx (Debian's) on 127.0.0.1 in front of printdock replicas, plain HTTP and
// websockets, as a deployment of several replicas would run it.
type Nginx struct {
	*Proc
	// URL balances over every upstream; Direct[i] goes through nginx to upstream i alone (for
	// measurements that must reach one replica).
	URL    string
	Direct []string
}

// StartNginx runs nginx with its files in dir over upstreams (host:port).
func StartNginx(ctx context.Context, dir string, upstreams []string) (*Nginx, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			return nil, errors.New("nginx not installed (apt install nginx)")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports := make([]int, len(upstreams)+1)
	for i := range ports {
		if ports[i], err = FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
	}
	var ups, servers strings.Builder
	ups.WriteString("  upstream printdock {\n")
	for _, u := range upstreams {
		fmt.Fprintf(&ups, "    server %s max_fails=1 fail_timeout=30s;\n", u)
	}
	ups.WriteString("    keepalive 32;\n  }\n")
	fmt.Fprintf(&servers, "  server { listen 127.0.0.1:%d; location / { proxy_pass http://printdock; include %s/proxy.conf; } }\n", ports[0], dir)
	for i, u := range upstreams {
		fmt.Fprintf(&ups, "  upstream printdock%d { server %s; keepalive 8; }\n", i, u)
		fmt.Fprintf(&servers, "  server { listen 127.0.0.1:%d; location / { proxy_pass http://printdock%d; include %s/proxy.conf; } }\n", ports[i+1], i, dir)
	}
	// Every file nginx writes stays in dir (it runs unprivileged of any system configuration).
	var temps strings.Builder
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "  %s_temp_path %s/%s;\n", t, dir, t)
	}
	proxy := `proxy_http_version 1.1;
proxy_connect_timeout 2s;
proxy_set_header Host $host;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection $connection_upgrade;
`
	conf := fmt.Sprintf(`daemon off; master_process off; worker_processes 1;
error_log %[1]s/error.log warn; pid %[1]s/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
%[2]s  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
%[3]s%[4]s}
`, dir, temps.String(), ups.String(), servers.String())
	for name, body := range map[string]string{"nginx.conf": conf, "proxy.conf": proxy} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	p, err := Start("nginx", filepath.Join(dir, "nginx.out"), "", bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	if err != nil {
		return nil, err
	}
	n := &Nginx{Proc: p}
	for i, port := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		if err := WaitFor(ctx, 10*time.Second, "nginx on "+addr, func() bool {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err == nil || p.Exited()
		}); err != nil || p.Exited() {
			p.Kill()
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, fmt.Errorf("nginx did not start: %v %s", err, b)
		}
		if i == 0 {
			n.URL = "http://" + addr
		} else {
			n.Direct = append(n.Direct, "http://"+addr)
		}
	}
	return n, nil
}
