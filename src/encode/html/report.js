// memanim report: draws the heap map of each snapshot on a canvas from the data memanim
// embedded in this page, and tells what a block is. It computes no geometry and no colours of
// its own: the cell positions, sizes and colours, the status lines and the objects' births all
// come from memanim's renderer, so the map is the picture a still (-o still.png) shows.
// Everything taken from the capture is put into the page with textContent, never as markup.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('memanim-data').textContent);
  const G = D.geometry;
  const F = D.frames;
  const N = F.session.length;
  const $ = (id) => document.getElementById(id);

  // ---- Kinds and colours --------------------------------------------------------------------
  const RGB = D.palette.map((h) => {
    const v = parseInt(h.slice(1), 16);
    return [v >> 16, (v >> 8) & 255, v & 255];
  });
  const KINDS = D.kinds;
  const CODE = new Uint8Array(128); // character code -> index in KINDS
  KINDS.forEach((k, i) => { CODE[k.c.charCodeAt(0)] = i; });
  const kindOf = (c) => KINDS.findIndex((k) => k.c === c);
  const FREE = kindOf('.');
  const TAIL = kindOf('=');
  const MISSING = kindOf(' ');
  const NO_AGE = 255;

  // ---- Blocks: run-length keys and deltas ---------------------------------------------------
  // Writes the runs of `s` ("h=3.120": one kind character, then its count when above 1) into
  // `out` from `at`; returns where they end.
  function decodeRuns(s, out, at) {
    let i = 0;
    while (i < s.length) {
      const k = CODE[s.charCodeAt(i++)];
      let n = 0;
      for (let d; i < s.length && (d = s.charCodeAt(i) - 48) >= 0 && d <= 9; i++) n = n * 10 + d;
      n = Math.max(n, 1);
      out.fill(k, at, at + n);
      at += n;
    }
    return at;
  }

  // A delta is "skip:runs,skip:runs": unchanged blocks to step over, then the new ones.
  function applyDelta(s, out) {
    if (s === '') return;
    let at = 0;
    for (const group of s.split(',')) {
      const colon = group.indexOf(':');
      at += parseInt(group.slice(0, colon), 10);
      at = decodeRuns(group.slice(colon + 1), out, at);
    }
  }

  const slotsOf = (f) => D.sessions[F.session[f]].slots;
  const lastKey = new Int32Array(N);
  for (let f = 0, k = 0; f < N; f++) { if (F.key[f]) k = f; lastKey[f] = k; }

  // The frame decoded last, kept so that stepping forward applies one delta.
  let decoded = { f: -1, slots: [] };
  function blocksOf(f) {
    if (decoded.f !== f) {
      let from = decoded.f;
      if (!(from >= lastKey[f] && from < f)) {
        from = lastKey[f];
        decoded = { f: from, slots: slotsOf(from).map((sl, a) => {
          const b = new Uint8Array(sl.blocks);
          decodeRuns(F.blocks[from][a], b, 0);
          return b;
        }) };
      }
      for (let g = from + 1; g <= f; g++) decoded.slots.forEach((b, a) => applyDelta(F.blocks[g][a], b));
      decoded.f = f;
    }
    return decoded.slots;
  }

  // ---- Objects (allocations) and their ages -------------------------------------------------
  // Each frame lists, per area slot, the objects it shows first: varints (base64url digits of
  // 5 bits, least significant first, 32 added to all but the last) giving the head's distance
  // from the one before (times 2, plus 1 when the object was born earlier than this frame
  // shows), the frames it lives on, and then, when born earlier, by how many ms and snapshots.
  const DIGIT = new Int8Array(128).fill(-1);
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')
    .forEach((c, i) => { DIGIT[c.charCodeAt(0)] = i; });
  const objFirst = [], objLast = [], objSlot = [], objHead = [], objBornMs = [], objBornSnaps = [];
  const objIndex = new Map(); // (session, slot, head) -> object numbers, first seen first
  const objKey = (s, a, h) => (s * 4096 + a) * 33554432 + h;
  for (let f = 0; f < N; f++) {
    F.objects[f].forEach((text, a) => {
      let pos = 0;
      const next = () => {
        let v = 0, scale = 1, d;
        do { d = DIGIT[text.charCodeAt(pos++)]; v += (d & 31) * scale; scale *= 32; } while (d >= 32);
        return v;
      };
      let head = 0;
      while (pos < text.length) {
        const gap = next();
        head += gap >> 1;
        const life = next();
        const bornMs = gap & 1 ? next() : 0;
        const bornSnaps = gap & 1 ? next() : 0;
        const o = objFirst.length;
        objFirst.push(f); objLast.push(f + life); objSlot.push(a); objHead.push(head);
        objBornMs.push(bornMs); objBornSnaps.push(bornSnaps);
        const key = objKey(F.session[f], a, head);
        const list = objIndex.get(key);
        if (list) list.push(o); else objIndex.set(key, [o]);
        head += 1;
      }
    });
  }
  // The object whose head is block `h` of slot `a` in frame `f`, or -1.
  function objectAt(f, a, h) {
    const list = objIndex.get(objKey(F.session[f], a, h));
    if (!list) return -1;
    let lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (objFirst[list[mid]] <= f) { found = list[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return found >= 0 && objLast[found] >= f ? found : -1;
  }
  const bornMs = (o) => F.t[objFirst[o]] - objBornMs[o];
  const bornIndex = (o) => F.index[objFirst[o]] - objBornSnaps[o];
  // Blocks of the allocation whose head is block h of `blocks`: the head and its tails.
  function lengthAt(blocks, h) {
    let n = 1;
    while (h + n < blocks.length && blocks[h + n] === TAIL) n++;
    return n;
  }
  // The age class of an object in frame f, as memanim --color age counts it.
  function ageClass(o, f) {
    const age = Math.max(0, F.t[f] - bornMs(o));
    let c = 0;
    for (const b of D.age.bounds) if (age >= b) c++;
    return c;
  }

  // ---- The heap map ---------------------------------------------------------------------------
  const map = $('map');
  const overlay = $('overlay');
  map.width = overlay.width = G.width;
  map.height = overlay.height = G.map_h;
  const ctx = map.getContext('2d');
  const octx = overlay.getContext('2d');
  const image = ctx.createImageData(G.width, G.map_h);

  function rect(x, y, w, h, colour) {
    const [r, g, b] = RGB[colour];
    const px = image.data;
    y -= G.map_y;
    for (let yy = Math.max(y, 0); yy < Math.min(y + h, G.map_h); yy++) {
      for (let xx = Math.max(x, 0), p = (yy * G.width + xx) * 4; xx < Math.min(x + w, G.width); xx++, p += 4) {
        px[p] = r; px[p + 1] = g; px[p + 2] = b; px[p + 3] = 255;
      }
    }
  }

  // The mark of block i: allocated or freed since the frame before (the renderer's rule).
  function changeAt(prev, cur, i) {
    if (!prev) return -1;
    const was = prev[i], k = cur[i];
    const wasUsed = KINDS[was].used, used = KINDS[k].used;
    if (!wasUsed && used) return was !== MISSING ? D.colours.allocated : -1;
    if (wasUsed && used) return KINDS[k].is_head && was !== k ? D.colours.allocated : -1;
    if (wasUsed && !used) return k === FREE ? D.colours.freed : -1;
    return -1;
  }

  // Draws one area slot: each cell at its place, a head and its tails (and a free run) joined
  // into one bar across the 1 px gaps, marks along the bottom of changed cells.
  function drawArea(f, a, slot, cur, prev) {
    const cols = G.columns, n = slot.blocks;
    let ages = null;
    if (D.age) {
      ages = new Uint8Array(n).fill(NO_AGE);
      for (let i = 0; i < n; i++) {
        if (!KINDS[cur[i]].is_head) continue;
        const o = objectAt(f, a, i);
        if (o >= 0) ages.fill(ageClass(o, f), i, i + lengthAt(cur, i));
      }
    }
    let head = FREE;
    let nextChange = n > 0 && G.bar ? changeAt(prev, cur, 0) : -1;
    for (let i = 0; i < n; i++) {
      const k = cur[i];
      if (k !== TAIL) head = k;
      const age = ages ? ages[i] : NO_AGE;
      let colour;
      if (age !== NO_AGE) colour = k === TAIL ? D.age.tail[age] : D.age.head[age];
      else colour = k === TAIL ? KINDS[head].tail : KINDS[k].head;
      const change = nextChange;
      const lastInRow = i % cols === cols - 1 || i + 1 === n;
      nextChange = i + 1 < n && G.bar ? changeAt(prev, cur, i + 1) : -1;
      const next = i + 1 < n ? cur[i + 1] : MISSING;
      const joined = !lastInRow && ((next === TAIL && k !== FREE && k !== MISSING) ||
        (k === FREE && next === FREE));
      const markJoined = change >= 0 && !lastInRow && nextChange === change;
      const x = G.map_x + (i % cols) * G.cell;
      const y = slot.y + Math.floor(i / cols) * G.cell_h;
      rect(x, y, joined ? G.cell : G.fill, G.fill_h, colour);
      if (change >= 0) rect(x, y + G.fill_h - G.bar, markJoined ? G.cell : G.fill, G.bar, change);
    }
  }

  function drawMap(f) {
    const s = F.session[f];
    const withMarks = G.bar > 0 && f > 0 && F.session[f - 1] === s;
    const prev = withMarks ? blocksOf(f - 1).map((b) => b.slice()) : null;
    const cur = blocksOf(f);
    const [r, g, b] = RGB[D.colours.background];
    const px = image.data;
    for (let p = 0; p < px.length; p += 4) { px[p] = r; px[p + 1] = g; px[p + 2] = b; px[p + 3] = 255; }
    const slots = slotsOf(f);
    slots.forEach((slot, a) => drawArea(f, a, slot, cur[a], prev && prev[a]));
    ctx.putImageData(image, 0, 0);
    // Area labels (canvas text is not markup; these are memanim's words and numbers anyway).
    ctx.fillStyle = D.palette[D.colours.text_dim];
    ctx.font = Math.max(9, G.line_height - 4) + 'px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.textBaseline = 'top';
    slots.forEach((slot, a) => {
      const name = slots.length > 1 ? 'area ' + (a + 1) + '/' + slots.length : 'heap';
      ctx.fillText(name + '  0x' + slot.ptr + '  ' + slot.blocks + ' blocks of ' + slot.block_size + ' B',
        G.map_x, slot.label_y - G.map_y + 1);
    });
    if (slots.length === 0) {
      ctx.fillText('no layout table in this session\'s dumps (micropython.mem_info(1) prints it)', G.map_x, 1);
    }
  }

  // ---- What is under the pointer ------------------------------------------------------------
  let zoom = 1;
  // (slot, block) at a point of the map canvas (CSS px), as Layout::block_at finds it.
  function blockAt(f, cx, cy) {
    const x = Math.floor(cx / zoom), y = Math.floor(cy / zoom) + G.map_y;
    if (x < G.map_x || x >= G.map_x + G.columns * G.cell) return null;
    const col = Math.floor((x - G.map_x) / G.cell);
    const slots = slotsOf(f);
    for (let a = 0; a < slots.length; a++) {
      const s = slots[a];
      if (y < s.y || y >= s.y + s.rows * G.cell_h) continue;
      const i = Math.floor((y - s.y) / G.cell_h) * G.columns + col;
      return i < s.blocks ? { a, i } : null;
    }
    return null;
  }

  const hex = (v) => '0x' + v.toString(16);
  const address = (slot, block) => BigInt('0x' + slot.ptr) + BigInt(block) * BigInt(slot.block_size);
  const seconds = (ms) => (ms < 0 ? '-' : '+') + (Math.abs(ms) / 1000).toFixed(3) + ' s';
  const when = (f) => 'snapshot #' + F.snapshot[f] + (F.timed[f] ? ' (' + seconds(F.t[f]) + ')' : ' (line ' + F.line[f] + ')');
  const plural = (n, one) => n + ' ' + one + (n === 1 ? '' : 's');

  // The allocation (or free run) that block i of slot a belongs to in frame f.
  function describe(f, a, i) {
    const slot = slotsOf(f)[a];
    const b = blocksOf(f)[a];
    const k = b[i];
    const lines = [];
    if (k === MISSING) {
      lines.push('no data: this dump does not show block ' + i + ' of this area');
      lines.push('address: ' + hex(address(slot, i)));
      return { lines, object: -1 };
    }
    if (k === FREE) {
      let s = i, e = i;
      while (s > 0 && b[s - 1] === FREE) s--;
      while (e + 1 < b.length && b[e + 1] === FREE) e++;
      const n = e - s + 1;
      lines.push('free: a run of ' + plural(n, 'block') + ', ' + n * slot.block_size + ' bytes');
      lines.push('address: ' + hex(address(slot, s)) + ' (area 0x' + slot.ptr + ' + ' + hex(s * slot.block_size) + ')');
      return { lines, object: -1 };
    }
    let h = i;
    while (h > 0 && b[h] === TAIL) h--;
    if (!KINDS[b[h]].is_head) {
      lines.push('a tail block whose head the dump does not show');
      lines.push('address: ' + hex(address(slot, i)));
      return { lines, object: -1 };
    }
    const len = lengthAt(b, h);
    const kind = KINDS[b[h]];
    lines.push(kind.name + ' (' + kind.c + ')' + (i > h ? ', block ' + (i - h + 1) + ' of ' + len : ''));
    lines.push('size: ' + plural(len, 'block') + ', ' + len * slot.block_size + ' bytes');
    lines.push('address: ' + hex(address(slot, h)) + ' (area 0x' + slot.ptr + ' + ' + hex(h * slot.block_size) + ')');
    const o = objectAt(f, a, h);
    if (o >= 0) {
      const n = F.index[f] - bornIndex(o);
      lines.push('age: ' + plural(n, 'snapshot') + (F.timed[f] ? ' (' + ((F.t[f] - bornMs(o)) / 1000).toFixed(3) + ' s)' : ''));
    }
    return { lines, object: o };
  }

  // ---- The selected allocation ----------------------------------------------------------------
  let selected = -1;
  function drawOverlay(f) {
    octx.clearRect(0, 0, overlay.width, overlay.height);
    if (selected < 0 || f < objFirst[selected] || f > objLast[selected]) return;
    const slot = slotsOf(f)[objSlot[selected]];
    const head = objHead[selected];
    const end = head + lengthAt(blocksOf(f)[objSlot[selected]], head);
    // One bar per grid row the allocation spans: lightened, with an outline around it.
    for (let i = head; i < end;) {
      const row = Math.floor(i / G.columns);
      const last = Math.min(end, (row + 1) * G.columns) - 1;
      const x = G.map_x + (i % G.columns) * G.cell;
      const w = (last - i) * G.cell + G.fill;
      const y = slot.y - G.map_y + row * G.cell_h;
      octx.fillStyle = 'rgba(255, 255, 255, 0.5)';
      octx.fillRect(x, y, w, G.fill_h);
      octx.strokeStyle = '#ff2bd6';
      octx.lineWidth = 2;
      octx.strokeRect(x - 1, y - 1, w + 2, G.fill_h + 2);
      i = last + 1;
    }
  }

  function jumpButton(text, f, id) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = text;
    button.dataset.frame = String(f);
    if (id) button.id = id;
    button.addEventListener('click', () => { button.blur(); show(f); });
    return button;
  }

  function showSelection() {
    const box = $('selection');
    box.replaceChildren();
    if (selected < 0) return;
    const o = selected, first = objFirst[o], last = objLast[o];
    const slot = slotsOf(first)[objSlot[o]];
    const blocks = blocksOf(first)[objSlot[o]];
    const kind = KINDS[blocks[objHead[o]]];
    const len = lengthAt(blocks, objHead[o]);
    const title = document.createElement('div');
    title.textContent = 'Selected: ' + kind.name + ', ' + plural(len, 'block') + ' (' +
      len * slot.block_size + ' bytes) at ' + hex(address(slot, objHead[o]));
    const list = document.createElement('ul');
    const item = (label, button, rest) => {
      const li = document.createElement('li');
      li.append(label + ' ');
      if (button) li.append(button);
      if (rest) li.append(' ' + rest);
      list.append(li);
      return li;
    };
    const born = objBornSnaps[o] > 0
      ? '(allocated ' + plural(objBornSnaps[o], 'snapshot') + ' earlier, in a dump this report does not show)'
      : '';
    item('allocated:', jumpButton(when(first), first, 'sel-allocated'), born);
    if (last + 1 < N && F.session[last + 1] === F.session[last]) {
      item('freed by:', jumpButton(when(last + 1), last + 1, 'sel-freed'), '(gone from this snapshot on)');
    } else if (last + 1 < N) {
      item('gone at the reset:', jumpButton(when(last + 1), last + 1, 'sel-freed'), '(a new session begins)');
    } else {
      item('still allocated at the last snapshot', null, '');
    }
    item('lived:', null, plural(F.index[last] - bornIndex(o), 'snapshot') + ' after it was allocated, to ' + when(last));
    const here = document.createElement('div');
    here.id = 'sel-here';
    const clear = document.createElement('button');
    clear.type = 'button';
    clear.textContent = 'clear';
    clear.addEventListener('click', () => { selected = -1; showSelection(); drawOverlay(current); });
    box.append(title, list, here, clear);
    showPresence(current);
  }

  // Whether the selected allocation is in the snapshot on screen.
  function showPresence(f) {
    const here = document.getElementById('sel-here');
    if (!here || selected < 0) return;
    here.textContent = f >= objFirst[selected] && f <= objLast[selected]
      ? 'In this snapshot (highlighted).'
      : 'Not in this snapshot: use the links above to go where it is.';
  }

  const tip = $('tip');
  overlay.addEventListener('mousemove', (e) => {
    const hit = blockAt(current, e.offsetX, e.offsetY);
    if (!hit) { tip.hidden = true; return; }
    const text = describe(current, hit.a, hit.i).lines.join('\n');
    tip.textContent = text;
    $('inspect').textContent = text;
    tip.hidden = false;
    const w = tip.offsetWidth, h = tip.offsetHeight;
    // Above and to the right of the pointer, off the block and its allocation when it fits.
    tip.style.left = Math.max(4, Math.min(e.clientX + 16, window.innerWidth - w - 4)) + 'px';
    tip.style.top = (e.clientY - h - 14 >= 4 ? e.clientY - h - 14 : Math.min(e.clientY + 18, window.innerHeight - h - 4)) + 'px';
  });
  overlay.addEventListener('mouseleave', () => { tip.hidden = true; });
  overlay.addEventListener('click', (e) => {
    const hit = blockAt(current, e.offsetX, e.offsetY);
    selected = hit ? describe(current, hit.a, hit.i).object : -1;
    showSelection();
    drawOverlay(current);
  });

  // ---- The usage chart ------------------------------------------------------------------------
  const chart = $('chart');
  chart.width = Math.max(G.width, 480);
  chart.height = 150;
  const cctx = chart.getContext('2d');
  const PAD = 6;
  const t0 = F.t[0];
  const step = N > 1 ? (F.t[N - 1] - t0) / (N - 1) : 0;
  const t1 = Math.max(F.t[N - 1] + step, t0 + 1);
  const xOf = (f) => PAD + Math.round((F.t[f] - t0) / (t1 - t0) * (chart.width - 2 * PAD - 1));
  let top = 1;
  for (let f = 0; f < N; f++) top = Math.max(top, F.total[f] || 0, F.used[f] || 0, F.free[f] || 0);
  const yOf = (v) => chart.height - PAD - Math.round(v / top * (chart.height - 2 * PAD - 1));
  const SERIES = { used: D.kinds[kindOf('h')].tail, free: D.kinds[kindOf('L')].head, largest: D.kinds[kindOf('S')].head };
  const background = document.createElement('canvas');
  background.width = chart.width;
  background.height = chart.height;
  (function drawChart() {
    const c = background.getContext('2d');
    c.fillStyle = D.palette[6];
    c.fillRect(0, 0, chart.width, chart.height);
    c.fillStyle = D.palette[SERIES.used];
    for (let f = 0; f < N; f++) {
      if (F.used[f] === null) continue;
      const x0 = xOf(f), x1 = f + 1 < N ? xOf(f + 1) : chart.width - PAD;
      c.fillRect(x0, yOf(F.used[f]), Math.max(1, x1 - x0), chart.height - PAD - yOf(F.used[f]));
    }
    for (const [name, values] of [['free', F.free], ['largest', F.largest]]) {
      c.strokeStyle = D.palette[SERIES[name]];
      c.lineWidth = 1.5;
      c.beginPath();
      let open = false;
      for (let f = 0; f < N; f++) {
        if (values[f] === null) { open = false; continue; }
        const x1 = f + 1 < N ? xOf(f + 1) : chart.width - PAD;
        if (!open) c.moveTo(xOf(f), yOf(values[f])); else c.lineTo(xOf(f), yOf(values[f]));
        c.lineTo(x1, yOf(values[f]));
        open = true;
      }
      c.stroke();
    }
    // A red line where the board was reset.
    c.fillStyle = D.palette[D.colours.freed];
    for (let f = 1; f < N; f++) if (F.session[f] !== F.session[f - 1]) c.fillRect(xOf(f), 0, 2, chart.height);
  })();
  const key = $('chartkey');
  for (const [label, colour] of [['used', SERIES.used], ['free', SERIES.free], ['largest free block', SERIES.largest]]) {
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = D.palette[colour];
    key.append(sw, label);
  }
  key.append(' (0 to ' + top + ' bytes)');
  function drawCursor(f) {
    cctx.drawImage(background, 0, 0);
    cctx.fillStyle = '#ffffff';
    cctx.fillRect(xOf(f), 0, 1, chart.height);
  }
  // The frame on screen at a time: the last one not later than it.
  function frameAtTime(t) {
    let lo = 0, hi = N - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (F.t[mid] <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  chart.addEventListener('click', (e) => {
    const t = t0 + (e.offsetX - PAD) / (chart.width - 2 * PAD - 1) * (t1 - t0);
    show(frameAtTime(t));
  });

  // ---- Log lines ------------------------------------------------------------------------------
  const L = D.logs;
  // The frame at which log line i (in the schedule's numbering) is first on screen.
  function frameOfLog(i) {
    let lo = 0, hi = N;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (F.logs_end[mid] > i) hi = mid; else lo = mid + 1;
    }
    return Math.min(lo, N - 1);
  }
  const LOG_BEFORE = 10, LOG_AFTER = 5;
  function showLogs(f) {
    const box = $('logs');
    box.replaceChildren();
    const end = F.logs_end[f] - L.first;
    const shown = [];
    for (let i = end - 1; i >= 0 && shown.length < LOG_BEFORE; i--) if (L.text[i].trim() !== '') shown.unshift(i);
    for (let i = end, n = 0; i < L.text.length && n < LOG_AFTER; i++) if (L.text[i].trim() !== '') { shown.push(i); n++; }
    for (const i of shown) {
      const row = document.createElement('div');
      row.className = 'log' + (i >= end ? ' later' : i >= F.logs_new[f] - L.first ? ' new' : '');
      const target = frameOfLog(i + L.first);
      row.dataset.frame = String(target);
      row.dataset.line = String(L.line[i]);
      row.title = 'line ' + L.line[i] + ': jump to ' + when(target);
      const n = document.createElement('span');
      n.className = 'n';
      n.textContent = String(L.line[i]);
      const t = document.createElement('span');
      t.className = 't';
      t.textContent = L.text[i];
      row.append(n, t);
      row.addEventListener('click', () => show(target));
      box.append(row);
    }
    if (shown.length === 0) box.textContent = 'no log lines around this snapshot';
  }

  // ---- Sessions -------------------------------------------------------------------------------
  const sessionStarts = [];
  for (let f = 0; f < N; f++) if (f === 0 || F.session[f] !== F.session[f - 1]) sessionStarts.push(f);
  (function listSessions() {
    const list = $('sessions');
    const marks = $('marks');
    for (const f of sessionStarts) {
      const s = D.sessions[F.session[f]];
      const li = document.createElement('li');
      li.dataset.session = String(F.session[f]);
      li.append('session ' + s.number + ' from line ' + s.first_line + ' ');
      li.append(jumpButton(when(f), f));
      if (s.started_by) li.append(' after a reset: ' + s.started_by);
      if (s.banner) li.append(' (' + s.banner + ')');
      list.append(li);
      if (f > 0) {
        const mark = document.createElement('div');
        mark.className = 'mark';
        mark.dataset.frame = String(f);
        mark.title = 'session ' + s.number + ' begins: ' + (s.started_by || 'a reset');
        mark.style.left = 'calc(' + (100 * f / Math.max(1, N - 1)) + '% - 1px)';
        marks.append(mark);
      }
    }
  })();

  // ---- Legend, titles -------------------------------------------------------------------------
  for (const [head, tail, name] of D.legend) {
    const item = document.createElement('span');
    for (const c of tail === null ? [head] : [head, tail]) {
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = D.palette[c];
      item.append(sw);
    }
    item.append(' ' + name);
    $('legend').append(item);
  }
  document.title = D.source + ' - memanim';
  $('title').textContent = 'Heap of ' + D.source;
  const sessionsWithSnapshots = D.sessions.filter((s) => s.number > 0).length;
  $('subtitle').textContent = D.snapshots + ' snapshots in ' + plural(sessionsWithSnapshots, 'session') + ', ' +
    D.lines + ' lines; ' + plural(N, 'frame') + ' in this report';
  $('footer').textContent = 'Made by ' + D.generator + ' from ' + D.source +
    '. Keys: Space play/pause, Left/Right step (Shift: 10), Home/End. The address bar\'s #s=N opens snapshot N.';

  // ---- Showing a frame, playing -----------------------------------------------------------------
  let current = -1;
  const scrub = $('scrub');
  scrub.max = String(N - 1);
  function show(f) {
    f = Math.max(0, Math.min(N - 1, f | 0));
    if (f === current) return;
    current = f;
    drawMap(f);
    drawOverlay(f);
    showPresence(f);
    drawCursor(f);
    scrub.value = String(f);
    $('position').textContent = 'snapshot ' + F.snapshot[f] + '/' + D.snapshots + '  frame ' + (f + 1) + '/' + N;
    $('status').textContent = F.status[f];
    const notice = D.notices.find((n) => n[0] === f);
    $('notice').textContent = notice ? notice[1] : '';
    for (const li of $('sessions').children) li.classList.toggle('current', li.dataset.session === String(F.session[f]));
    showLogs(f);
    try {
      history.replaceState(null, '', '#s=' + F.snapshot[f]);
    } catch (err) {
      // Some browsers refuse history changes on file:// pages; the link then stays as opened.
    }
  }

  // The frame showing snapshot n: the last one whose snapshot is not after it.
  function frameOfSnapshot(n) {
    let lo = 0, hi = N - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (F.snapshot[mid] <= n) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  function fromHash() {
    const m = /^#s=(\d+)$/.exec(location.hash);
    return m ? frameOfSnapshot(parseInt(m[1], 10)) : null;
  }

  let timer = null;
  let speed = 1;
  const play = $('play');
  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    play.textContent = '\u25B6 play';
    play.dataset.playing = 'false';
  }
  function tick() {
    if (current >= N - 1) { stop(); return; }
    show(current + 1);
    timer = setTimeout(tick, Math.max(20, F.delay[current] * 10 / speed));
  }
  function start() {
    if (current >= N - 1) show(0);
    play.textContent = '\u275A\u275A pause';
    play.dataset.playing = 'true';
    timer = setTimeout(tick, Math.max(20, F.delay[current] * 10 / speed));
  }
  const toggle = () => (timer === null ? start() : stop());

  const click = (id, fn) => $(id).addEventListener('click', (e) => { e.currentTarget.blur(); fn(); });
  click('play', toggle);
  click('first', () => show(0));
  click('last', () => show(N - 1));
  click('prev', () => show(current - 1));
  click('next', () => show(current + 1));
  scrub.addEventListener('input', () => show(parseInt(scrub.value, 10)));
  $('speed').addEventListener('change', (e) => { speed = parseFloat(e.target.value); });
  $('zoom').addEventListener('change', (e) => {
    zoom = parseInt(e.target.value, 10);
    for (const c of [map, overlay]) {
      c.style.width = G.width * zoom + 'px';
      c.style.height = G.map_h * zoom + 'px';
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLSelectElement || e.altKey || e.ctrlKey || e.metaKey) return;
    const by = e.shiftKey ? 10 : 1;
    const actions = {
      ' ': toggle,
      ArrowLeft: () => show(current - by),
      ArrowRight: () => show(current + by),
      Home: () => show(0),
      End: () => show(N - 1),
    };
    const action = actions[e.key];
    if (action) { e.preventDefault(); action(); }
  });
  window.addEventListener('hashchange', () => { const f = fromHash(); if (f !== null) show(f); });

  stop();
  show(fromHash() ?? 0);
  // Tests (and curious readers) can ask the page where it is.
  document.body.dataset.ready = 'true';
  window.memanimReport = { frame: () => current, frames: N, show, snapshot: () => F.snapshot[current] };
})();
