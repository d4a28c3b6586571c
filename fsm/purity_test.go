package fsm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPurity keeps the state machine deterministic: no Raft, no network, no
// randomness, no wall clock in the non-test files of this package.
func TestPurity(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range purityViolations(t, name, string(src)) {
			t.Error(v)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("checked %d files; the glob is wrong", checked)
	}
}

// TestPurityCatches shows that the check finds what it must.
func TestPurityCatches(t *testing.T) {
	bad := map[string]string{
		"raft":      `import "github.com/hashicorp/raft"`,
		"net":       `import "net"`,
		"net/http":  `import "net/http"`,
		"math/rand": `import "math/rand"`,
		"rand v2":   `import "math/rand/v2"`,
		"crypto":    `import "crypto/rand"`,
		"time.Now":  "import \"time\"\nvar x = time.Now()",
		"renamed":   "import tm \"time\"\nvar x = tm.Now()",
	}
	for name, body := range bad {
		if v := purityViolations(t, name, "package fsm\n"+body+"\n"); len(v) == 0 {
			t.Errorf("%s: no violation found", name)
		}
	}
	good := "package fsm\nimport \"time\"\nvar d = time.Second\n"
	if v := purityViolations(t, "good", good); len(v) != 0 {
		t.Errorf("good source: %q; want none", v)
	}
}

func purityViolations(t *testing.T, name, src string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	timeName := ""
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		switch {
		case strings.Contains(path, "raft"), path == "net", strings.HasPrefix(path, "net/"),
			path == "math/rand", strings.HasPrefix(path, "math/rand/"), path == "crypto/rand":
			out = append(out, name+" imports "+path)
		case path == "time":
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName &&
			(sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
			out = append(out, name+": time."+sel.Sel.Name+" at "+fset.Position(sel.Pos()).String())
		}
		return true
	})
	return out
}
