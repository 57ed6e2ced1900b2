// Command modpack publishes one version of a Go module into a directory laid out as a module
// proxy (GOPROXY=file://DIR): the module zip made by golang.org/x/mod/zip - the same code and
// rules the go command and the public proxies use - plus the .mod, .info and list files.
//
//	modpack -dir go-shim -module github.com/tollbooth-dev/tollbooth/go-shim -version v0.1.0 -proxy OUT
//
// The end-to-end test of the user's install path (tests/e2e/test_gomod_install.py) uses it to
// serve the Go module with its prebuilt engine to ocb as a proxy would.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "module root (the directory holding go.mod)")
	path := flag.String("module", "", "module path")
	version := flag.String("version", "", "canonical semantic version, e.g. v0.1.0")
	proxy := flag.String("proxy", "", "proxy directory to write into")
	flag.Parse()
	if *dir == "" || *path == "" || *version == "" || *proxy == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := publish(*dir, module.Version{Path: *path, Version: *version}, *proxy); err != nil {
		log.Fatalf("modpack: %v", err)
	}
}

func publish(dir string, mv module.Version, proxy string) error {
	if err := module.Check(mv.Path, mv.Version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(vdir, mv.Version)

	zf, err := os.Create(base + ".zip")
	if err != nil {
		return err
	}
	if err := modzip.CreateFromDir(zf, mv, dir); err != nil {
		zf.Close()
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zf.Close(); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mv.Version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}
	list := filepath.Join(vdir, "list")
	f, err := os.OpenFile(list, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, mv.Version); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	st, err := os.Stat(base + ".zip")
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s: %s (%d bytes)\n", mv.Path, mv.Version, base+".zip", st.Size())
	return nil
}
