package netproxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// bridgeChildEnv, set in the environment of the test binary re-executed
// in a new network namespace, makes it the process inside the sandbox
// (see TestMain): it bridges to the proxy socket the variable names and
// fetches the URLs its arguments name, through the bridge and directly.
const bridgeChildEnv = "NETPROXY_TEST_BRIDGE_SOCKET"

func TestMain(m *testing.M) {
	if socket := os.Getenv(bridgeChildEnv); socket != "" {
		os.Exit(bridgeChild(socket, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

// bridgeChild runs in a fresh network namespace: it brings up lo, bridges
// a loopback port to the proxy at socket and gets target through it,
// then directly, printing what each way got.
func bridgeChild(socket, target string) int {
	l, err := ListenLoopback(0)
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Bridge(ctx, l, socket) }()
	proxy := &url.URL{Scheme: "http", Host: l.Addr().String()}
	for _, via := range []*url.URL{proxy, nil} {
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(via), DisableKeepAlives: true}}
		if via == nil {
			c.Transport = &http.Transport{DisableKeepAlives: true}
		}
		resp, err := c.Get(target)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %s\n", resp.StatusCode, b)
	}
	cancel()
	if err := <-done; err != nil {
		fmt.Println("bridge:", err)
		return 1
	}
	return 0
}

// TestBridgeInNetworkNamespace runs a process in a network namespace of
// its own, as the sandbox does, and checks that it reaches an allowed
// host only through the bridge and the proxy, and the host's loopback
// not at all.
func TestBridgeInNetworkNamespace(t *testing.T) {
	srv, hits := origin(t, false)
	tp := startProxy(t, []string{"allowed.test"}, nil)
	target := "http://allowed.test:" + port(srv) + "/ns"
	cmd := exec.Command(os.Args[0], "-test.run=^$", target)
	cmd.Env = append(os.Environ(), bridgeChildEnv+"="+tp.socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot start a process in new user and network namespaces: %v", err)
		}
		t.Skipf("cannot start a process in new user and network namespaces: %v", err)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != "200 hello from /ns" || !strings.Contains(lines[1], "error:") {
		t.Errorf("child printed:\n%s\nwant the proxied GET to succeed and the direct one to fail", out)
	}
	if conn := <-tp.conns; !conn.Allowed || conn.Host != "allowed.test" {
		t.Errorf("the proxy reported %+v", conn)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the origin got %d requests, want 1", n)
	}
}

// TestBridge checks the bridge's forwarding on the host's own loopback.
func TestBridge(t *testing.T) {
	srv, _ := origin(t, false)
	tp := startProxy(t, []string{"allowed.test"}, nil)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Bridge(ctx, l, tp.socket) }()
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: l.Addr().String()})}}
	status, body := get(t, c, "http://allowed.test:"+port(srv)+"/b")
	if status != 200 || body != "hello from /b" {
		t.Errorf("GET through the bridge = %d %q", status, body)
	}
	<-tp.conns
	status, _ = get(t, c, "http://denied.test:"+port(srv)+"/b")
	if status != http.StatusForbidden {
		t.Errorf("denied GET through the bridge = %d, want 403", status)
	}
	<-tp.conns
	c.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Bridge: %v", err)
	}
}

func TestEnviron(t *testing.T) {
	env := strings.Join(Environ("127.0.0.1:3128"), " ")
	for _, want := range []string{"HTTP_PROXY=http://127.0.0.1:3128", "https_proxy=http://127.0.0.1:3128", "ALL_PROXY=http://127.0.0.1:3128", "NO_PROXY= "} {
		if !strings.Contains(env+" ", want) {
			t.Errorf("Environ lacks %q: %s", want, env)
		}
	}
}
