package access

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestRuleUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Rule
		wantErr string
	}{
		{
			name: "strings",
			in:   `{"resource":"FHIR:Patient:*","action":"FHIR:Read","effect":"Allow","condition":"name=Smith"}`,
			want: Rule{Resource: []string{"FHIR:Patient:*"}, Action: []string{"FHIR:Read"}, Effect: Allow, Condition: []string{"name=Smith"}},
		},
		{
			name: "arrays",
			in:   `{"resource":["IAM:Role"],"action":["IAM:GetRole","IAM:ListAllRoles"],"effect":"Deny","condition":["a=1","b=2"]}`,
			want: Rule{Resource: []string{"IAM:Role"}, Action: []string{"IAM:GetRole", "IAM:ListAllRoles"}, Effect: Deny, Condition: []string{"a=1", "b=2"}},
		},
		{
			name: "null and missing fields",
			in:   `{"resource":null,"effect":"Allow","condition":null}`,
			want: Rule{Effect: Allow},
		},
		{
			name: "unknown fields are ignored",
			in:   `{"resource":"*","action":"*","effect":"Allow","sid":"x"}`,
			want: Rule{Resource: []string{"*"}, Action: []string{"*"}, Effect: Allow},
		},
		{name: "object condition", in: `{"resource":"*","action":"*","effect":"Allow","condition":{"a":1}}`, wantErr: "condition: must be a string or an array of strings"},
		{name: "number resource", in: `{"resource":1,"action":"*","effect":"Allow"}`, wantErr: "resource: must be a string"},
		{name: "mixed array", in: `{"resource":["*",2],"action":"*","effect":"Allow"}`, wantErr: "resource:"},
		{name: "number effect", in: `{"resource":"*","action":"*","effect":1}`, wantErr: "effect"},
		{name: "not an object", in: `"*"`, wantErr: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Rule
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	in := `{"rule":[{"resource":"App:User","action":["App:GetUser"],"effect":"Allow"}]}`
	var p Policy
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	// Always written in the array form, and without an empty condition.
	want := `{"rule":[{"resource":["App:User"],"action":["App:GetUser"],"effect":"Allow"}]}`
	if string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

func TestMerge(t *testing.T) {
	a := Policy{Rule: []Rule{{Resource: []string{"*"}, Action: []string{"*"}, Effect: Allow}}}
	b := Policy{Rule: []Rule{{Resource: []string{"IAM"}, Action: []string{"IAM:*"}, Effect: Deny}, {Resource: []string{"App"}, Action: []string{"App:*"}, Effect: Allow}}}
	got := Merge(a, Policy{}, b)
	want := []Rule{a.Rule[0], b.Rule[0], b.Rule[1]}
	if !reflect.DeepEqual(got.Rule, want) {
		t.Errorf("Merge = %#v, want %#v", got.Rule, want)
	}
	got.Rule[0].Effect = Deny
	if a.Rule[0].Effect != Allow {
		t.Error("Merge shares its result's backing array with an input")
	}
	if empty := Merge(); empty.Rule == nil || len(empty.Rule) != 0 {
		t.Errorf("Merge() = %#v, want an empty non-nil rule list", empty)
	}
}
