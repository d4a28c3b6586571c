package check

import (
	"encoding/json"
	"math"
	"testing"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in      string
		want    ID
		wantErr bool
	}{
		{in: "0-0", want: ID{}},
		{in: "1526919030474-55", want: ID{1526919030474, 55}},
		{in: "7", want: ID{7, 0}},
		{in: "18446744073709551615-18446744073709551615", want: maxID},
		{in: "", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "1-", wantErr: true},
		{in: "1-x", wantErr: true},
		{in: "1-2-3", wantErr: true},
		{in: "18446744073709551616-0", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseID(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseID(%q) = %v, %v; want %v, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestIDOrder(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1-0", "1-0", 0},
		{"1-0", "1-1", -1},
		{"2-0", "1-9", 1},
		{"9-0", "10-0", -1}, // numeric, not lexical
		{"1-10", "1-9", 1},
	}
	for _, tt := range tests {
		a, b := MustParseID(tt.a), MustParseID(tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d; want %d", a, b, got, tt.want)
		}
		if got := a.Less(b); got != (tt.want < 0) {
			t.Errorf("%s.Less(%s) = %t; want %t", a, b, got, tt.want < 0)
		}
	}
}

func TestIDNext(t *testing.T) {
	tests := []struct {
		in     ID
		want   ID
		wantOk bool
	}{
		{ID{}, ID{0, 1}, true},
		{ID{3, math.MaxUint64}, ID{4, 0}, true},
		{maxID, maxID, false},
	}
	for _, tt := range tests {
		if got, ok := tt.in.next(); got != tt.want || ok != tt.wantOk {
			t.Errorf("%s.next() = %s, %t; want %s, %t", tt.in, got, ok, tt.want, tt.wantOk)
		}
	}
}

func TestIDJSON(t *testing.T) {
	in := Entry{ID: ID{5, 2}, Payload: "p"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"id":"5-2","payload":"p"}`; got != want {
		t.Errorf("json.Marshal(%v) = %s; want %s", in, got, want)
	}
	var out Entry
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"id":"x"}`), &out); err == nil {
		t.Errorf(`json.Unmarshal({"id":"x"}) succeeded; want an error`)
	}
}
