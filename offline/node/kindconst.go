// kindconst prints the value of a string constant of a Go package directory,
// type-checking only the given files (they must not import anything).
// Used by offline/recipes/node-image.sh to write kind's default CNI and
// storage manifests exactly as pkg/build/nodeimage/const_*.go define them.
//
//	go run kindconst.go <const-name> <file.go>...
package main

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: kindconst <const-name> <file.go>...")
		os.Exit(2)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range os.Args[2:] {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		files = append(files, f)
	}
	pkg, err := (&types.Config{}).Check("p", fset, files, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, ok := pkg.Scope().Lookup(os.Args[1]).(*types.Const)
	if !ok || c.Val().Kind() != constant.String {
		fmt.Fprintf(os.Stderr, "no string constant %s\n", os.Args[1])
		os.Exit(1)
	}
	fmt.Print(constant.StringVal(c.Val()))
}
