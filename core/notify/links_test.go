package notify

import "testing"

func TestLinkifyMakesWebAddressesLinks(t *testing.T) {
	for in, want := range map[string]string{
		"See the details: http://127.0.0.1:21234/m/automotive/vehicles/3.": `See the details: <a href="http://127.0.0.1:21234/m/automotive/vehicles/3">http://127.0.0.1:21234/m/automotive/vehicles/3</a>.`,
		"Pay (https://portal.example.com/m/banking/bills?x=1&y=2), please": `Pay (<a href="https://portal.example.com/m/banking/bills?x=1&amp;y=2">https://portal.example.com/m/banking/bills?x=1&amp;y=2</a>), please`,
		`<script>alert(1)</script> javascript:alert(1)`:                    `&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1)`,
		`http://x.example/"onmouseover="alert(1)`:                          `<a href="http://x.example/">http://x.example/</a>&#34;onmouseover=&#34;alert(1)`,
		"no address": "no address",
	} {
		if got := string(linkify(in)); got != want {
			t.Errorf("linkify(%q)\n got %s\nwant %s", in, got, want)
		}
	}
}

func TestRecordLinkIsAPortalPath(t *testing.T) {
	for data, want := range map[string]string{
		`{"link":"/m/automotive/vehicles/3"}`: "/m/automotive/vehicles/3",
		`{"link":"//evil.example/x"}`:         "",
		`{"link":"/\\evil.example"}`:          "",
		`{"link":"https://evil.example"}`:     "",
		`{"other":1}`:                         "",
		`not json`:                            "",
	} {
		if got := (Record{Data: data}).Link(); got != want {
			t.Errorf("Link of %s = %q, want %q", data, got, want)
		}
	}
}
