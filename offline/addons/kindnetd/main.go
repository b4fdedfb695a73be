// Command kindnetd is a small, independently written stand-in for kind's
// kindnetd (sigs.k8s.io/kind/images/kindnetd, whose source the Go module proxy
// does not serve). It runs from kind v0.33.0's default CNI manifest unchanged
// (env HOST_IP, POD_IP, POD_SUBNET; mounts /etc/cni/net.d, /run/xtables.lock,
// /lib/modules, /var/run/nri) and does what that DaemonSet is there for:
//
//   - writes /etc/cni/net.d/10-kindnet.conflist (ptp + host-local IPAM over
//     this node's spec.podCIDRs + portmap) for the CNI plugins of kind's base;
//   - routes other nodes' pod CIDRs via their InternalIP (multi-node clusters);
//   - masquerades traffic that leaves the pod subnets (chain KIND-MASQ-AGENT
//     in the iptables nat table, iptables-nft or -legacy as the node uses);
//   - enforces NetworkPolicy with sigs.k8s.io/kube-network-policies (nftables
//     and nfqueue, table "kindnet-network-policies"), as kind's kindnetd does;
//     on kernels without the nftables queue expression it uses the xtables
//     NFQUEUE target (patched module, see patches/).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-iptables/iptables"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

var version = "offline"

const (
	cniConfigPath = "/etc/cni/net.d/10-kindnet.conflist"
	masqChain     = "KIND-MASQ-AGENT"
)

func main() {
	klog.InitFlags(nil)
	showVersion := flag.Bool("version", false, "print the version and exit")
	netpol := flag.Bool("network-policy", envBool("KINDNET_NETWORK_POLICY", true), "enforce NetworkPolicy (kube-network-policies)")
	failOpen := flag.Bool("fail-open", false, "network policy: accept packets while the controller is not running")
	cniPath := flag.String("cni-config", cniConfigPath, "CNI config file to write")
	flag.Parse()
	if *showVersion {
		fmt.Printf("kindnetd %s (offline kindnetd-compatible build, kube-network-policies inside)\n", version)
		return
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	config, err := rest.InClusterConfig()
	if err != nil {
		klog.Fatalf("in-cluster config: %v", err)
	}
	if ep := os.Getenv("CONTROL_PLANE_ENDPOINT"); ep != "" {
		for i := 0; i < 5; i++ {
			if c, err := net.DialTimeout("tcp", ep, time.Second); err == nil {
				c.Close()
				config.Host = "https://" + ep
				break
			}
			time.Sleep(time.Duration(i) * time.Second)
		}
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		klog.Fatalf("client: %v", err)
	}
	klog.Infof("kindnetd %s connected to apiserver %s", version, config.Host)

	hostIP := os.Getenv("HOST_IP")
	podSubnets := splitList(os.Getenv("POD_SUBNET"))
	if len(podSubnets) == 0 {
		klog.Fatal("missing environment variable POD_SUBNET")
	}
	nodeName := os.Getenv("NODE_NAME")
	if nodeName == "" {
		nodeName, _ = os.Hostname()
	}

	// masquerade everything that leaves the cluster's pod subnets
	for _, v6 := range []bool{false, true} {
		var cidrs []string
		for _, c := range podSubnets {
			if isV6CIDR(c) == v6 {
				cidrs = append(cidrs, c)
			}
		}
		if len(cidrs) == 0 {
			continue
		}
		ipt, err := newIPTables(v6)
		if err != nil {
			klog.Fatalf("iptables: %v", err)
		}
		go func() {
			for {
				if err := syncMasq(ipt, cidrs); err != nil {
					klog.Errorf("masquerade rules (v6=%v): %v", v6, err)
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(60 * time.Second):
				}
			}
		}()
	}

	factory := informers.NewSharedInformerFactory(clientset, 0)
	if *netpol {
		if err := probeQueue(false); err == nil {
			klog.Infof("NetworkPolicy: packets go to nfqueue 100 with the nftables queue expression")
		} else if err2 := probeQueue(true); err2 == nil {
			networkpolicy.UseXtablesQueue = true
			klog.Infof("NetworkPolicy: the kernel rejects the nftables queue expression (CONFIG_NFT_QUEUE: %v); "+
				"packets go to nfqueue 100 with the xtables NFQUEUE target (nft_compat)", err)
		} else {
			klog.Errorf("NetworkPolicy is NOT enforced on this node: the kernel rejects both the nftables queue "+
				"expression (%v) and the xtables NFQUEUE target (%v)", err, err2)
			*netpol = false
		}
	}
	if *netpol {
		npc, err := networkpolicy.NewController(clientset,
			factory.Networking().V1().NetworkPolicies(),
			factory.Core().V1().Namespaces(),
			factory.Core().V1().Pods(),
			nil, nil, nil, nil,
			networkpolicy.Config{
				FailOpen:            *failOpen,
				QueueID:             100,
				NodeName:            nodeName,
				NetfilterBug1766Fix: true,
				NFTableName:         "kindnet-network-policies",
			})
		if err != nil {
			klog.Fatalf("network policy controller: %v", err)
		}
		go func() {
			if err := npc.Run(ctx); err != nil {
				klog.Errorf("network policy controller stopped: %v", err)
			}
		}()
		factory.Start(ctx.Done())
	}

	cni := &cniWriter{path: *cniPath, mtu: defaultMTU()}
	for {
		if err := reconcileNodes(ctx, clientset, cni, hostIP, nodeName); err != nil {
			klog.Errorf("reconcile nodes: %v", err)
		}
		select {
		case <-ctx.Done():
			time.Sleep(2 * time.Second) // let the policy controller clean up
			return
		case <-time.After(10 * time.Second):
		}
	}
}

func reconcileNodes(ctx context.Context, cs kubernetes.Interface, cni *cniWriter, hostIP, nodeName string) error {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, node := range nodes.Items {
		ips := internalIPs(node)
		cidrs := node.Spec.PodCIDRs
		if len(cidrs) == 0 && node.Spec.PodCIDR != "" {
			cidrs = []string{node.Spec.PodCIDR}
		}
		if contains(ips, hostIP) || (hostIP == "" && node.Name == nodeName) {
			if len(cidrs) == 0 {
				klog.Infof("node %s has no podCIDR yet", node.Name)
				continue
			}
			if err := cni.write(cidrs); err != nil {
				return err
			}
			continue
		}
		for _, c := range cidrs {
			_, dst, err := net.ParseCIDR(c)
			if err != nil {
				continue
			}
			for _, ip := range ips {
				gw := net.ParseIP(ip)
				if gw == nil || (gw.To4() == nil) != (dst.IP.To4() == nil) {
					continue
				}
				if err := netlink.RouteReplace(&netlink.Route{Dst: dst, Gw: gw}); err != nil {
					return fmt.Errorf("route %s via %s: %w", c, ip, err)
				}
			}
		}
	}
	return nil
}

// ---- CNI config -----------------------------------------------------------

type cniWriter struct {
	path string
	mtu  int
	last []byte
}

func (w *cniWriter) write(podCIDRs []string) error {
	var ranges [][]map[string]string
	var routes []map[string]string
	for _, c := range podCIDRs {
		ranges = append(ranges, []map[string]string{{"subnet": c}})
		if isV6CIDR(c) {
			routes = append(routes, map[string]string{"dst": "::/0"})
		} else {
			routes = append(routes, map[string]string{"dst": "0.0.0.0/0"})
		}
	}
	ptp := map[string]any{
		"type":   "ptp",
		"ipMasq": false,
		"ipam": map[string]any{
			"type":    "host-local",
			"dataDir": "/run/cni-ipam-state",
			"routes":  routes,
			"ranges":  ranges,
		},
	}
	if w.mtu > 0 {
		ptp["mtu"] = w.mtu
	}
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "kindnet",
		"plugins": []any{
			ptp,
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	if bytes.Equal(data, w.last) {
		return nil
	}
	if old, err := os.ReadFile(w.path); err == nil && bytes.Equal(old, data) {
		w.last = data
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(w.path), "."+filepath.Base(w.path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, w.path); err != nil {
		return err
	}
	w.last = data
	klog.Infof("wrote CNI config %s for pod CIDRs %v (mtu %d)", w.path, podCIDRs, w.mtu)
	return nil
}

func defaultMTU() int {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err == nil {
		for _, r := range routes {
			if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
				if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
					return l.Attrs().MTU
				}
			}
		}
	}
	if l, err := netlink.LinkByName("eth0"); err == nil {
		return l.Attrs().MTU
	}
	return 0
}

// probeNFTQueue adds and deletes, in one transaction, a table with an nfqueue
// rule: the kernel validates the rule, so this fails without nft_queue.
// probeQueue adds and drops a throwaway table holding the queue rule
// kube-network-policies would use (xtables: the NFQUEUE target via nft_compat).
func probeQueue(xtables bool) error {
	saved := networkpolicy.UseXtablesQueue
	networkpolicy.UseXtablesQueue = xtables
	defer func() { networkpolicy.UseXtablesQueue = saved }()
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "kindnet-probe"})
	ch := c.AddChain(&nftables.Chain{Name: "probe", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{networkpolicy.QueueExpr(100, true)}})
	c.DelTable(t)
	return c.Flush()
}

// ---- masquerade -------------------------------------------------------------

// newIPTables picks the iptables backend the node already uses (the one with
// more rules, as kubernetes-sigs/iptables-wrappers does), nft if undecided.
func newIPTables(v6 bool) (*iptables.IPTables, error) {
	base, proto := "iptables", iptables.ProtocolIPv4
	if v6 {
		base, proto = "ip6tables", iptables.ProtocolIPv6
	}
	count := func(mode string) int {
		out, err := exec.Command(base + "-" + mode + "-save").Output()
		if err != nil {
			return -1
		}
		n := 0
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "-") {
				n++
			}
		}
		return n
	}
	mode := "nft"
	if count("legacy") > count("nft") {
		mode = "legacy"
	}
	path, err := exec.LookPath(base + "-" + mode)
	if err != nil {
		return nil, err
	}
	klog.Infof("using %s", path)
	return iptables.New(iptables.IPFamily(proto), iptables.Path(path), iptables.Timeout(5))
}

func syncMasq(ipt *iptables.IPTables, noMasq []string) error {
	if ok, err := ipt.ChainExists("nat", masqChain); err != nil {
		return err
	} else if !ok {
		if err := ipt.NewChain("nat", masqChain); err != nil {
			return err
		}
	}
	if err := ipt.AppendUnique("nat", "POSTROUTING", "-m", "addrtype", "!", "--dst-type", "LOCAL",
		"-m", "comment", "--comment", "kind-masq-agent: non-LOCAL destinations go to KIND-MASQ-AGENT",
		"-j", masqChain); err != nil {
		return err
	}
	want := [][]string{}
	for _, c := range noMasq {
		want = append(want, []string{"-d", c, "-m", "comment", "--comment", "kind-masq-agent: cluster-local traffic is not subject to MASQUERADE", "-j", "RETURN"})
	}
	want = append(want, []string{"-m", "comment", "--comment", "kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)", "-j", "MASQUERADE"})
	have, err := ipt.List("nat", masqChain)
	if err == nil && len(have) == len(want)+1 { // first line is -N
		same := true
		for i, r := range want {
			if ok, _ := ipt.Exists("nat", masqChain, r...); !ok || !strings.Contains(have[i+1], r[len(r)-1]) {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	if err := ipt.ClearChain("nat", masqChain); err != nil {
		return err
	}
	for _, r := range want {
		if err := ipt.Append("nat", masqChain, r...); err != nil {
			return err
		}
	}
	klog.Infof("synced %s (no masquerade for %v)", masqChain, noMasq)
	return nil
}

// ---- helpers ------------------------------------------------------------------

func internalIPs(n corev1.Node) []string {
	var ips []string
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ips = append(ips, a.Address)
		}
	}
	sort.Strings(ips)
	return ips
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s && s != "" {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isV6CIDR(c string) bool {
	ip, _, err := net.ParseCIDR(c)
	return err == nil && ip.To4() == nil
}

func envBool(name string, def bool) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "0", "false", "no", "off":
		return false
	case "1", "true", "yes", "on":
		return true
	}
	return def
}
