// replay's live view: reads the run's snapshots from /api/events (or
// /api/snapshot), draws them, and under `replay ui` drives the form.
// Everything from a run (endpoint names come from logs) is set as text,
// never as markup.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = ['#2f6fd6', '#d9822b', '#2e7d32', '#b3261e', '#6b4ea5', '#00838f', '#8d6e63', '#c2185b', '#5b6577', '#9e9d24', '#3949ab', '#ef6c00'];
  const hidden = {};
  let last = null;
  let control = false;
  let source = null;

  // Words people read: 2 h 15 m, 45 s, 1,234.
  function duration(s) {
    if (!(s >= 0) || !isFinite(s)) return '-';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (h > 0) return h + ' h' + (m ? ' ' + m + ' m' : '');
    return m + ' m' + (r ? ' ' + r + ' s' : '');
  }
  const thousands = (n) => Math.round(n).toLocaleString('en-US');
  function millis(v) {
    if (v == null || !isFinite(v)) return '-';
    if (v >= 1000) return (v / 1000).toFixed(2) + ' s';
    return v.toFixed(v < 10 ? 2 : 1) + ' ms';
  }
  const percent = (v) => (100 * v).toFixed(1) + '%';

  function node(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }
  function figure(id, value, text) {
    const e = $(id);
    e.dataset.value = value == null ? '' : String(value);
    e.textContent = text;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // A line chart: series of [x, y] points over seconds of the run, segments shaded behind.
  function chart(id, opts) {
    const W = 640, H = 220, L = 56, R = 12, T = 10, B = 24;
    const box = $(id);
    if (!hidden[id]) hidden[id] = new Set(opts.hideFirst || []);
    const off = hidden[id];
    const visible = opts.series.filter((s) => !off.has(s.name));
    let ymax = 0, xmax = opts.xmax || 0;
    for (const s of visible) for (const [x, y] of s.points) { if (y > ymax) ymax = y; if (x > xmax) xmax = x; }
    ymax = niceMax(ymax * 1.05);
    xmax = Math.max(xmax, 1);
    const X = (x) => L + (W - L - R) * x / xmax;
    const Y = (y) => H - B - (H - B - T) * y / ymax;
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || '' });
    for (const b of opts.bands || []) {
      const x0 = X(Math.max(0, b.start_s)), x1 = X(Math.min(xmax, b.end_s));
      if (x1 > x0) root.append(svg('rect', { class: 'band band-' + b.kind, x: x0, y: T, width: x1 - x0, height: H - B - T }, null));
    }
    for (let i = 0; i <= 4; i++) {
      const y = ymax * i / 4;
      root.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: Y(y), y2: Y(y) }));
      root.append(svg('text', { x: L - 4, y: Y(y) + 3, 'text-anchor': 'end' }, (opts.yfmt || thousands)(y)));
    }
    for (let i = 0; i <= 5; i++) {
      const x = xmax * i / 5;
      root.append(svg('text', { x: X(x), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle' }, duration(x)));
    }
    root.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: Y(0), y2: Y(0) }));
    for (const s of visible) {
      if (!s.points.length) continue;
      const pts = s.points.map(([x, y]) => X(x).toFixed(1) + ',' + Y(y).toFixed(1)).join(' ');
      if (s.area) {
        const first = s.points[0][0], lastX = s.points[s.points.length - 1][0];
        root.append(svg('polygon', { class: 'area', fill: s.color, points: `${X(first)},${Y(0)} ${pts} ${X(lastX)},${Y(0)}` }));
      }
      const line = svg('polyline', { class: 'line', stroke: s.color, points: pts });
      if (s.dash) line.setAttribute('stroke-dasharray', s.dash);
      line.append(svg('title', {}, s.name));
      root.append(line);
    }
    if (opts.cursor != null && opts.cursor <= xmax) {
      root.append(svg('line', { class: 'cursor', x1: X(opts.cursor), x2: X(opts.cursor), y1: T, y2: H - B }));
    }
    const legend = node('div', { class: 'legend' });
    for (const s of opts.series) {
      const swatch = node('span', { class: 'swatch' });
      swatch.style.background = s.color;
      const b = node('button', { type: 'button', class: off.has(s.name) ? 'off' : '' }, swatch, s.name);
      b.addEventListener('click', () => { if (off.has(s.name)) off.delete(s.name); else off.add(s.name); if (last) render(last); });
      legend.append(b);
    }
    box.replaceChildren(root, legend);
  }

  const perSecond = (values, step) => values.map((v, i) => [(i + 0.5) * step, v / step]);

  function drawCharts(snap, r) {
    const sec = snap.seconds, step = sec.step_s || 1;
    const length = (r.plan && r.plan.length_s) || 0;
    const xmax = Math.max(length, snap.elapsed_s || 0);
    const bands = (r.plan && r.plan.segments) || [];
    const rate = [];
    if (snap.production) {
      const p = snap.production;
      rate.push({ name: 'production', color: '#9aa5b8', area: true, dash: '4 3', points: p.rps.map((v, k) => [(k + 0.5) * p.step_s, v]) });
    }
    rate.push({ name: 'intended', color: '#5b6577', points: perSecond(sec.intended, step) });
    rate.push({ name: 'achieved', color: '#2f6fd6', points: perSecond(sec.requests, step) });
    chart('chart-rate', { label: 'requests a second', series: rate, bands, xmax, cursor: snap.phase === 'running' ? snap.elapsed_s : null });

    const ps = r.period_s || 1;
    const mid = (p) => p.start_s + ps / 2;
    const periods = r.periods || [];
    const latency = [
      { name: 'p50', color: '#2e7d32', points: periods.filter((p) => p.requests).map((p) => [mid(p), p.latency_ms.p50]) },
      { name: 'p90', color: '#d9822b', points: periods.filter((p) => p.requests).map((p) => [mid(p), p.latency_ms.p90]) },
      { name: 'p99', color: '#b3261e', points: periods.filter((p) => p.requests).map((p) => [mid(p), p.latency_ms.p99]) },
      { name: 'schedule lag (worst)', color: '#6b4ea5', dash: '3 2', points: sec.lag_max_ms.map((v, i) => [(i + 0.5) * step, v]) },
    ];
    chart('chart-latency', { label: 'latency', series: latency, bands, xmax, yfmt: millis });

    const classes = new Set();
    for (const p of periods) for (const c of Object.keys(p.failures_by_class || {})) classes.add(c);
    const failures = [...classes].sort().map((c, i) => ({
      name: c, color: COLORS[(i + 3) % COLORS.length],
      points: periods.map((p) => [mid(p), ((p.failures_by_class || {})[c] || 0) / ps]),
    }));
    if (!failures.length) failures.push({ name: 'no failures', color: '#2e7d32', points: periods.map((p) => [mid(p), 0]) });
    chart('chart-failures', { label: 'failures a second', series: failures, bands, xmax, yfmt: (v) => v.toFixed(v < 10 ? 1 : 0) });

    const ls = snap.lines_step_s || 1;
    const lines = snap.lines.map((l, i) => ({ name: l.endpoint, color: COLORS[i % COLORS.length], points: l.rps.map((v, k) => [(k + 0.5) * ls, v]) }));
    chart('chart-endpoints', { label: 'endpoints', series: lines, bands, xmax, hideFirst: lines.slice(5).map((l) => l.name) });
  }

  function verdict(snap, r) {
    const box = $('verdict');
    const v = r.verdict;
    if (snap.phase === 'done') {
      const passed = v && v.passed;
      box.className = 'verdict ' + (passed ? 'pass' : 'fail');
      box.dataset.passed = String(!!passed);
      const reasons = v ? v.reasons.concat(v.thresholds.filter((t) => !t.passed).map((t) => `${t.threshold}: ${t.measured_text}`)) : [];
      box.replaceChildren(passed ? 'PASSED' : 'FAILED', node('ul', {}, ...reasons.map((x) => node('li', {}, x))));
      if (snap.stopped) box.append(node('div', {}, snap.stopped));
    } else if (snap.passed === false) {
      box.className = 'verdict fail';
      box.dataset.passed = 'false';
      box.replaceChildren('FAILING: known before the end', node('ul', {}, ...snap.lost.map((t) => node('li', {}, `${t} can no longer pass`))));
    } else {
      box.className = 'verdict going';
      delete box.dataset.passed;
      box.textContent = 'running: every threshold holds so far; the verdict comes at the end';
    }
  }

  function thresholds(snap, r) {
    const rows = [node('tr', {}, node('th', {}, 'threshold'), node('th', {}, 'measured'), node('th', {}, 'status'))];
    const judged = (r.verdict && r.verdict.thresholds) || [];
    for (const t of judged) {
      let status, cls;
      if (snap.phase === 'done') { status = t.passed ? 'passed' : 'failed'; cls = t.passed ? 'ok' : 'bad'; }
      else if (snap.lost.includes(t.threshold)) { status = 'lost'; cls = 'bad'; }
      else { status = t.passed ? 'holds so far' : 'not holding now'; cls = t.passed ? 'going' : 'bad'; }
      rows.push(node('tr', {}, node('td', {}, t.threshold), node('td', {}, t.measured_text), node('td', { class: cls }, status)));
    }
    if (!judged.length) rows.push(node('tr', {}, node('td', { colspan: '3', class: 'muted' }, 'none given: the default verdict applies (nothing sent, every request failed, under-delivery, a failed login, errors beyond production\'s)')));
    $('thresholds').replaceChildren(...rows);
    const reasons = Object.entries(r.not_sent || {});
    $('not-sent-reasons').replaceChildren(
      node('tr', {}, node('th', {}, 'reason'), node('th', {}, 'requests')),
      ...(reasons.length ? reasons.map(([k, n]) => node('tr', {}, node('td', {}, k.replace(/_/g, ' ')), node('td', {}, thousands(n))))
        : [node('tr', {}, node('td', { colspan: '2', class: 'muted' }, 'every intended request was sent'))]));
  }

  function endpoints(r) {
    const head = ['endpoint', 'requests', 'failures', 'rps', 'p50', 'p99', 'production p99', 'share intended', 'share sent'];
    const rows = [node('tr', {}, ...head.map((h) => node('th', {}, h)))];
    const intended = r.endpoints.reduce((a, e) => a + (e.intended || 0), 0) || 1;
    const sent = r.endpoints.reduce((a, e) => a + e.requests, 0) || 1;
    for (const e of r.endpoints) {
      const prod = e.production_latency_ms ? millis(e.production_latency_ms.p99) : '-';
      const slower = e.production_latency_ms && e.latency_ms.p99 > 1.5 * e.production_latency_ms.p99;
      rows.push(node('tr', {},
        node('td', {}, `${e.method} ${e.path}`), node('td', {}, thousands(e.requests)),
        node('td', { class: e.failures ? 'bad' : '' }, thousands(e.failures)), node('td', {}, e.rps.toFixed(1)),
        node('td', {}, millis(e.latency_ms.p50)), node('td', { class: slower ? 'bad' : '' }, millis(e.latency_ms.p99)), node('td', {}, prod),
        node('td', {}, percent((e.intended || 0) / intended)), node('td', {}, percent(e.requests / sent))));
    }
    $('endpoints').replaceChildren(...rows);
  }

  function reports(snap) {
    const box = $('reports');
    if (snap.phase === 'running') {
      // Made when clicked, from the run's tally: the run so far, as Locust's CSV downloads are.
      const live = ['stats.csv', 'history.csv', 'report.html', 'summary.md'].map((f) => node('a', { href: `/live/${f}`, target: '_blank', rel: 'noopener' }, f));
      const parts = [];
      live.forEach((a, i) => { if (i) parts.push(' · '); parts.push(a); });
      box.className = '';
      box.replaceChildren(node('div', {}, 'The run so far: ', ...parts), node('div', { class: 'muted' }, 'Every report is written when the run ends; these are made now, from the same tally.'));
      return;
    }
    if (snap.phase !== 'done') return;
    const links = (snap.reports || []).map((f) => node('a', { href: `/runs/${snap.run_number}/${f}`, target: '_blank', rel: 'noopener' }, f));
    const parts = [];
    links.forEach((a, i) => { if (i) parts.push(' · '); parts.push(a); });
    box.className = '';
    box.replaceChildren(node('div', {}, ...parts), node('div', { class: 'muted' }, `On disk in ${snap.out_dir}` + (control ? '' : ' (the links work while replay runs; it exits with the run)')));
  }

  function production(snap) {
    const p = snap.production;
    if (!p || !p.start || snap.phase === 'idle') { $('cursor').textContent = ''; return; }
    const at = new Date(Date.parse(p.start) + snap.elapsed_s * p.speed * 1000);
    const hhmm = at.toISOString().slice(11, 16), day = at.toISOString().slice(0, 10);
    $('cursor').textContent = (snap.phase === 'done' ? 'replayed up to ' : 'replaying ') + `${hhmm} of ${day} production (UTC), at ${p.speed.toFixed(p.speed < 10 ? 1 : 0)}x`;
  }

  function render(snap) {
    last = snap;
    const phase = $('phase');
    phase.textContent = snap.phase === 'running' ? 'running' : snap.phase === 'done' ? 'finished' : 'no run yet';
    phase.className = 'pill ' + snap.phase;
    document.body.dataset.phase = snap.phase;
    if (control) {
      $('start').disabled = snap.phase === 'running';
      $('stop').disabled = snap.phase !== 'running';
    }
    const r = snap.results;
    if (!r) return;
    $('what').textContent = `run ${r.run_id}: ${r.plan ? r.plan.unit + ' from ' + r.plan.source : ''} to ${r.target}`;
    const t = r.totals;
    const length = r.plan && r.plan.length_s;
    const elapsed = snap.phase === 'done' ? r.duration_s : snap.elapsed_s;
    figure('elapsed', elapsed, duration(elapsed));
    figure('remaining', length ? Math.max(0, length - elapsed) : null, snap.phase === 'done' ? 'done' : length ? duration(Math.max(0, length - elapsed)) : 'until stopped');
    $('bar').style.width = (snap.phase === 'done' ? 100 : length ? Math.min(100, 100 * elapsed / length) : 0) + '%';
    figure('intended', t.intended, thousands(t.intended));
    figure('sent', t.requests, thousands(t.requests));
    figure('not-sent', t.not_sent, thousands(t.not_sent));
    figure('failures', t.failures, thousands(t.failures) + (t.requests ? ` (${percent(t.failures / t.requests)})` : ''));
    figure('p99', r.latency_ms.p99, millis(r.latency_ms.p99));
    const users = snap.seconds.users.length ? snap.seconds.users[snap.seconds.users.length - 1] : 0;
    figure('users', t.users ? users : null, t.users ? thousands(users) : '-');
    figure('mix', snap.mix_distance, snap.mix_distance == null ? '-' : snap.mix_distance.toFixed(3));
    production(snap);
    verdict(snap, r);
    drawCharts(snap, r);
    thresholds(snap, r);
    endpoints(r);
    reports(snap);
    if (snap.phase === 'done') refreshRuns();
  }

  function connect() {
    source = new EventSource('/api/events');
    source.addEventListener('snapshot', (e) => {
      const snap = JSON.parse(e.data);
      render(snap);
      // Watching one run: it is over, and replay exits with it; stop listening before it goes.
      if (snap.phase === 'done' && !control) source.close();
    });
    source.onerror = () => {
      if (last && last.phase === 'done' && !control) source.close();
      else $('phase').textContent = 'reconnecting';
    };
  }

  async function call(path, body) {
    const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
    const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  function form() {
    return {
      profile: Number($('f-profile').value || 0), host: $('f-host').value, speed: $('f-speed').value, duration: $('f-duration').value,
      window: $('f-window').value, rate_scale: $('f-rate-scale').value, max_rps: $('f-max-rps').value,
      thresholds: $('f-thresholds').value, sessions: $('f-sessions').checked,
    };
  }

  function say(text, bad) {
    const m = $('message');
    m.textContent = text;
    m.className = bad ? 'bad' : '';
  }

  let planTimer = null;
  function planSoon() {
    clearTimeout(planTimer);
    planTimer = setTimeout(async () => {
      const plan = $('plan');
      try {
        const data = await call('/api/plan', form());
        plan.textContent = data.plan;
        plan.className = 'plan';
        plan.dataset.ok = 'true';
      } catch (e) {
        plan.textContent = e.message;
        plan.className = 'plan bad';
        plan.dataset.ok = 'false';
      }
    }, 300);
  }

  async function refreshRuns() {
    if (!control) return;
    const response = await fetch('/api/runs');
    if (!response.ok) return;
    const runs = await response.json();
    $('runs-section').hidden = runs.length === 0;
    const head = node('tr', {}, ...['run', 'profile', 'target', 'started', 'requests', 'failures', 'verdict', 'reports'].map((h) => node('th', {}, h)));
    const rows = runs.slice().reverse().map((r) => {
      const verdictText = r.passed == null ? 'running' : r.passed ? 'passed' : 'failed';
      const links = node('td', {});
      r.reports.forEach((f, i) => { if (i) links.append(' '); links.append(node('a', { href: `/runs/${r.number}/${f}`, target: '_blank', rel: 'noopener' }, f)); });
      return node('tr', {}, node('td', {}, r.run_id), node('td', {}, r.profile), node('td', {}, r.target), node('td', {}, r.started),
        node('td', {}, thousands(r.requests)), node('td', {}, thousands(r.failures)),
        node('td', { class: r.passed == null ? 'going' : r.passed ? 'ok' : 'bad' }, verdictText + (r.stopped ? ` (${r.stopped})` : '')), links);
    });
    $('runs').replaceChildren(head, ...rows);
  }

  async function setUpControl() {
    const response = await fetch('/api/choices');
    if (!response.ok) return;
    const choices = await response.json();
    if (!choices) return;
    control = true;
    $('control').hidden = false;
    $('f-profile').replaceChildren(...choices.profiles.map((p, i) => node('option', { value: String(i) }, p)));
    if (choices.host) $('f-host').value = choices.host;
    for (const input of $('form').querySelectorAll('input, select, textarea')) input.addEventListener('input', planSoon);
    $('start').addEventListener('click', async () => {
      $('start').disabled = true;
      try {
        const data = await call('/api/start', form());
        say(`run ${data.run_id} started`, false);
      } catch (e) {
        say(e.message, true);
        if (!last || last.phase !== 'running') $('start').disabled = false;
      }
    });
    $('stop').addEventListener('click', async () => {
      try {
        await call('/api/stop');
        say('stopping: the partial results are being written', false);
      } catch (e) {
        say(e.message, true);
      }
    });
    planSoon();
    refreshRuns();
    if (last) render(last);
  }

  document.addEventListener('DOMContentLoaded', () => {
    connect();
    setUpControl();
  });
})();
