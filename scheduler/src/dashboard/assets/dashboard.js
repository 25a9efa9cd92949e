// The dask dashboard page. Every piece of data (task names, keys) is put in the
// document with textContent or as an attribute value, never parsed as markup.
'use strict';
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const WINDOW_MS = 10000;      // the task stream shows the last ten seconds
  const MAX_BARS = 3000;        // and at most this many bars
  const STATE_COLOURS = ['#cfd8dc', '#fbc02d', '#43a047', '#e53935'];
  const STATE_NAMES = ['waiting', 'running', 'done', 'failed'];
  const token = new URLSearchParams(location.search).get('token');
  const query = token ? '?token=' + encodeURIComponent(token) : '';

  const $ = id => document.getElementById(id);
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function hue(name) {
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return 'hsl(' + (h % 360) + ',60%,55%)';
  }
  function duration(ms) {
    if (ms < 1) return (ms * 1000).toFixed(0) + ' µs';
    if (ms < 1000) return ms.toFixed(1) + ' ms';
    return (ms / 1000).toFixed(2) + ' s';
  }
  function bytes(n) {
    if (n === null || n === undefined) return 'unknown';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return n.toFixed(i ? 1 : 0) + ' ' + units[i];
  }

  // State of the live view.
  let bars = [];
  let graphId = null;       // the computation whose structure is drawn
  let graphView = null;     // {collapsed, nodes, shapes}
  let viewing = null;       // a reopened past computation, or null when live
  let lastUpdate = null;

  function fetchJson(path) {
    return fetch(path + query, { credentials: 'same-origin' }).then(r => {
      if (!r.ok) throw new Error(path + ': ' + r.status);
      return r.json();
    });
  }

  // --- progress per function ---
  function renderFunctions(rows) {
    const body = $('functions').tBodies[0];
    clear(body);
    for (const f of rows) {
      const tr = el('tr', { 'data-function': f.name });
      tr.appendChild(el('td', { class: 'name', title: f.name }, f.name));
      tr.appendChild(el('td', { class: 'count' }, f.done + ' / ' + (f.total || '?')));
      tr.appendChild(el('td', { class: f.failed ? 'failed' : '' }, String(f.failed)));
      tr.appendChild(el('td', {}, String(f.running)));
      tr.appendChild(el('td', {}, duration(f.busy_ms)));
      const cell = el('td', { class: 'barcol' });
      const track = el('div', { class: 'track' });
      const total = Math.max(f.total, f.done + f.failed + f.running, 1);
      let left = 0;
      for (const [n, cls] of [[f.done, 'done'], [f.failed, 'failedbar'], [f.running, 'runningbar']]) {
        const w = 100 * n / total;
        const part = el('div', { class: cls });
        part.style.left = left + '%';
        part.style.width = w + '%';
        track.appendChild(part);
        left += w;
      }
      cell.appendChild(track);
      tr.appendChild(cell);
      body.appendChild(tr);
    }
  }

  // --- workers and memory ---
  function renderWorkers(workers, memory) {
    const box = $('workers');
    clear(box);
    for (const w of workers) {
      const row = el('div', { class: 'worker', 'data-worker': String(w.w) });
      row.appendChild(el('span', {}, w.label));
      const track = el('div', { class: 'track' });
      const fill = el('div', { class: 'done' });
      fill.style.left = '0';
      fill.style.width = (100 * w.occupancy).toFixed(1) + '%';
      track.appendChild(fill);
      row.appendChild(track);
      row.appendChild(el('span', {}, (100 * w.occupancy).toFixed(0) + '%'));
      row.appendChild(el('span', { class: 'task' }, w.running ? 'running ' + w.running : 'idle'));
      box.appendChild(row);
    }
    if (memory) {
      const m = $('memory');
      clear(m);
      m.appendChild(el('div', { id: 'rss' }, 'process resident memory: ' + bytes(memory.rss)));
      m.appendChild(el('div', { id: 'held' }, 'results held: ' + (memory.results_known
        ? bytes(memory.results) + ' in ' + memory.results_known + ' result' +
          (memory.results_known === 1 ? '' : 's') + ' of known size'
        : 'none of known size (array blocks and dataframe partitions tell theirs)')));
    }
  }

  // --- task stream ---
  function renderStream(list, now, workers, windowMs) {
    windowMs = windowMs || WINDOW_MS;
    const box = $('stream');
    clear(box);
    const lanes = new Map();
    for (const w of workers) lanes.set(w.w, w.label);
    for (const b of list) if (!lanes.has(b.w)) lanes.set(b.w, b.w === 0 ? 'caller' : 'worker ' + (b.w - 1));
    const order = Array.from(lanes.keys()).sort((a, b) => a - b);
    const laneH = 18, labelW = 70, width = 1000;
    const height = Math.max(1, order.length) * laneH + 16;
    const from = now - windowMs;
    const scale = (width - labelW) / Math.max(1, now - from);
    const root = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, preserveAspectRatio: 'none', height: height });
    order.forEach((w, i) => {
      root.appendChild(svg('text', { x: 2, y: i * laneH + 13, 'font-size': 11, class: 'lane' }, lanes.get(w)));
    });
    for (const b of list) {
      if (b.e < from) continue;
      const lane = order.indexOf(b.w);
      const x = labelW + Math.max(0, b.s - from) * scale;
      const w = Math.max(1, (b.e - Math.max(b.s, from)) * scale);
      const rect = svg('rect', {
        class: 'bar', x: x.toFixed(1), y: lane * laneH + 2, width: w.toFixed(1), height: laneH - 4,
        fill: b.ok ? hue(b.name) : STATE_COLOURS[3], 'data-name': b.name,
      });
      rect.appendChild(svg('title', {}, b.name + ' ' + b.key + '\n' + duration(b.e - b.s) +
        (b.ok ? '' : ' (failed)') + '\nresult size: ' +
        (b.size === null || b.size === undefined ? 'not known' : bytes(b.size))));
      root.appendChild(rect);
    }
    root.appendChild(svg('text', { x: labelW, y: height - 2, 'font-size': 10, fill: '#777' }, '−' + ((now - from) / 1000).toFixed(0) + ' s'));
    root.appendChild(svg('text', { x: width - 30, y: height - 2, 'font-size': 10, fill: '#777' }, 'now'));
    box.appendChild(root);
    $('stream-note').textContent = list.length + ' bars (a sample when tasks are short)';
  }

  // --- graph ---
  function drawGraph(g) {
    const box = $('graph');
    clear(box);
    const nodes = g.nodes;
    const ranks = nodes.reduce((m, n) => Math.max(m, n.rank), 0) + 1;
    const slots = nodes.reduce((m, n) => Math.max(m, n.slot), 0) + 1;
    // Top to bottom: ranks (the data flow) down, the nodes of a rank across, where the
    // page is widest (a rank of a hundred chunks stays readable).
    const labelled = !g.collapsed && slots <= 12;
    const across = g.collapsed ? 170 : labelled ? 110 : 22, along = g.collapsed ? 60 : 44;
    const width = slots * across + 20, height = ranks * along + 20;
    const root = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, preserveAspectRatio: 'xMidYMin meet' });
    root.style.maxWidth = Math.max(width, 300) + 'px';
    const at = n => [10 + n.slot * across + across / 2, 10 + n.rank * along + along / 2];
    for (const [f, t, c] of g.edges) {
      const [x1, y1] = at(nodes[f]), [x2, y2] = at(nodes[t]);
      const line = svg('line', { x1, y1, x2, y2, stroke: '#b0bec5', 'stroke-width': g.collapsed ? Math.min(6, 1 + Math.log10(c)) : 1 });
      if (g.collapsed) line.appendChild(svg('title', {}, c + ' edges'));
      root.appendChild(line);
    }
    const shapes = [];
    nodes.forEach((n, i) => {
      const [x, y] = at(n);
      const group = svg('g', { class: 'node', 'data-index': i, 'data-state': '0' });
      if (g.collapsed) {
        group.appendChild(svg('rect', { x: x - 75, y: y - 18, width: 150, height: 36, rx: 6, fill: '#fff', stroke: '#607d8b' }));
        const fills = [0, 1, 2, 3].map(s => svg('rect', { x: x - 73, y: y + 6, width: 0, height: 8, fill: STATE_COLOURS[s], class: 'part' }));
        fills.forEach(f => group.appendChild(f));
        group.appendChild(svg('text', { x, y: y - 3, 'text-anchor': 'middle', 'font-size': 11, class: 'label' },
          n.label + ' ×' + n.count));
        group.appendChild(svg('title', {}, n.label + ': ' + n.count + (n.task ? ' tasks' : ' values')));
        shapes.push({ group, fills, node: n });
      } else {
        const shape = n.task
          ? svg('circle', { cx: x, cy: y, r: 7, class: 'shape' })
          : svg('rect', { x: x - 6, y: y - 6, width: 12, height: 12, class: 'shape' });
        shape.setAttribute('fill', STATE_COLOURS[0]);
        shape.setAttribute('stroke', '#455a64');
        group.appendChild(shape);
        group.appendChild(svg('title', {}, n.label));
        if (labelled) {
          group.appendChild(svg('text', { x, y: y - 9, 'text-anchor': 'middle', 'font-size': 9, class: 'label' }, n.name));
        }
        shapes.push({ group, shape, node: n });
      }
      root.appendChild(group);
    });
    box.appendChild(root);
    $('graph-note').textContent = g.collapsed
      ? nodes.reduce((s, n) => s + n.count, 0) + ' nodes, collapsed by function'
      : nodes.length + ' nodes';
    return { collapsed: g.collapsed, shapes };
  }

  function colourGraph(view, states, functions) {
    if (!view) return;
    if (!view.collapsed) {
      if (!states) return;
      view.shapes.forEach((s, i) => {
        const st = Number(states[i] || 0);
        s.group.setAttribute('data-state', String(st));
        s.shape.setAttribute('fill', STATE_COLOURS[st]);
      });
      return;
    }
    const byName = new Map(functions.map(f => [f.name, f]));
    for (const s of view.shapes) {
      const n = s.node;
      let parts = [0, 0, n.count, 0];  // values are there from the start
      if (n.task) {
        const f = byName.get(n.name) || { done: 0, failed: 0, running: 0 };
        const done = Math.min(n.count, f.done), failed = Math.min(n.count - done, f.failed);
        const running = Math.min(n.count - done - failed, f.running);
        parts = [n.count - done - failed - running, running, done, failed];
      }
      let x = Number(s.fills[0].getAttribute('x'));
      const state = parts[3] ? 3 : parts[1] ? 1 : parts[0] ? 0 : 2;
      s.group.setAttribute('data-state', String(state));
      for (const k of [2, 3, 1, 0]) {
        const w = 146 * parts[k] / Math.max(1, n.count);
        s.fills[k].setAttribute('x', x.toFixed(1));
        s.fills[k].setAttribute('width', w.toFixed(1));
        x += w;
      }
    }
  }

  function legend() {
    const box = $('legend');
    STATE_NAMES.forEach((name, i) => {
      const item = el('span', {});
      const swatch = el('i', {});
      swatch.style.background = STATE_COLOURS[i];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(name));
      box.appendChild(item);
    });
  }

  // --- history: the running computations first, then the finished ones ---
  function renderHistory(list, running) {
    const body = $('history').tBodies[0];
    clear(body);
    for (const c of running || []) {
      const tr = el('tr', { 'data-id': String(c.id), class: 'running' });
      tr.appendChild(el('td', {}, String(c.id)));
      tr.appendChild(el('td', {}, new Date(c.started).toLocaleTimeString()));
      tr.appendChild(el('td', {}, duration(c.elapsed_ms)));
      tr.appendChild(el('td', {}, String(c.tasks)));
      tr.appendChild(el('td', {}, String(c.done)));
      tr.appendChild(el('td', { class: c.failed ? 'failed' : '' }, String(c.failed)));
      tr.appendChild(el('td', {}, 'running'));
      tr.appendChild(el('td', {}, ''));
      body.appendChild(tr);
    }
    for (const c of list) {
      const tr = el('tr', { 'data-id': String(c.id) });
      if (viewing && viewing.id === c.id) tr.className = 'viewing';
      tr.appendChild(el('td', {}, String(c.id)));
      tr.appendChild(el('td', {}, new Date(c.started).toLocaleTimeString()));
      tr.appendChild(el('td', {}, duration(c.elapsed_ms)));
      tr.appendChild(el('td', {}, String(c.tasks)));
      tr.appendChild(el('td', {}, String(c.done)));
      tr.appendChild(el('td', { class: c.failed ? 'failed' : '' }, String(c.failed)));
      tr.appendChild(el('td', {}, c.ok ? 'ok' : 'failed'));
      const cell = el('td', {});
      const open = el('button', { type: 'button', class: 'open' }, 'open');
      open.addEventListener('click', () => reopen(c.id));
      cell.appendChild(open);
      tr.appendChild(cell);
      body.appendChild(tr);
    }
  }

  function figures(c) {
    if (!c) return 'no computation yet';
    return '#' + c.id + ': ' + c.done + ' / ' + c.tasks + ' tasks done' +
      (c.failed ? ', ' + c.failed + ' failed' : '') + ', ' + duration(c.elapsed_ms) +
      ' on ' + c.threads + ' thread' + (c.threads === 1 ? '' : 's') +
      (c.peak_held ? ', at most ' + bytes(c.peak_held) + ' of results held' : '');
  }

  function reopen(id) {
    fetchJson('api/computation/' + id).then(c => {
      if (c.running) return;
      viewing = c;
      $('live').hidden = false;
      $('status').textContent = 'viewing computation #' + c.id + ' (' + (c.ok ? 'ok' : 'failed') + ')';
      $('status').setAttribute('data-state', 'past');
      $('figures').textContent = figures(c);
      renderFunctions(c.functions);
      renderWorkers(c.workers, null);
      // The whole computation, from its start to its last bar.
      const end = c.bars.reduce((m, b) => Math.max(m, b.e), c.start_ms + c.elapsed_ms);
      renderStream(c.bars, end, c.workers, Math.max(1, end - c.start_ms));
      graphId = null;
      graphView = drawGraph(c.graph);
      colourGraph(graphView, c.states, c.functions);
      if (lastUpdate) renderHistory(lastUpdate.history, lastUpdate.running);
    }).catch(e => { $('status').textContent = String(e); });
  }

  function backToLive() {
    viewing = null;
    $('live').hidden = true;
    graphId = null;
    if (lastUpdate) render(lastUpdate);
  }

  function render(u) {
    lastUpdate = u;
    const now = u.now_ms;
    for (const b of u.bars) bars.push(b);
    bars = bars.filter(b => b.e >= now - WINDOW_MS);
    if (bars.length > MAX_BARS) bars = bars.slice(bars.length - MAX_BARS);
    if (viewing) { renderHistory(u.history, u.running); return; }
    const c = u.computation;
    const status = $('status');
    status.setAttribute('data-state', c && c.running ? 'running' : 'idle');
    const others = (u.running || []).length - 1;
    status.textContent = c && c.running
      ? 'running' + (others > 0 ? ' (and ' + others + ' more: see Computations)' : '')
      : 'idle';
    $('figures').textContent = figures(c);
    renderFunctions(u.functions);
    renderWorkers(u.workers, u.memory);
    renderStream(bars, now, u.workers);
    renderHistory(u.history, u.running);
    if (c && c.id !== graphId) {
      graphId = c.id;
      const wanted = c.id;
      fetchJson('api/computation/' + wanted).then(d => {
        if (graphId !== wanted || viewing) return;
        graphView = drawGraph(d.graph);
        if (lastUpdate && lastUpdate.computation) colourGraph(graphView, lastUpdate.computation.states, lastUpdate.functions);
      }).catch(() => { graphId = null; });
    } else if (c) {
      colourGraph(graphView, c.states, u.functions);
    }
    document.body.setAttribute('data-updates', String(Number(document.body.getAttribute('data-updates') || 0) + 1));
  }

  $('live').addEventListener('click', backToLive);
  legend();
  // What happened before the page opened: the stream's last seconds, then the figures.
  fetchJson('api/stream').then(r => { bars = r.bars.concat(bars); }).catch(() => {})
    .then(() => fetchJson('api/update'))
    .then(u => { if (u && u.now_ms !== undefined) render(u); }).catch(() => {});
  const events = new EventSource('events' + query);
  events.onmessage = e => {
    try { render(JSON.parse(e.data)); } catch (err) { $('status').textContent = 'bad update: ' + err; }
  };
  events.onerror = () => {
    $('status').setAttribute('data-state', 'disconnected');
    $('status').textContent = 'disconnected (retrying)';
  };
})();
