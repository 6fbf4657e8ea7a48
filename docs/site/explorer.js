// The wire explorer of `kafkawire explain --html`: a conversation of Kafka frames, and for the selected
// frame its bytes (offset, hex, ASCII) beside its field tree. The page holds the data as JSON:
//   <script id="kw-data">   {"title", "frames": [{"n","t","from","to","dir","api","name","ver","corr","size","ok"}]}
//   <script id="kw-f{i}">   frame i's tree, exactly what `kafkawire explain --json` prints for it
// A frame's tree is parsed only when the frame is selected, tree rows are made only when their parent is
// opened (500 at a time), and the byte grid draws only the rows near its scroll position, so a capture of
// many megabytes opens as fast as a small one.
//
// Selecting or hovering a field highlights its bytes; selecting a byte selects the deepest field that holds
// it. Bytes of a decompressed record block are shown in a grid of their own (offsets marked ~).
(function () {
  "use strict";
  const ROW = 18;       // px per grid row
  const PER = 16;       // bytes per grid row
  const MARGIN = 120;   // grid rows drawn above and below the visible ones
  const CHUNK = 500;    // tree rows made at a time under one parent

  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("kw-data").textContent);
  const frames = data.frames;
  const gridEl = $("grid"), treeEl = $("tree"), listEl = $("list");
  const spacer = document.createElement("div");
  gridEl.appendChild(spacer);

  let cur = -1;          // the frame shown
  let root = null;       // its tree
  let blocks = [];       // per space: {root, size, bytes, known (0 unknown, 1 known, 2 hidden)}
  let block = 0;         // the space the grid shows
  let selected = null, hovered = null;
  let cursor = -1;       // the byte the grid's keyboard cursor is on
  let win = {first: 0, last: 0, cells: []};  // drawn rows; cells[o - first * PER] = [hex, ascii]
  let hits = [], hit = -1;

  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]));
  const spaceOf = (n) => n.block || 0;
  const plural = (n, one) => n + " " + one + (n === 1 ? "" : "s");

  // ------------------------------------------------------------------------------------------ model

  function prepare(tree) {
    blocks = [];
    const walk = (n, parent, path, depth) => {
      n.parent = parent;
      n.path = path;
      n.depth = depth;
      const b = spaceOf(n);
      if (!blocks[b] && (!parent || spaceOf(parent) !== b)) blocks[b] = {root: n, size: n.offset + n.length};
      if (n.children) n.children.forEach((c, i) => walk(c, n, path + "." + i, depth + 1));
    };
    walk(tree, null, "0", 0);
    for (const b of blocks) if (b) { b.bytes = new Uint8Array(b.size); b.known = new Uint8Array(b.size); }
    const fill = (n) => {
      if (n.children) { n.children.forEach(fill); return; }
      const b = blocks[spaceOf(n)];
      if (!b) return;
      if (n.hidden) { b.known.fill(2, n.offset, Math.min(b.size, n.offset + n.length)); return; }
      const h = n.hex || "";
      const nib = (c) => (c <= 57 ? c - 48 : c - 87);  // '0'-'9', 'a'-'f'
      const end = Math.min(h.length >> 1, b.size - n.offset);
      for (let i = 0; i < end; i++)
        b.bytes[n.offset + i] = (nib(h.charCodeAt(2 * i)) << 4) | nib(h.charCodeAt(2 * i + 1));
      if (end > 0) b.known.fill(1, n.offset, n.offset + end);
    };
    fill(tree);
  }

  // The deepest node of space `b` holding byte o.
  function deepest(b, o) {
    let n = blocks[b].root;
    for (;;) {
      const cs = n.children;
      if (!cs) return n;
      let next = null;
      for (const c of cs)
        if (spaceOf(c) === b && c.length > 0 && o >= c.offset && o < c.offset + c.length) { next = c; break; }
      if (!next) return n;
      n = next;
    }
  }

  // ------------------------------------------------------------------------------------------- grid

  function showBlock(b) {
    if (b === block && win.cells.length) return;
    block = b;
    win = {first: 0, last: 0, cells: []};
    const bl = blocks[b];
    const head = $("gridhead");
    head.className = b ? "dec" : "";
    head.textContent = b
      ? "decompressed records, block " + b + ": " + plural(bl.size, "byte") + " (offsets ~ count from its start)"
      : "frame " + frames[cur].n + ": " + plural(bl.size, "byte");
    gridEl.dataset.block = b;
    spacer.style.height = Math.ceil(bl.size / PER) * ROW + "px";
    gridEl.scrollTop = 0;
    drawGrid(true);
  }

  function drawGrid(force) {
    const bl = blocks[block];
    const rows = Math.ceil(bl.size / PER);
    const top = Math.floor(gridEl.scrollTop / ROW);
    const seen = Math.ceil((gridEl.clientHeight || 600) / ROW);
    // The rows drawn still reach well past the visible ones on both sides (or to the grid's ends).
    const above = win.first === 0 || top - win.first > MARGIN / 4;
    const below = win.last === rows || win.last - (top + seen) > MARGIN / 4;
    if (!force && win.cells.length && above && below) return;
    const first = Math.max(0, top - MARGIN), last = Math.min(rows, top + seen + MARGIN);
    for (const r of gridEl.querySelectorAll(".row")) r.remove();
    const frag = document.createDocumentFragment();
    const cells = [];
    const mark = block ? "~" : "";
    for (let r = first; r < last; r++) {
      const row = document.createElement("div");
      row.className = "row";
      row.style.top = r * ROW + "px";
      let hex = "", asc = "";
      for (let i = 0; i < PER; i++) {
        const o = r * PER + i;
        if (o >= bl.size) break;
        const k = bl.known[o], v = bl.bytes[o];
        const h = k === 1 ? (v < 16 ? "0" : "") + v.toString(16) : k === 2 ? "··" : "??";
        const a = k === 1 ? (v >= 32 && v < 127 ? esc(String.fromCharCode(v)) : ".") : "·";
        hex += '<span class="b' + (k === 1 ? "" : " h") + '" data-o="' + o + '">' + h + "</span>";
        asc += '<span class="a' + (k === 1 ? "" : " h") + '" data-o="' + o + '">' + a + "</span>";
      }
      row.innerHTML = '<span class="o">' + mark + (r * PER).toString(10).padStart(6, " ") + "</span>" + hex +
                      '<span class="asc">' + asc + "</span>";
      const bs = row.querySelectorAll(".b"), as = row.querySelectorAll(".a");
      for (let i = 0; i < bs.length; i++) cells.push([bs[i], as[i]]);
      frag.appendChild(row);
    }
    gridEl.appendChild(frag);
    win = {first, last, cells};
    paint(selected, "sel", true);
    paint(hovered, "hov", true);
    if (cursor >= 0) paintRange(cursor, 1, "cur", true);
  }

  function paintRange(offset, length, cls, on) {
    const lo = Math.max(offset, win.first * PER), hi = Math.min(offset + length, win.last * PER);
    for (let o = lo; o < hi; o++) {
      const c = win.cells[o - win.first * PER];
      if (!c) continue;
      c[0].classList.toggle(cls, on);
      c[1].classList.toggle(cls, on);
    }
  }
  function paint(n, cls, on) {
    if (n && spaceOf(n) === block) paintRange(n.offset, n.length, cls, on);
  }

  function scrollGridTo(o) {
    const y = Math.floor(o / PER) * ROW;
    if (y < gridEl.scrollTop || y + ROW > gridEl.scrollTop + gridEl.clientHeight)
      gridEl.scrollTop = Math.max(0, y - gridEl.clientHeight / 3);
    drawGrid(false);
  }

  // ------------------------------------------------------------------------------------------- tree

  function label(n) {
    const off = (spaceOf(n) ? "~" : "@") + n.offset + " +" + n.length;
    return '<span class="tg">' + (n.children ? (n.open ? "▾" : "▸") : "") + "</span>" +
           '<span class="nm">' + esc(n.name) + "</span>" +
           '<span class="ty">' + esc(n.type) + "</span>" +
           (n.versions ? '<span class="ver">' + esc(n.versions) + "</span>" : "") +
           (n.meaning ? '<span class="mn" aria-hidden="true">•</span>' : "") +
           (n.value ? '<span class="val">' + esc(n.value) + "</span>" : "") +
           '<span class="off' + (spaceOf(n) ? " blk" : "") + '">' + off + "</span>";
  }

  function row(n) {
    const el = document.createElement("div");
    el.className = "n" + (n.error ? " err" : "");
    if (n.meaning) el.title = n.meaning;
    el.dataset.path = n.path;
    el.setAttribute("role", "treeitem");
    el.style.paddingLeft = 8 + n.depth * 14 + "px";
    el.innerHTML = label(n);
    el.node = n;
    n.el = el;
    return el;
  }

  // Makes the rows of n's children up to index `upto` (at least CHUNK).
  function showChildren(n, upto) {
    if (!n.children) return;
    if (!n.box) {
      n.box = document.createElement("div");
      n.box.setAttribute("role", "group");
      n.el.after(n.box);
      n.shown = 0;
    }
    const want = Math.min(n.children.length, Math.max(upto + 1, n.shown + CHUNK));
    if (want <= n.shown) return;
    const more = n.box.querySelector(":scope > .more");
    if (more) more.remove();
    const frag = document.createDocumentFragment();
    for (let i = n.shown; i < want; i++) {
      frag.appendChild(row(n.children[i]));
    }
    n.box.appendChild(frag);
    n.shown = want;
    if (n.shown < n.children.length) {
      const m = document.createElement("div");
      m.className = "n more";
      m.style.paddingLeft = 8 + (n.depth + 1) * 14 + "px";
      m.textContent = "… " + (n.children.length - n.shown) + " more (click to show)";
      m.moreOf = n;
      n.box.appendChild(m);
    }
  }

  function setOpen(n, open) {
    if (!n.children || !n.el) return;
    n.open = open;
    if (open) showChildren(n, 0);
    if (n.box) n.box.style.display = open ? "" : "none";
    n.el.firstChild.textContent = open ? "▾" : "▸";
  }

  // Makes the row of n exist and be visible: its ancestors open.
  function reveal(n) {
    const chain = [];
    for (let p = n.parent; p; p = p.parent) chain.unshift(p);
    chain.forEach((p, i) => {
      setOpen(p, true);
      showChildren(p, p.children.indexOf(chain[i + 1] || n));
    });
  }

  function detail(n) {
    const d = $("detail");
    if (!n) { d.innerHTML = ""; return; }
    const names = [];
    for (let p = n; p && p.parent; p = p.parent) names.unshift(p.name);
    let hex = "";
    const b = blocks[spaceOf(n)];
    if (n.hidden) hex = "(not shown: may hold a password or token)";
    else {
      for (let o = n.offset; o < n.offset + n.length && o < n.offset + 256; o++)
        hex += b.known[o] === 1 ? (b.bytes[o] < 16 ? "0" : "") + b.bytes[o].toString(16) + " " : "?? ";
      if (n.length > 256) hex += "… (" + plural(n.length, "byte") + ")";
    }
    d.innerHTML =
      '<div><span class="k">field</span><b>' + esc(names.join(" / ") || n.name) + "</b></div>" +
      '<div><span class="k">wire type</span><code>' + esc(n.type) + "</code>" +
      (n.versions ? ' &nbsp; <span class="k">exists in</span>' + esc(n.versions) : "") + "</div>" +
      (n.value ? '<div><span class="k">value</span>' + esc(n.value) + "</div>" : "") +
      (n.meaning ? '<div class="mean"><span class="k">notes</span><span>' + esc(n.meaning).replace(/\n/g, "<br>") +
                   "</span></div>" : "") +
      '<div><span class="k">bytes</span>' + (spaceOf(n) ? "~" : "") + n.offset + " to " +
      (spaceOf(n) ? "~" : "") + (n.offset + n.length) + " (" + plural(n.length, "byte") + ")" +
      (spaceOf(n) ? ", in decompressed block " + spaceOf(n) : "") + "</div>" +
      '<div><span class="k">hex</span><span class="hex">' + esc(hex) + "</span></div>" +
      (data.guide && !/^\[\d+\]$/.test(n.name) && n.parent
        ? '<div><span class="k">guide</span><a target="_blank" href="' + esc(data.guide) + "#:~:text=" +
          encodeURIComponent(n.name).replace(/-/g, "%2D") + '">where the wire-format guide names ' + esc(n.name) + "</a></div>"
        : "");
  }

  function select(n, how) {
    if (!n) return;
    how = how || {};
    if (selected) {
      paint(selected, "sel", false);
      if (selected.el) {
        selected.el.classList.remove("sel");
        selected.el.removeAttribute("aria-selected");
      }
    }
    selected = n;
    reveal(n);
    n.el.classList.add("sel");
    n.el.setAttribute("aria-selected", "true");
    showBlock(spaceOf(n));
    if (how.scrollGrid !== false) scrollGridTo(n.offset);
    paint(n, "sel", true);
    if (how.scrollTree !== false) n.el.scrollIntoView({block: "nearest"});
    detail(n);
  }

  function hover(n) {
    if (hovered === n) return;
    paint(hovered, "hov", false);
    if (hovered && hovered.el) hovered.el.classList.remove("hov");
    hovered = n;
    paint(hovered, "hov", true);
    if (hovered && hovered.el) hovered.el.classList.add("hov");
  }

  function selectByte(o) {
    const b = blocks[block];
    if (o < 0 || o >= b.size) return;
    if (cursor >= 0) paintRange(cursor, 1, "cur", false);
    cursor = o;
    select(deepest(block, o), {scrollGrid: false});
    scrollGridTo(o);
    paintRange(cursor, 1, "cur", true);
  }

  // The row after / before n among the rows shown.
  function nextRow(n) {
    if (n.children && n.open && n.children.length) return n.children[0];
    for (let p = n; p.parent; p = p.parent) {
      const sib = p.parent.children, i = sib.indexOf(p);
      if (i + 1 < sib.length) { showChildren(p.parent, i + 1); return sib[i + 1]; }
    }
    return null;
  }
  function prevRow(n) {
    if (!n.parent) return null;
    const sib = n.parent.children, i = sib.indexOf(n);
    if (i === 0) return n.parent;
    let p = sib[i - 1];
    while (p.children && p.open && p.children.length) { showChildren(p, p.children.length - 1); p = p.children[p.children.length - 1]; }
    return p;
  }
  function openAll(n) {
    if (!n.children) return;
    setOpen(n, true);
    showChildren(n, n.children.length - 1);
    n.children.forEach(openAll);
  }

  // ------------------------------------------------------------------------------------------ frames

  function showFrame(i) {
    if (i < 0 || i >= frames.length || i === cur) return;
    if (cur >= 0) { const old = listEl.querySelector('.fr[data-frame="' + cur + '"]'); if (old) old.classList.remove("cur"); }
    cur = i;
    const btn = listEl.querySelector('.fr[data-frame="' + i + '"]');
    if (btn) { btn.classList.add("cur"); btn.scrollIntoView({block: "nearest"}); }
    const f = frames[i];
    const src = $("kw-f" + i);
    root = src ? JSON.parse(src.textContent) : null;
    selected = hovered = null;
    cursor = -1;
    hits = []; hit = -1; searched = null; $("hits").textContent = "";
    treeEl.innerHTML = "";
    treeEl.dataset.frame = i;
    $("what").textContent = "frame " + f.n + ": " + f.dir + " " + (f.name ? f.name + " v" + f.ver : "") +
                            (f.dir === "body" ? "" : " corr " + f.corr) + ", " + plural(f.size, "byte") +
                            (f.from ? ", " + f.from + " → " + f.to : "");
    if (!root) {
      treeEl.innerHTML = '<div id="empty">its request is not in the capture, so its API and version are unknown</div>';
      blocks = [{root: null, size: 0, bytes: new Uint8Array(0), known: new Uint8Array(0)}];
      block = -1; showBlock(0); detail(null);
      return;
    }
    prepare(root);
    treeEl.appendChild(row(root));
    setOpen(root, true);
    for (const c of root.children || []) if (c.children && c.children.length < 40) setOpen(c, true);
    block = -1;
    select(root);
    if (document.activeElement !== $("search")) treeEl.focus({preventScroll: true});
  }

  function buildList() {
    // Each request with the response that has its correlation id on the same connection.
    const open = new Map(), exchanges = [];
    frames.forEach((f, i) => {
      if (f.dir === "body") {
        exchanges.push({body: i, f});
      } else if (f.dir === "request") {
        const ex = {req: i, resp: -1, f};
        open.set(f.from + ">" + f.to + "#" + f.corr, ex);
        exchanges.push(ex);
      } else {
        const key = f.to + ">" + f.from + "#" + f.corr;
        const ex = open.get(key);
        if (ex && ex.resp < 0) { ex.resp = i; open.delete(key); } else exchanges.push({req: -1, resp: i, f});
      }
    });
    const btn = (i, what) => {
      if (i < 0) return '<span class="meta">(no ' + what + " in the capture)</span>";
      const f = frames[i];
      return '<span class="fr' + (f.ok ? "" : " bad") + '" data-frame="' + i + '" title="frame ' + f.n + '">' + what +
             " " + f.size + " B</span>";
    };
    const html = [];
    for (const ex of exchanges) {
      const f = ex.f;
      html.push('<div class="ex"><div><span class="api">' + esc(f.name || (f.api < 0 ? "API unknown" : "api " + f.api)) +
                "</span>" + (f.ver >= 0 ? " v" + f.ver : "") +
                (f.dir === "body" ? "" : ' <span class="meta">corr ' + f.corr + "</span>") + "</div>" +
                (f.from ? '<div class="meta">#' + f.n + " " + esc(f.dir === "request" ? f.from + " → " + f.to : f.to + " → " + f.from) +
                          (f.t >= 0 ? ", " + f.t.toFixed(6) + " s" : "") + "</div>" : "") +
                "<div>" + (ex.f.dir === "body" ? btn(ex.body, "body") : btn(ex.req, "request") + btn(ex.resp, "response")) +
                "</div></div>");
    }
    listEl.innerHTML = html.join("");
  }

  // ------------------------------------------------------------------------------------------ search

  let searched = null;  // the query hits are for
  function search(q) {
    searched = q;
    hits = []; hit = -1;
    for (const e of treeEl.querySelectorAll(".hit")) e.classList.remove("hit");
    q = q.trim().toLowerCase();
    if (!q || !root) { $("hits").textContent = ""; return; }
    const walk = (n) => {
      if (n.name.toLowerCase().includes(q) || (n.value && n.value.toLowerCase().includes(q))) hits.push(n);
      if (n.children) n.children.forEach(walk);
    };
    walk(root);
    $("hits").textContent = hits.length ? hits.length + (hits.length === 1 ? " match" : " matches") : "no match in this frame";
  }
  // No match in this frame: the next frame (after this one, wrapping) whose tree holds the text.
  function searchOtherFrames(q) {
    const want = q.trim().toLowerCase();
    if (!want) return false;
    for (let k = 1; k < frames.length; k++) {
      const i = (cur + k) % frames.length, src = $("kw-f" + i);
      if (!src || !src.textContent.toLowerCase().includes(want)) continue;
      showFrame(i);
      search(q);
      if (hits.length) return true;
    }
    return false;
  }
  function nextHit(step) {
    if (!hits.length && !(searched !== null && searchOtherFrames(searched))) return;
    hit = (hit + step + hits.length) % hits.length;
    const n = hits[hit];
    select(n);
    n.el.classList.add("hit");
    $("hits").textContent = hit + 1 + " of " + hits.length;
  }

  // ------------------------------------------------------------------------------------------ events

  treeEl.addEventListener("click", (e) => {
    const r = e.target.closest(".n");
    if (!r) return;
    if (r.moreOf) { showChildren(r.moreOf, r.moreOf.shown + CHUNK - 1); return; }
    const n = r.node;
    if (e.target.classList.contains("tg") || (n === selected && n.children)) setOpen(n, !n.open);
    select(n, {scrollTree: false});
  });
  treeEl.addEventListener("mouseover", (e) => {
    const r = e.target.closest(".n");
    hover(r && r.node ? r.node : null);
  });
  treeEl.addEventListener("mouseleave", () => hover(null));
  treeEl.addEventListener("keydown", (e) => {
    const n = selected;
    if (!n) return;
    let to = null;
    switch (e.key) {
      case "ArrowDown": to = nextRow(n); break;
      case "ArrowUp": to = prevRow(n); break;
      case "ArrowRight":
        if (n.children && !n.open) setOpen(n, true); else if (n.children) to = n.children[0];
        break;
      case "ArrowLeft":
        if (n.children && n.open) setOpen(n, false); else to = n.parent;
        break;
      case "Enter": case " ": if (n.children) setOpen(n, !n.open); break;
      case "Home": to = root; break;
      case "*": openAll(n); break;
      default: return;
    }
    e.preventDefault();
    if (to) select(to);
  });

  gridEl.addEventListener("scroll", () => drawGrid(false));
  gridEl.addEventListener("click", (e) => {
    const c = e.target.closest("[data-o]");
    if (c) { selectByte(+c.dataset.o); gridEl.focus({preventScroll: true}); }
  });
  gridEl.addEventListener("mouseover", (e) => {
    const c = e.target.closest("[data-o]");
    const n = c ? deepest(block, +c.dataset.o) : null;
    hover(n);
  });
  gridEl.addEventListener("mouseleave", () => hover(null));
  gridEl.addEventListener("keydown", (e) => {
    const step = {ArrowRight: 1, ArrowLeft: -1, ArrowDown: PER, ArrowUp: -PER, PageDown: PER * 16, PageUp: -PER * 16}[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const from = cursor >= 0 ? cursor : selected && spaceOf(selected) === block ? selected.offset : 0;
    selectByte(Math.min(blocks[block].size - 1, Math.max(0, from + step)));
  });

  listEl.addEventListener("click", (e) => {
    const b = e.target.closest(".fr");
    if (b) showFrame(+b.dataset.frame);
  });

  const box = $("search");
  let timer = 0;
  box.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => search(box.value), 120); });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(timer);
      if (searched !== box.value) search(box.value);
      nextHit(e.shiftKey ? -1 : 1);
    } else if (e.key === "Escape") {
      box.value = ""; search(""); treeEl.focus();
    }
  });

  document.addEventListener("keydown", (e) => {
    if (e.target === box) return;
    if (e.key === "/") { e.preventDefault(); box.focus(); box.select(); }
    else if (e.key === "]" || e.key === "[") {
      const step = e.key === "]" ? 1 : -1;
      for (let i = cur + step; i >= 0 && i < frames.length; i += step) { showFrame(i); break; }
    } else if (e.key === "n" || e.key === "N") nextHit(e.key === "n" ? 1 : -1);
    else if (e.key === "g") gridEl.focus();
    else if (e.key === "t") treeEl.focus();
  });

  buildList();
  if (frames.length === 1) document.body.classList.add("single");  // no conversation to list
  if (frames.length) showFrame(0);
  else treeEl.innerHTML = '<div id="empty">no frames</div>';
  document.body.dataset.ready = String(performance.now());
})();
