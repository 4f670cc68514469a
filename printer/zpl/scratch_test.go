package zpl

import (
	"fmt"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	in, _ := os.ReadFile(os.Getenv("IN"))
	res, err := RenderLabel(in, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("skipped %v warnings %v", res.Skipped, res.Warnings)
	b, err := RenderPNG(in, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(os.Getenv("OUT"), b, 0o644)
}

func TestScratchFixtures(t *testing.T) {
	data, perRow := packBits(64, 48, gfPattern)
	plain := ""
	for _, b := range data {
		plain += fmt.Sprintf("%02X", b)
	}
	fmt.Printf("PLAIN %d %d\n%s\n", len(data), perRow, plain)
	fmt.Printf("COMP\n%s\n", compressHex(data, perRow))
	fmt.Printf("Z64\n%s\nB64\n%s\n", zb64(data, true), zb64(data, false))
	logo := "^XA^PW224^LL96^FO0,0^GB96,96,48^FS^FO14,22^GB68,44,5,W^FS^FO24,34^GB48,5,5,W^FS^FO24,46^GB30,5,5,W^FS^FO14,72^GB68,8,8,W^FS^FO106,8^A0N,44,40^FDprint^FS^FO106,50^A0N,44,40^FDdock^FS^XZ"
	res, err := RenderLabel([]byte(logo), RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ld, lpr := packBits(224, 96, func(x, y int) bool { return res.Image.ColorIndexAt(x, y) == 1 })
	fmt.Printf("LOGO %d %d\n%s\n", len(ld), lpr, compressHex(ld, lpr))
	os.WriteFile("/tmp/logo.png", must(RenderPNG([]byte(logo), RenderOptions{})), 0o644)
}

func must(b []byte, err error) []byte { return b }
