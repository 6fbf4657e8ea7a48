#!/usr/bin/env bash
# `kafkawire explain` as a user runs it on captures (no broker): a tcpdump pcap file (by path and on stdin),
# the --api filter and --json, tcpdump -X text of one packet, and clear errors for a broken capture.
#   test_explain_cli.sh <path of kafkawire> <tests/golden/captures>
set -uo pipefail
KW=${1:?usage: test_explain_cli.sh <kafkawire> <captures dir>}
CAP=${2:?usage: test_explain_cli.sh <kafkawire> <captures dir>}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
check() {  # check <what> <condition...>
  local what=$1; shift
  if "$@"; then :; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}

out=$("$KW" explain --file "$CAP/produce_consume.pcap" 2>"$WORK/err"); rc=$?
check "pcap: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "pcap: every frame shown" grep -q '^30 of 30 frames shown$' <<<"$out"
check "pcap: the produced record decoded" grep -q 'key "k1", value "hello"' <<<"$out"
check "pcap: a response paired with its request" grep -q 'response Fetch v18 corr=2' <<<"$out"
check "pcap: no error nodes" test "$(grep -c ' error' <<<"$out")" -eq 0

out=$("$KW" explain --api Fetch <"$CAP/produce_consume.pcap"); rc=$?
check "pcap on stdin with --api: exit 0" test $rc -eq 0
check "pcap --api Fetch: only Fetch frames" grep -q '^2 of 30 frames shown$' <<<"$out"
check "pcap --api Fetch: no Metadata" test "$(grep -c 'Metadata' <<<"$out")" -eq 0

lines=$("$KW" explain --json --file "$CAP/produce_consume.pcap" | wc -l)
check "pcap --json: one line per frame ($lines)" test "$lines" -eq 30
first=$("$KW" explain --json --file "$CAP/produce_consume.pcap" | head -1)
check "pcap --json: frame fields" grep -q '"direction":"request","api_key":18,"api_version":4' <<<"$first"

out=$("$KW" explain <"$CAP/apiversions_request.tcpdump-X.txt" 2>"$WORK/err"); rc=$?
check "tcpdump -X text: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "tcpdump -X text: the IP and TCP headers skipped" grep -q 'skipping 52 bytes of packet headers' "$WORK/err"
check "tcpdump -X text: the request decoded" grep -q 'ClientSoftwareName .*"kafkawire"' <<<"$out"

head -c 3000 "$CAP/produce_consume.pcap" >"$WORK/cut.pcap"
"$KW" explain --file "$WORK/cut.pcap" >/dev/null 2>"$WORK/err"; rc=$?
check "a cut pcap: exit 2 (got $rc)" test $rc -eq 2
check "a cut pcap: says where" grep -q 'past the end of the file' "$WORK/err"

"$KW" explain --file "$CAP/produce_consume.pcap" --skip 4 >/dev/null 2>"$WORK/err"; rc=$?
check "a pcap with --skip: bad usage" test $rc -eq 2
check "a pcap with --skip: says which options apply" grep -q 'only --api, --json, --html and --max-hex apply' "$WORK/err"

# A SaslAuthenticate v2 request with a PLAIN password ("\0alice\0hunter2secret"): its auth bytes are shown
# as a length only, in the text and in --json, neither as text nor as hex.
sasl=0000002400240002000000070003636c69001500616c6963650068756e7465723273656372657400
for mode in text json; do
  flags=(); [ $mode = json ] && flags=(--json)
  out=$("$KW" explain "${flags[@]}" "$sasl" 2>"$WORK/err"); rc=$?
  check "SaslAuthenticate ($mode): exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
  check "SaslAuthenticate ($mode): the length shown" grep -q '20 bytes (not shown: may hold a password or token)' <<<"$out"
  check "SaslAuthenticate ($mode): no password" test "$(grep -c 'hunter2' <<<"$out")" -eq 0
  check "SaslAuthenticate ($mode): no password in hex" test "$(tr -d ' ' <<<"$out" | grep -c '68756e74657232')" -eq 0
done

# --html writes the wire explorer page (tests/cli/test_explorer_browser.py drives it in a browser): one
# self-contained file holding, for each frame, the tree --json prints.
"$KW" explain --html "$WORK/page.html" --file "$CAP/produce_consume.pcap" 2>"$WORK/err"; rc=$?
check "--html on a pcap: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "--html on a pcap: says how many frames" grep -q '30 of 30 frames written to' "$WORK/err"
check "--html on a pcap: a tree per frame" test "$(grep -c '<script id="kw-f[0-9]' "$WORK/page.html")" -eq 30
check "--html on a pcap: no external resource" test "$(grep -cE '<link|src=|https?://' "$WORK/page.html")" -eq 0
tree=$("$KW" explain --json --file "$CAP/produce_consume.pcap" | head -1 | sed 's/.*"tree"://; s/}$//; s/</\\u003c/g')
check "--html on a pcap: frame 1's tree is what --json prints" grep -qF "$tree" "$WORK/page.html"
"$KW" explain --html "$WORK/sasl.html" "$sasl" 2>"$WORK/err"; rc=$?
check "--html on one frame: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "--html on one frame: its API and correlation id" grep -q '"name":"SaslAuthenticate","ver":2,"corr":7' "$WORK/sasl.html"
check "--html: no password" test "$(grep -c 'hunter2' "$WORK/sasl.html")" -eq 0
"$KW" explain --html "$WORK/g.html" --guide ../index.html "$sasl" 2>"$WORK/err"; rc=$?
check "--html --guide: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "--html --guide: the guide's address in the page" grep -q '"guide":"../index.html"' "$WORK/g.html"
"$KW" explain --guide ../index.html "$sasl" >/dev/null 2>&1; rc=$?
check "--guide without --html: bad usage (got $rc)" test $rc -eq 2
"$KW" explain --html "$WORK/x.html" --json "$sasl" >/dev/null 2>&1; rc=$?
check "--html with --json: bad usage (got $rc)" test $rc -eq 2
# --html-assets: the page loads explorer.js/.css from the prefix instead of holding them; the files are
# what --write-html-assets writes, and the rest of the page is the self-contained page's.
"$KW" explain --html "$WORK/shared.html" --html-assets ../kw/ --guide ../index.html "$sasl" 2>"$WORK/err"; rc=$?
check "--html-assets: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "--html-assets: the style linked" grep -qF '<link rel="stylesheet" href="../kw/explorer.css">' "$WORK/shared.html"
check "--html-assets: the script loaded" grep -qF '<script src="../kw/explorer.js"></script>' "$WORK/shared.html"
"$KW" explain --write-html-assets "$WORK/kw" 2>"$WORK/err"; rc=$?
check "--write-html-assets: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "--write-html-assets: two files" test "$(ls "$WORK/kw" | tr '\n' ' ')" = "explorer.css explorer.js "
check "--html-assets: the page holds neither file" test "$(grep -cF "$(head -c 200 "$WORK/kw/explorer.js" | head -1)" "$WORK/shared.html")" -eq 0
# Put back inline, the files make the self-contained page byte for byte.
awk -v css="$WORK/kw/explorer.css" -v js="$WORK/kw/explorer.js" '
  function slurp(f,  l, t) { t = ""; while ((getline l < f) > 0) t = t l "\n"; return t }
  function put(tag, text,  i) {  # index/substr, not sub(): the script holds "&"
    if ((i = index($0, tag))) $0 = substr($0, 1, i - 1) text substr($0, i + length(tag))
  }
  BEGIN { css = slurp(css); js = slurp(js) }
  { put("<link rel=\"stylesheet\" href=\"../kw/explorer.css\">", "<style>\n" css "</style>")
    put("<script src=\"../kw/explorer.js\"></script>", "<script>\n" js "</script>"); print }' \
  "$WORK/shared.html" >"$WORK/inlined.html"
check "--html-assets: the same page as --html with its files inline" cmp -s "$WORK/inlined.html" "$WORK/g.html"
"$KW" explain --html-assets ../kw/ "$sasl" >/dev/null 2>&1; rc=$?
check "--html-assets without --html: bad usage (got $rc)" test $rc -eq 2
"$KW" explain --write-html-assets "$WORK/kw2" --json "$sasl" >/dev/null 2>&1; rc=$?
check "--write-html-assets with anything else: bad usage (got $rc)" test $rc -eq 2

# A `kafkawire spy --dump` file: every frame in it, explained as text, JSON or the explorer page.
jg=$(dirname "$0")/../../docs/wire/captures
{
  echo "# kafkawire spy frames: connection direction api_key api_version correlation_id hex"
  echo "3 request 11 9 2 $(tr -d ' \n' <"$jg/joingroup1-request.hex")"
  echo "# a comment"
  echo "3 response 11 9 2 $(tr -d ' \n' <"$jg/joingroup1-response.hex")"
} >"$WORK/spy.dump"
out=$("$KW" explain --file "$WORK/spy.dump" 2>"$WORK/err"); rc=$?
check "spy dump: exit 0 (got $rc; $(cat "$WORK/err"))" test $rc -eq 0
check "spy dump: the request" grep -q '^frame 1  client #3 -> broker  request JoinGroup v9 corr=2' <<<"$out"
check "spy dump: the response read as JoinGroup v9" grep -q 'MEMBER_ID_REQUIRED' <<<"$out"
check "spy dump --json: a line per frame" test "$("$KW" explain --json --file "$WORK/spy.dump" | wc -l)" -eq 2
"$KW" explain --html "$WORK/spy.html" --file "$WORK/spy.dump" 2>"$WORK/err"; rc=$?
check "spy dump --html: exit 0 (got $rc)" test $rc -eq 0
check "spy dump --html: both frames" test "$(grep -c '<script id="kw-f[0-9]' "$WORK/spy.html")" -eq 2
echo "3 request 11 9" >>"$WORK/spy.dump"
"$KW" explain --file "$WORK/spy.dump" >/dev/null 2>"$WORK/err"; rc=$?
check "spy dump with a broken line: exit 2 (got $rc)" test $rc -eq 2
check "spy dump with a broken line: names it" grep -q 'spy dump line 5: not' "$WORK/err"

if [ $failures -ne 0 ]; then echo "$failures checks failed"; exit 1; fi
echo "explain on captures: all checks passed"
