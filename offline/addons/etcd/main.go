// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3
// (its own main package lives in the etcd repository root, which is not a
// published module).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
