#!/usr/bin/env python3
"""`kafkawire explain --html` in a real browser (Debian's chromium, headless, driven through the DevTools
protocol over --remote-debugging-pipe; Python standard library only; no broker).

For a Fetch v18 exchange whose response holds a zstd record batch, a Metadata v13 exchange and two JoinGroup
v9 exchanges (the captured frames of docs/wire/captures/, put into pcap files as a capture tool would write
them), it writes the page with `kafkawire explain --html` and checks, in the browser, for every frame:
  - selecting each field node (a click on its row) highlights exactly the bytes `explain --json` gives for
    it (its offset and length, in its space: the frame or a decompressed block), no more, no fewer;
  - selecting each byte (a click on its hex cell) selects the deepest node of `explain --json` holding it;
  - hovering a field highlights its bytes; arrow keys move the selection; the search box finds a field.
The Metadata page is checked a second time as written with `--html-assets` (its script and style loaded
from files that `explain --write-html-assets` wrote, as the frames of docs/site/ load theirs), and a frame of
docs/site/ is driven too.
A screenshot of each page is written to the output directory (next to the test's log). Then it writes the
page of a ~5 MB capture and measures, in the same headless browser, the first contentful paint (the paint
timing entry of the Performance API, from navigation start) and when the page's script had drawn the
conversation and the first frame (body[data-ready], performance.now() at the end of the script).

  test_explorer_browser.py <kafkawire> <docs/wire/captures> <output dir>
Exit 77 (skipped) when there is no chromium: tools/setup installs Debian's package, or set CHROMIUM to its path.
"""
import base64
import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

failures = 0


def check(what, ok, detail=""):
    global failures
    if not ok:
        failures += 1
        print("FAIL: " + what + (": " + detail if detail else ""), file=sys.stderr)
    return ok


# --------------------------------------------------------------------------------------------- captures

def frame_bytes(path):
    with open(path) as f:
        return bytes.fromhex(f.read())


def pcap(exchanges):
    """A pcap file (Ethernet, IPv4, TCP) of one connection: SYN, SYN-ACK, then each frame in its own
    segments (at most 60000 bytes each). exchanges: a list of (from_client, frame bytes)."""
    client, server = (bytes([127, 0, 0, 1]), 50000), (bytes([127, 0, 0, 1]), 9092)
    seq = {True: 1000, False: 5000}
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
    t = [0]

    def packet(from_client, flags, payload):
        (sip, sport), (dip, dport) = (client, server) if from_client else (server, client)
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq[from_client], seq[not from_client], 5 << 4, flags,
                          65535, 0, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0, 64, 6, 0, sip, dip)
        eth = b"\x00" * 12 + b"\x08\x00"
        data = eth + ip + tcp + payload
        t[0] += 1
        out.append(struct.pack("<IIII", t[0] // 1000, (t[0] % 1000) * 1000, len(data), len(data)) + data)
        seq[from_client] = (seq[from_client] + len(payload) + (1 if flags & 2 else 0)) & 0xFFFFFFFF

    packet(True, 0x02, b"")
    packet(False, 0x12, b"")
    for from_client, frame in exchanges:
        for i in range(0, len(frame), 60000):
            packet(from_client, 0x18, frame[i:i + 60000])
    return b"".join(out)


def with_corr(frame, corr, request):
    at = 8 if request else 4
    return frame[:at] + struct.pack(">i", corr) + frame[at + 4:]


CRC_TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC_TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    table = CRC_TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)  # zigzag
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def batch(base_offset, count, value_size):
    records = bytearray()
    for i in range(count):
        value = bytes((i + j) % 26 + 97 for j in range(value_size))
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(value)) + value + varint(0)
        records += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, count - 1, 1795688610182, 1795688610182, -1, -1, -1, count) + records
    after_length = struct.pack(">ib", 0, 2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return struct.pack(">qi", base_offset, len(after_length)) + after_length


def big_fetch_response(template, corr, base_offset, batches, count, value_size):
    """The captured Fetch v18 response with its records replaced by `batches` batches of `count` records."""
    records = b"".join(batch(base_offset + b * count, count, value_size) for b in range(batches))
    body = template[4:72] + uvarint(len(records) + 1) + records + template[273:]
    return with_corr(struct.pack(">i", len(body)) + body, corr, False)


# ------------------------------------------------------------------------------------- DevTools protocol

class Browser:
    """Chromium headless with the DevTools protocol on fds 3 (commands in) and 4 (answers out)."""

    def __init__(self, binary, profile):
        # The child's ends are moved above 10 first, so that putting them on 3 and 4 overwrites neither.
        r, self.to_browser = os.pipe()
        self.from_browser, w = os.pipe()
        to_browser_r, from_browser_w = fcntl.fcntl(r, fcntl.F_DUPFD, 10), fcntl.fcntl(w, fcntl.F_DUPFD, 10)
        os.close(r)
        os.close(w)

        def fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.log = open(os.path.join(profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
             "--user-data-dir=" + profile, "about:blank"],
            close_fds=False, preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=self.log)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.buffer = b""
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self.read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(method + ": " + json.dumps(m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def read(self, deadline):
        while b"\0" not in self.buffer:
            if time.time() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buffer += chunk
        msg, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(msg)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self.read(deadline))

    def open_page(self):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1500, "height": 900, "deviceScaleFactor": 1, "mobile": False})

    def navigate(self, url, timeout=60):
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", timeout)

    def eval(self, expression, timeout=120):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      timeout=timeout)
        if "exceptionDetails" in r:
            raise RuntimeError("in the page: " + json.dumps(r["exceptionDetails"])[:2000])
        return r["result"].get("value")

    def screenshot(self, path):
        png = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# The driver, run in the page: for frame i, clicks every field row and reads which byte cells are
# highlighted, then clicks every byte cell of each space and reads which row is selected. Only what a
# user does (clicks, keys) and what the page shows (the DOM) are used.
DRIVER = r"""
(async (frame) => {
  const tick = () => new Promise((r) => setTimeout(r, 0));
  document.querySelector('#list .fr[data-frame="' + frame + '"]').click();
  await tick();
  const tree = document.getElementById("tree"), grid = document.getElementById("grid");
  if (tree.dataset.frame !== String(frame)) return {error: "frame " + frame + " not shown"};
  const rowOf = (p) => tree.querySelector('.n[data-path="' + p + '"]');
  rowOf("0").click();
  tree.dispatchEvent(new KeyboardEvent("keydown", {key: "*", bubbles: true}));  // open every node
  const ranges = (cells) => {
    const os = Array.from(cells, (c) => +c.dataset.o).sort((a, b) => a - b);
    const out = [];
    for (const o of os) {
      if (out.length && out[out.length - 1][1] === o) out[out.length - 1][1] = o + 1;
      else if (!out.length || out[out.length - 1][1] < o) out.push([o, o + 1]);
    }
    return out;
  };
  const nodes = {};
  for (const r of tree.querySelectorAll(".n[data-path]")) {
    r.click();
    nodes[r.dataset.path] = {block: +grid.dataset.block, hex: ranges(grid.querySelectorAll(".b.sel")),
                             ascii: ranges(grid.querySelectorAll(".a.sel"))};
  }
  // Every byte of every space: show the space (click the first node of it), then click each cell.
  const bytes = {};
  const spaces = new Set(Object.values(nodes).map((n) => n.block));
  for (const b of spaces) {
    const first = Object.keys(nodes).find((p) => nodes[p].block === b);
    rowOf(first).click();
    const got = {};
    for (const c of Array.from(grid.querySelectorAll(".b[data-o]"))) {
      c.click();
      const sel = tree.querySelector(".n.sel");
      got[c.dataset.o] = sel ? sel.dataset.path : null;
    }
    bytes[b] = got;
  }
  // Hover: the first leaf row's bytes are painted as hovered.
  rowOf("0").click();
  const leaf = Array.from(tree.querySelectorAll(".n[data-path]")).find((r) => !r.nextElementSibling ||
      r.nextElementSibling.getAttribute("role") !== "group");
  leaf.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
  const hover = {path: leaf.dataset.path, hex: ranges(grid.querySelectorAll(".b.hov"))};
  // Hovering a byte marks the row of its field.
  const cell = grid.querySelector('.b[data-o="' + nodes[leaf.dataset.path].hex[0][0] + '"]');
  leaf.dispatchEvent(new MouseEvent("mouseleave"));
  tree.dispatchEvent(new MouseEvent("mouseleave"));
  cell.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
  const rows = Array.from(tree.querySelectorAll(".n.hov"), (r) => r.dataset.path);
  hover.rowOfByte = rows;
  grid.dispatchEvent(new MouseEvent("mouseleave"));
  leaf.dispatchEvent(new MouseEvent("mouseleave"));
  tree.dispatchEvent(new MouseEvent("mouseleave"));
  // Keys: from the root (selected above), ArrowDown selects its first child, ArrowLeft goes back to the root.
  tree.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowDown", bubbles: true}));
  const down = tree.querySelector(".n.sel").dataset.path;
  tree.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowLeft", bubbles: true}));
  const left = tree.querySelector(".n.sel").dataset.path;
  return {nodes, bytes, hover, keys: {down, left}};
})
"""

SEARCH = r"""
(async (frame, q) => {
  document.querySelector('#list .fr[data-frame="' + frame + '"]').click();
  const box = document.getElementById("search");
  box.value = q;
  box.dispatchEvent(new Event("input"));
  box.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
  const sel = document.querySelector("#tree .n.sel");
  return {hits: document.getElementById("hits").textContent, name: sel ? sel.querySelector(".nm").textContent : null,
          value: sel && sel.querySelector(".val") ? sel.querySelector(".val").textContent : null,
          detail: document.getElementById("detail").textContent};
})
"""


def flatten(node, path="0", out=None):
    out = {} if out is None else out
    out[path] = node
    for i, c in enumerate(node.get("children", [])):
        flatten(c, path + "." + str(i), out)
    return out


def expected_deepest(nodes, block, o):
    best, depth = None, -1
    for p, n in nodes.items():
        if n.get("block", 0) == block and n["length"] > 0 and n["offset"] <= o < n["offset"] + n["length"]:
            d = p.count(".")
            if d > depth:
                best, depth = p, d
    return best


def check_page(browser, kw, name, capture, outdir, work, searches, assets=None):
    """assets: the page is written with --html-assets ASSETS (a prefix relative to outdir), and the
    explorer's files with --write-html-assets there."""
    cap = os.path.join(work, name + ".pcap")
    with open(cap, "wb") as f:
        f.write(capture)
    page = os.path.join(outdir, name + ".html")
    shared = ["--html-assets", assets] if assets else []
    r = subprocess.run([kw, "explain", "--html", page, "--file", cap] + shared, capture_output=True, text=True)
    if not check(name + ": explain --html exits 0", r.returncode == 0, r.stderr):
        return
    with open(page, encoding="utf-8") as f:
        html = f.read()
    if assets:
        r = subprocess.run([kw, "explain", "--write-html-assets", os.path.join(outdir, assets)], capture_output=True,
                           text=True)
        check(name + ": explain --write-html-assets exits 0", r.returncode == 0, r.stderr)
        loads = ['<link rel="stylesheet" href="%sexplorer.css">' % assets, '<script src="%sexplorer.js"></script>' % assets]
        for tag in loads:
            check(name + ": the page loads " + tag, html.count(tag) == 1)
            html = html.replace(tag, "")
        with open(os.path.join(outdir, assets, "explorer.js"), encoding="utf-8") as f:
            check(name + ": the page does not hold the script too", f.read()[:200] not in html)
    for bad in ("http://", "https://", "<link", " src=", "@import", "url("):
        check(name + ": the page fetches nothing " + ("else " if assets else "") + "(" + bad + ")", bad not in html)
    r = subprocess.run([kw, "explain", "--json", "--file", cap], capture_output=True, text=True)
    check(name + ": explain --json exits 0", r.returncode == 0, r.stderr)
    frames = [json.loads(line) for line in r.stdout.splitlines()]

    browser.navigate("file://" + page)
    browser.eval("new Promise((r) => { const w = () => document.body.dataset.ready ? r() : setTimeout(w, 10); w(); })")
    checked_nodes = checked_bytes = 0
    for i, fr in enumerate(frames):
        what = "%s frame %d (%s %s v%d)" % (name, i + 1, fr["direction"], fr["api_key"], fr["api_version"])
        got = browser.eval(DRIVER + "(%d)" % i)
        if not check(what + ": driven", "error" not in got, str(got.get("error"))):
            continue
        nodes = flatten(fr["tree"])
        check(what + ": a row for every node of explain --json", set(got["nodes"]) == set(nodes),
              "missing %s, extra %s" % (sorted(set(nodes) - set(got["nodes"]))[:5],
                                        sorted(set(got["nodes"]) - set(nodes))[:5]))
        for p, n in nodes.items():
            g = got["nodes"].get(p)
            if g is None:
                continue
            want = [[n["offset"], n["offset"] + n["length"]]] if n["length"] else []
            ok = g["block"] == n.get("block", 0) and g["hex"] == want and g["ascii"] == want
            check("%s: node %s (%s) highlights bytes %s of space %d" % (what, p, n["name"], want, n.get("block", 0)),
                  ok, "got %s of space %d" % (g["hex"], g["block"]))
            checked_nodes += 1
        spaces = {n.get("block", 0): n for n in reversed(list(nodes.values()))}
        for b, space_root in spaces.items():
            got_b = got["bytes"].get(str(b), {})
            size = space_root["offset"] + space_root["length"] if b else fr["tree"]["length"]
            check("%s: every byte of space %d has a cell" % (what, b), len(got_b) == size,
                  "%d cells for %d bytes" % (len(got_b), size))
            for o in range(size):
                want = expected_deepest(nodes, b, o)
                ok = got_b.get(str(o)) == want
                check("%s: byte %d of space %d selects %s" % (what, o, b, want), ok, "got %s" % got_b.get(str(o)))
                checked_bytes += 1
        h = got["hover"]
        hn = nodes[h["path"]]
        check(what + ": hovering a byte marks its field's row", h["rowOfByte"] == [h["path"]], str(h))
        check(what + ": hovering a field paints its bytes",
              h["hex"] == ([[hn["offset"], hn["offset"] + hn["length"]]] if hn["length"] else []), str(h))
        check(what + ": ArrowDown from the root selects its first child, ArrowLeft goes back",
              got["keys"] == {"down": "0.0", "left": "0"}, str(got["keys"]))
    for frame, q, want_name, *shown in searches:
        s = browser.eval(SEARCH + "(%d, %s)" % (frame, json.dumps(q)))
        check("%s: search %r in frame %d selects %s" % (name, q, frame + 1, want_name), s["name"] == want_name,
              str(s))
        for text in shown:
            check("%s: %s's details show %r" % (name, want_name, text), text in s["detail"], s["detail"])
    shot = os.path.join(outdir, name + ".png")
    browser.screenshot(shot)
    print("%s: %d frames, %d nodes and %d bytes checked; screenshot %s" % (name, len(frames), checked_nodes,
                                                                           checked_bytes, shot))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    kw, captures, outdir = sys.argv[1:]
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: no chromium to run the wire explorer in (tools/setup installs it; or set CHROMIUM to its path)")
        return 77
    os.makedirs(outdir, exist_ok=True)
    outdir = os.path.abspath(outdir)
    cap = lambda n: frame_bytes(os.path.join(captures, n + ".hex"))
    work = tempfile.mkdtemp(prefix="kw-explorer-")
    browser = Browser(chromium, work)
    try:
        browser.open_page()
        check_page(browser, kw, "fetch-v18-zstd",
                   pcap([(True, cap("fetch-request")), (False, cap("fetch-response"))]), outdir, work,
                   [(1, "TopicId", "TopicId"), (1, "HighWatermark", "HighWatermark"), (0, "MaxWaitMs", "MaxWaitMs"),
                    (1, "decompressed records", "decompressed records")])
        check_page(browser, kw, "metadata-v13",
                   pcap([(True, cap("metadata-request")), (False, cap("metadata-response"))]), outdir, work,
                   [(1, "ClusterId", "ClusterId")])
        check_page(browser, kw, "metadata-v13-shared-assets",
                   pcap([(True, cap("metadata-request")), (False, cap("metadata-response"))]), outdir, work,
                   [(1, "ClusterId", "ClusterId")], assets="assets/")
        check_page(browser, kw, "joingroup-v9",
                   pcap([(True, cap("joingroup1-request")), (False, cap("joingroup1-response")),
                         (True, cap("joingroup2-request")), (False, cap("joingroup2-response"))]), outdir, work,
                   [(1, "MEMBER_ID_REQUIRED", "ErrorCode"), (2, "cooperative-sticky", "Name"),
                    (3, "MEMBER_ID_REQUIRED", "ErrorCode"),  # not in frame 4: found in the next frame that has it
                    (0, "GroupInstanceId", "GroupInstanceId", "exists inv5+",
                     "notesv5+: GroupInstanceId (static membership, KIP-345)")])

        # docs/site/: a frame of the guide links each field to where the guide names it.
        site_page = os.path.join(captures, "..", "..", "site", "frames", "fetch-response.html")
        if check("docs/site has the explorer of fetch-response", os.path.exists(site_page)):
            browser.navigate("file://" + os.path.abspath(site_page))
            loaded = browser.eval("""new Promise((r) => { const w = () => document.body.dataset.ready ?
                r(Array.from(document.querySelectorAll('script[src], link[rel=stylesheet]'),
                             (e) => e.getAttribute('src') || e.getAttribute('href'))) : setTimeout(w, 10); w(); })""")
            check("docs/site: the frame runs the site's one explorer.js, styled by its explorer.css",
                  loaded == ["../explorer.css", "../explorer.js"], str(loaded))
            embedded = os.path.join(work, "embedded")
            subprocess.run([kw, "explain", "--write-html-assets", embedded], check=True)
            for asset in ("explorer.js", "explorer.css"):
                with open(os.path.join(embedded, asset), "rb") as f, \
                        open(os.path.join(os.path.dirname(site_page), "..", asset), "rb") as g:
                    check("docs/site: its %s is the one kafkawire embeds" % asset, f.read() == g.read())
            browser.eval(SEARCH + "(0, 'HighWatermark')")
            href = browser.eval("document.querySelector('#detail a') && document.querySelector('#detail a').getAttribute('href')")
            check("docs/site: a field links to the guide", href == "../index.html#:~:text=HighWatermark", str(href))
            guide = os.path.join(os.path.dirname(site_page), "..", "index.html")
            with open(guide, encoding="utf-8") as f:
                check("docs/site: the guide names the field", "HighWatermark" in f.read())
            # The guide opens an example's explorer in place.
            browser.navigate("file://" + os.path.abspath(guide))
            opened = browser.eval("""new Promise((r) => {
                const a = document.querySelector('a.explore[href="frames/fetch-response.html"]');
                a.click();
                const f = a.nextElementSibling;
                if (!f || f.tagName !== 'IFRAME') return r(null);
                f.addEventListener('load', () => { f.scrollIntoView(); r(f.getAttribute('src')); });
            })""")
            check("docs/site: an example's explorer opens in place", opened == "frames/fetch-response.html", str(opened))
            browser.screenshot(os.path.join(outdir, "site.png"))

        # About 5 MB: 1000 Metadata exchanges and 5 Fetch responses of about 900 KB (900 records of 1000 B).
        exchanges, corr = [], 100
        meta_req, meta_resp = cap("metadata-request"), cap("metadata-response")
        fetch_req, fetch_resp = cap("fetch-request"), cap("fetch-response")
        for _ in range(1000):
            corr += 1
            exchanges += [(True, with_corr(meta_req, corr, True)), (False, with_corr(meta_resp, corr, False))]
        for k in range(5):
            corr += 1
            exchanges += [(True, with_corr(fetch_req, corr, True)),
                          (False, big_fetch_response(fetch_resp, corr, k * 900, 9, 100, 1000))]
        big = pcap(exchanges)
        path = os.path.join(work, "big.pcap")
        with open(path, "wb") as f:
            f.write(big)
        page = os.path.join(outdir, "capture-5mb.html")
        t0 = time.time()
        r = subprocess.run([kw, "explain", "--html", page, "--file", path], capture_output=True, text=True)
        written = time.time() - t0
        check("5 MB capture: explain --html exits 0", r.returncode == 0, r.stderr)
        paints = []
        for _ in range(3):
            browser.navigate("about:blank")
            browser.navigate("file://" + page, timeout=120)
            paints.append(browser.eval("""new Promise((r) => { const w = () => {
                const p = performance.getEntriesByName('first-contentful-paint')[0];
                if (p && document.body.dataset.ready) r([p.startTime, +document.body.dataset.ready,
                    performance.getEntriesByType('navigation')[0].loadEventEnd]); else setTimeout(w, 10); }; w(); })"""))
        browser.screenshot(os.path.join(outdir, "capture-5mb.png"))
        fcp = sorted(p[0] for p in paints)[1]
        ready = sorted(p[1] for p in paints)[1]
        load = sorted(p[2] for p in paints)[1]
        print("5 MB capture (%d bytes, %d frames): page %d bytes, written in %.2f s; in headless chromium "
              "(median of 3 loads from file://): first contentful paint %.0f ms, conversation and first frame "
              "drawn %.0f ms, load event %.0f ms" % (len(big), len(exchanges), os.path.getsize(page), written,
                                                     fcp, ready, load))
        check("5 MB capture: first contentful paint under a second", fcp < 1000, "%.0f ms" % fcp)
        # Still usable: the last (largest) frame opens and a byte in its middle selects a record's value.
        got = browser.eval(r"""(async () => {
            const t0 = performance.now();
            const btns = document.querySelectorAll('#list .fr');
            btns[btns.length - 1].click();
            const grid = document.getElementById('grid');
            const size = +document.getElementById('tree').querySelector('.n[data-path="0"]').textContent.match(/\+(\d+)/)[1];
            grid.scrollTop = Math.floor(size / 2 / 16) * 18;
            grid.dispatchEvent(new Event('scroll'));
            const cell = grid.querySelector('.b[data-o="' + (Math.floor(size / 2 / 16) * 16 + 5) + '"]');
            cell.click();
            return {ms: performance.now() - t0, name: document.querySelector('#tree .n.sel .nm').textContent,
                    cells: grid.querySelectorAll('.b').length};
        })()""")
        print("5 MB capture: opening the largest frame and selecting a byte in its middle took %.0f ms (%s; %d byte "
              "cells drawn)" % (got["ms"], got["name"], got["cells"]))
        check("5 MB capture: a byte in the middle of the largest frame selects a record's value",
              got["name"] == "value", str(got))
    finally:
        browser.close()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d checks failed" % failures)
        return 1
    print("wire explorer in chromium: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
