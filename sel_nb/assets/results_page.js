/* The SEL results page: draws the results inlined in #sel-data with Chart.js (inlined before this script).
   Written by sel_nb.results_page; the data's shape is described there. window.selPage exposes the state and charts. */
(function () {
'use strict';
const D = JSON.parse(document.getElementById('sel-data').textContent);
const $ = (s) => document.querySelector(s);
const $$ = (s) => [...document.querySelectorAll(s)];
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a) => a.length > 1 ? Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1)) : null;
const sig = (v) => String(Number(v.toPrecision(4)));
const pct = (v) => (100 * v).toFixed(2) + '%';
const pctShort = (v) => String(Number((100 * v).toFixed(2))) + '%';
const fixed = (n) => (v) => v.toFixed(n);
const REF = "the seed's published run (CIFAR-10, T4 GPU)", REF_SHORT = "the seed's run";
const REF_NOTE = `Dashed or hollow: ${REF}, another data set and machine; compare shapes, not values.`;
const COST = {
  counted: {col: 'flops_T', saved: 'saved_counted', name: "FLOPs, the seed's count", axis: "FLOPs, the seed's count (×10¹²)", log: true, fmt: (v) => sig(v) + ' TFLOP'},
  executed: {col: 'flops_measured_T', saved: 'saved_executed', name: 'FLOPs executed', axis: 'FLOPs executed (×10¹²)', log: true, fmt: (v) => sig(v) + ' TFLOP'},
  time: {col: 'time_s', saved: 'saved_time', name: 'training wall-clock', axis: 'training wall-clock (s, evaluation excluded)', log: false, fmt: (v) => v.toFixed(1) + ' s'},
};
const TAB10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const seeds = D.seeds.map(String);
const state = {tab: 'accuracy', seed: seeds.length > 1 ? 'mean' : seeds[0], cost: 'executed', overlay: false,
               metric: 'test_full', xaxis: 'epoch', esys: null, cwhich: 'seen', fx: 'mb', hidden: {}};
const charts = {};
const REFSYS = D.systems.find((s) => s.reference);  // what savings are measured against: the registry's reference system
const refLabel = REFSYS ? REFSYS.label : 'reference system';

// ------------------------------------------------------------------ data
function runs(key, source = D.hist) {  // the runs drawn for a system (histories, points, a study's curves): every seed's (mean mode) or the chosen seed's
  const h = source[key] || {};
  return state.seed === 'mean' ? seeds.filter((s) => h[s]).map((s) => h[s]) : (h[state.seed] ? [h[state.seed]] : []);
}
function aggregate(hs, ycol, xcol, by = 'epoch') {  // one point per value of `by` (epoch, step, budget): mean x, mean y, min and max of y, number of runs
  const groups = new Map();
  for (const h of hs) {
    if (!h[ycol] || !h[xcol]) continue;
    h[by].forEach((k, i) => {
      const g = groups.get(k) || {xs: [], ys: [], es: []};
      if (h[xcol][i] != null) g.xs.push(h[xcol][i]);
      if (h[ycol][i] != null) g.ys.push(h[ycol][i]);
      if (h.epoch) g.es.push(h.epoch[i]);
      groups.set(k, g);
    });
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).filter(([, g]) => g.xs.length).map(([k, g]) => ({
    key: k, epoch: g.es.length ? mean(g.es) : null, x: mean(g.xs),
    ...(g.ys.length ? {y: mean(g.ys), lo: Math.min(...g.ys), hi: Math.max(...g.ys), n: g.ys.length} : {y: null, n: 0})}));
}
function lastRows(key) {  // the final row of each drawn run, as {column: value}
  return runs(key).map((h) => Object.fromEntries(Object.keys(h).map((c) => [c, h[c][h.epoch.length - 1]])));
}
function seedLabel() { return state.seed === 'mean' ? `mean of ${seeds.length} seeds, band: min–max` : `seed ${state.seed}`; }

// ------------------------------------------------------------------ drawing
const alpha = (hex, a) => hex + Math.round(a * 255).toString(16).padStart(2, '0');
const spread = {  // bands (min–max over seeds) under lines, error bars over points and bars
  id: 'spread',
  beforeDatasetsDraw(chart) {
    const {ctx, chartArea: a, scales: {x, y}} = chart;
    ctx.save(); ctx.beginPath(); ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top); ctx.clip();
    chart.data.datasets.forEach((ds, i) => {
      if (!ds.band || !chart.isDatasetVisible(i)) return;
      ctx.fillStyle = alpha(ds.borderColor, 0.18);
      let seg = [];
      const fill = () => {
        if (seg.length > 1) {
          ctx.beginPath();
          seg.forEach((p, j) => ctx[j ? 'lineTo' : 'moveTo'](x.getPixelForValue(p.x), y.getPixelForValue(p.hi)));
          seg.slice().reverse().forEach((p) => ctx.lineTo(x.getPixelForValue(p.x), y.getPixelForValue(p.lo)));
          ctx.closePath(); ctx.fill();
        }
        seg = [];
      };
      ds.band.forEach((p) => (p.y == null ? fill() : seg.push(p))); fill();
    });
    ctx.restore();
  },
  afterDatasetsDraw(chart) {
    const {ctx, chartArea: a, scales: {x, y}} = chart;
    ctx.save(); ctx.beginPath(); ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top); ctx.clip(); ctx.lineWidth = 1.2;
    chart.data.datasets.forEach((ds, i) => {
      if (!ds.err || !chart.isDatasetVisible(i)) return;
      ctx.strokeStyle = ds.errColor || '#333';
      chart.getDatasetMeta(i).data.forEach((el, j) => {
        const e = ds.err[j];
        if (!e) return;
        const line = (x0, y0, x1, y1) => { ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke(); };
        if (e.y) { const [t, b] = [y.getPixelForValue(e.y[1]), y.getPixelForValue(e.y[0])]; line(el.x, t, el.x, b); line(el.x - 3, t, el.x + 3, t); line(el.x - 3, b, el.x + 3, b); }
        if (e.x) { const [l, r] = [x.getPixelForValue(e.x[0]), x.getPixelForValue(e.x[1])]; line(l, el.y, r, el.y); line(l, el.y - 3, l, el.y + 3); line(r, el.y - 3, r, el.y + 3); }
      });
    });
    ctx.restore();
  },
};
function axis(title, {log = false, fmt = null, integer = false, min, max} = {}) {
  return {type: log ? 'logarithmic' : 'linear', min, max, title: {display: true, text: title},
          ticks: {precision: integer ? 0 : undefined, callback: fmt ? (v) => fmt(v) : undefined, maxTicksLimit: 8}};
}
function reach(ax, vals) {  // widen an axis to show the bands and error bars too
  const v = vals.filter((x) => x != null && isFinite(x));
  if (v.length) Object.assign(ax, {suggestedMin: Math.min(...v), suggestedMax: Math.max(...v)});
  return ax;
}
function legendClick(id) {  // toggling a system keeps it hidden across re-draws of this chart
  return (e, item, legend) => {
    const ds = legend.chart.data.datasets[item.datasetIndex], h = state.hidden[id] || (state.hidden[id] = new Set());
    h.has(ds.label) ? h.delete(ds.label) : h.add(ds.label);
    legend.chart.setDatasetVisibility(item.datasetIndex, !h.has(ds.label)); legend.chart.update();
  };
}
function draw(id, type, datasets, scales, tooltip) {
  if (charts[id]) charts[id].destroy();
  const hidden = state.hidden[id];
  if (hidden) datasets.forEach((ds) => { ds.hidden = hidden.has(ds.label); });
  charts[id] = new Chart(document.getElementById('c-' + id), {
    type, data: {labels: scales.labels, datasets}, plugins: [spread],
    options: {animation: false, maintainAspectRatio: false, interaction: {mode: 'nearest', intersect: false},
              scales: {x: scales.x, y: scales.y},
              plugins: {legend: {onClick: legendClick(id), labels: {boxWidth: 12, font: {size: 11}}},
                        tooltip: {callbacks: tooltip, filter: (item) => !item.dataset.guide}}},
  });
  return charts[id];
}
function note(id, lines) { const n = document.getElementById('n-' + id); n.textContent = lines.filter(Boolean).join(' '); }

function lineDatasets(ycol, xcol, fmt, {withRef = true, source = D.hist, by = 'epoch'} = {}) {  // a line per system (band over seeds), the seed's runs dashed
  const sets = [], absent = [], noref = [];
  for (const s of D.systems) {
    const pts = aggregate(runs(s.key, source), ycol, xcol, by);
    if (!pts.some((p) => p.y != null)) { absent.push(s.label); continue; }
    sets.push({label: s.label, data: pts.map((p) => ({x: p.x, y: p.y})), pts, fmt, borderColor: s.color, backgroundColor: s.color,
               band: state.seed === 'mean' && runs(s.key, source).length > 1 ? pts : null, pointRadius: 3, borderWidth: 2, spanGaps: false});
  }
  if (withRef && state.overlay) for (const s of D.systems) {
    const ref = D.reference[s.key];
    if (!ref) continue;
    if (!ref[ycol] || !ref[xcol]) { noref.push(s.label); continue; }
    const pts = aggregate([ref], ycol, xcol);
    sets.push({label: `${s.label}, ${REF_SHORT}`, long: `${s.label}, ${REF}`, data: pts.map((p) => ({x: p.x, y: p.y})), pts, fmt, borderColor: s.color,
               backgroundColor: s.color, borderDash: [6, 4], borderWidth: 1.5, pointRadius: 1.5, ref: true});
  }
  return {sets, absent, noref};
}
const costOf = (col) => Object.values(COST).find((c) => c.col === col);  // the cost a column holds
const where = (p, by) => (by === 'epoch' ? `epoch ${p.key}` : `${by} ${p.key}, epoch ${sig(p.epoch)}`);  // a point's place in its run
function lineChart(id, ycol, xcol, yopts, fmt, opts = {}) {  // opts: as `lineDatasets`'s (points: source D.points, by 'step', no overlay)
  const {sets, absent, noref} = lineDatasets(ycol, xcol, fmt, opts), x = costOf(xcol), by = opts.by || 'epoch';
  const xs = xcol === 'epoch' ? axis('epoch', {integer: true}) : axis(x.axis, {log: x.log});
  const ys = reach(axis(yopts.title, yopts), sets.flatMap((ds) => (ds.band || []).flatMap((p) => [p.lo, p.hi])));
  draw(id, 'line', sets, {x: xs, y: ys}, {
    title: (items) => { const p = items[0].dataset.pts[items[0].dataIndex]; return where(p, by) + (xcol === 'epoch' ? '' : `, ${x.fmt(p.x)}`); },
    label: (c) => {
      const ds = c.dataset, p = ds.pts[c.dataIndex];
      if (p.y == null) return `${ds.long || ds.label}: none`;
      return `${ds.long || ds.label}: ${fmt(p.y)}` + (p.n > 1 ? ` (mean of ${p.n} seeds; ${fmt(p.lo)} to ${fmt(p.hi)})` : '');
    },
  });
  note(id, [absent.length && `No data (${seedLabel()}) for: ${absent.join(', ')}.`,
            state.overlay && REF_NOTE, noref.length && `The seed's published run has no such column for: ${noref.join(', ')}.`]);
}

// ------------------------------------------------------------------ views
const ACC_AXIS = {title: 'accuracy', fmt: (v) => (100 * v).toFixed(0) + '%'};
const metricName = () => (state.metric === 'test_full' ? 'full test set' : `held-out set (${D.held_per_class || '?'} per class)`);
const views = {
  accuracy() {
    const xcol = state.xaxis === 'epoch' ? 'epoch' : COST[state.cost].col;
    $('#t-test').textContent = `Test accuracy, ${metricName()}`;
    lineChart('test', state.metric, xcol, ACC_AXIS, pct);
    lineChart('train', 'train_acc', xcol, ACC_AXIS, pct);
  },
  points() {  // accuracy between the epochs' rows: the points files
    for (const [id, c] of [['pflops', COST.executed], ['ptime', COST.time]]) {
      $(`#t-${id}`).textContent = `Held-out accuracy (${D.held_per_class || '?'} per class) against ${c.name}`;
      lineChart(id, 'test_100', c.col, ACC_AXIS, pct, {source: D.points, by: 'step', withRef: false});
    }
  },
  cost() {
    const c = COST[state.cost];
    $('#t-cost').textContent = `Cumulative ${c.name}`;
    lineChart('cost', c.col, 'epoch', {title: c.axis, log: c.log}, c.fmt);
    lineChart('sparsity', 'sparsity', 'epoch', {title: 'fraction zeroed', min: 0, max: 1}, (v) => (100 * v).toFixed(1) + '%');
  },
  tradeoff() {
    const c = COST[state.cost], S = D.summary, sets = [], absent = [];
    $('#t-tradeoff').textContent = `Held-out accuracy against ${c.name} saved (vs ${refLabel}, same seed)`;
    if (!S) { draw('tradeoff', 'bubble', [], {x: axis('saved (%)'), y: axis('held-out accuracy (%)')}, {}); note('tradeoff', ['summary.json is missing: no final accuracies and savings to draw.']); return; }
    for (const s of D.systems) {
      let p;
      if (state.seed === 'mean') {
        const m = S.systems && S.systems[s.key];
        if (m && m[c.saved + '_mean'] != null) p = {x: m[c.saved + '_mean'], y: m.test_100_mean, sx: m[c.saved + '_std'], sy: m.test_100_std, sp: m.sparsity_mean, n: m.n_seeds};
      } else {
        const r = (S.runs || []).find((r) => r.experiment === s.key && String(r.seed) === state.seed);
        if (r && r[c.saved] != null) p = {x: r[c.saved], y: r.test_100, sp: r.sparsity, n: 1};
      }
      if (!p) { absent.push(s.label); continue; }
      const err = p.sx != null || p.sy != null ? [{x: p.sx != null ? [100 * (p.x - p.sx), 100 * (p.x + p.sx)] : null,
                                                   y: p.sy != null ? [100 * (p.y - p.sy), 100 * (p.y + p.sy)] : null}] : null;
      sets.push({label: s.label, data: [{x: 100 * p.x, y: 100 * p.y, r: 5 + 15 * (p.sp || 0)}], p, err, errColor: s.color,
                 backgroundColor: alpha(s.color, 0.6), borderColor: s.color});
    }
    const ref = D.reference, base = REFSYS && ref[REFSYS.key];
    if (state.overlay && base && base[c.col]) for (const s of D.systems) {
      const h = ref[s.key];
      if (!h || !h[c.col]) continue;
      const last = (t, col) => t[col][t[col].length - 1], x = 1 - last(h, c.col) / last(base, c.col);
      sets.push({label: `${s.label}, ${REF_SHORT}`, long: `${s.label}, ${REF}`, data: [{x: 100 * x, y: 100 * last(h, 'test_100'), r: 5 + 15 * (last(h, 'sparsity') || 0)}],
                 p: {x, y: last(h, 'test_100'), sp: last(h, 'sparsity'), n: 1}, backgroundColor: '#fff0', borderColor: s.color, borderWidth: 2, borderDash: [4, 3]});
    }
    const pm = (v, sd, f) => f(v) + (sd != null ? ' ± ' + f(sd) : '');
    const bars = (k) => sets.flatMap((ds) => (ds.err || []).flatMap((e) => (e && e[k]) || []));
    draw('tradeoff', 'bubble', sets, {x: reach(axis(`${c.name} saved (%)`), bars('x')), y: reach(axis('held-out accuracy (%)'), bars('y'))}, {
      label: (k) => { const p = k.dataset.p; return [`${k.dataset.long || k.dataset.label}${p.n > 1 ? ` (mean ± std of ${p.n} seeds)` : ''}`,
        `held-out accuracy ${pm(p.y, p.sy, pct)}`, `${c.name} saved ${pm(p.x, p.sx, pct)}`, `sparsity ${pct(p.sp || 0)} (bubble size)`]; },
    });
    note('tradeoff', [`${seedLabel().replace('band: min–max', 'bars: ± std')}. Bubble size: mean sparsity.`,
                      absent.length && `No ${c.name} saving (${seedLabel()}) for: ${absent.join(', ')}.`,
                      state.overlay && REF_NOTE, state.overlay && state.cost === 'executed' && "The seed's published run has no executed FLOPs."]);
  },
  perclass() {
    const sets = [], absent = [];
    for (const s of D.systems) {
      const rows = lastRows(s.key).filter((r) => D.classes.some((c) => r['acc_' + c] != null));
      if (!rows.length) { absent.push(s.label); continue; }
      const vals = D.classes.map((c) => rows.map((r) => r['acc_' + c]).filter((v) => v != null));
      const sd = vals.map(std);
      sets.push({label: s.label, data: vals.map((v) => 100 * mean(v)), backgroundColor: s.color, n: rows.length, sd,
                 err: rows.length > 1 ? vals.map((v, j) => ({y: [100 * (mean(v) - sd[j]), 100 * (mean(v) + sd[j])]})) : null});
    }
    const first = D.systems.filter((s) => s.reference || (s.panels || []).includes('perclass')).map((s) => s.label);  // shown at first
    if (!state.hidden.perclass && first.length > 1 && first.every((l) => sets.some((d) => d.label === l)))
      state.hidden.perclass = new Set(sets.map((d) => d.label).filter((l) => !first.includes(l)));
    draw('perclass', 'bar', sets, {labels: D.classes, x: {ticks: {autoSkip: false, maxRotation: 60}}, y: axis('accuracy (%)', {min: 0, max: 100})}, {
      label: (k) => { const ds = k.dataset, v = k.raw / 100, sd = ds.sd[k.dataIndex];
        return `${ds.label}: ${pct(v)}` + (ds.n > 1 ? ` ± ${pct(sd)} (mean ± std of ${ds.n} seeds)` : ''); },
    });
    note('perclass', [`${seedLabel().replace('band: min–max', 'bars: ± std')}. Click a system in the legend to show or hide it.`,
                      absent.length && `No per-class accuracy for: ${absent.join(', ')}.`]);
  },
  embarrassment() {
    const has = D.systems.filter((s) => Object.values(D.hist[s.key] || {}).some((h) => D.classes.some((c) => (h['E_' + c] || []).some((v) => v != null))));
    const sel = $('#esys');
    if (sel.options.length !== has.length) sel.innerHTML = has.map((s) => `<option value="${esc(s.key)}">${esc(s.label)}</option>`).join('');
    if (!has.some((s) => s.key === state.esys)) state.esys = has.length ? has[0].key : null;
    sel.value = state.esys || '';
    for (const [id, pre] of [['E', 'E_'], ['C', 'C_']]) {
      const sets = !state.esys ? [] : D.classes.map((c, j) => {
        const pts = aggregate(runs(state.esys), pre + c, 'epoch');
        return {label: c, data: pts.map((p) => ({x: p.x, y: p.y})), pts, borderColor: TAB10[j % 10], backgroundColor: TAB10[j % 10], pointRadius: 2, borderWidth: 1.5, spanGaps: false};
      });
      draw(id, 'line', sets, {x: axis('epoch', {integer: true}), y: axis(id === 'E' ? 'E' : 'C', {min: 0})}, {
        title: (items) => `epoch ${items[0].dataset.pts[items[0].dataIndex].epoch}`,
        label: (k) => { const p = k.dataset.pts[k.dataIndex];
          return p.y == null ? `${k.dataset.label}: none (dense epoch)` : `${k.dataset.label}: ${p.y.toFixed(4)}` + (p.n > 1 ? ` (mean of ${p.n} seeds; ${p.lo.toFixed(4)} to ${p.hi.toFixed(4)})` : ''); },
      });
      note(id, [!state.esys ? 'No system in this folder records embarrassment (only SEL systems do).' : `${seedLabel().replace(', band: min–max', '')}; dense epochs (warm-up) have no E or C: the gaps.`]);
    }
  },
  comm() { const rows = commRows(); commChart(rows); hookTimeChart(rows); $('#comm-table').innerHTML = commTable(rows); },
  stages() { $('#stages-runs').innerHTML = stagesRuns(); },
  frontier() { frontierChart(); },
  verdicts() { $('#verdict-tables').innerHTML = verdictTables() + irreducibleTable(); },
  summary() { $('#summary-table').innerHTML = summaryTable(); $('#run-table').innerHTML = runTable(); },
  bwtime() { bwTimeChart(); },
  bwmodel() { bwModelChart(); },
  bwtable() { $('#bw-table').innerHTML = bwTable(); },
  ctasks() { continualCharts(); },
  rmatrix() { $('#r-tables').innerHTML = rTables(); },
  csummary() { $('#c-summary-table').innerHTML = continualSummary(); $('#c-run-table').innerHTML = runTable(); },
  rcurves() { rlCharts(); },
  rsummary() { $('#r-summary-table').innerHTML = rlSummary(); $('#r-tuned-table').innerHTML = tunedTable(RL.tuned); },
  fcurves() { fedCharts(); },
  fsummary() { $('#f-summary-table').innerHTML = fedSummary(); $('#f-tuned-table').innerHTML = tunedTable(F.tuned); },
};

// ------------------------------------------------------------------ a distributed run's communication
const hasComm = () => D.systems.some((s) => Object.values((D.finals || {})[s.key] || {}).some((f) => f.comm));
const commRuns = (key) => runs(key, D.finals).map((f) => f.comm).filter(Boolean);  // the drawn runs' `comm`, from their final summaries
function spreadOf(cs, col, scale = 1) {  // mean, std, min and max over runs of one value; null where no run has it
  const v = cs.map((c) => c[col]).filter((x) => x != null).map((x) => x * scale);
  return v.length ? {y: mean(v), sd: std(v), lo: Math.min(...v), hi: Math.max(...v), n: v.length} : null;
}
const bytes = (v) => Math.round(v).toLocaleString('en');
const bytesShort = (v) => (v >= 1e6 ? sig(v / 1e6) + ' MB' : v >= 1e3 ? sig(v / 1e3) + ' kB' : sig(v) + ' B');
const logTick = (f) => (v) => { const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9); return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-6) ? f(v) : ''; };  // 1, 2, 5 × 10^k
const hookName = (c) => [c.hook, ...Object.entries(c.options || {}).map(([k, v]) => `${k} ${v}`)].join(', ');
function commRows() {  // per system with a distributed run: its hook, processes, bytes per step, the dense allreduce's, compression, hook ms per step
  return D.systems.map((s) => ({s, cs: commRuns(s.key)})).filter((r) => r.cs.length).map(({s, cs}) => ({
    s, hook: hookName(cs[0]), world: cs[0].world, n: cs.length, bytes: spreadOf(cs, 'bytes_per_step'), dense: spreadOf(cs, 'dense_per_step'),
    compression: spreadOf(cs, 'compression'), ms: spreadOf(cs, 'hook_seconds_per_step', 1e3)}));
}
function commBars(rows, stat, label, fmt) {  // a bar per system, its colour, error bars min–max over the seeds drawn
  return {label, data: rows.map((r) => r[stat].y), rows, stat, fmt, backgroundColor: rows.map((r) => alpha(r.s.color, 0.8)),
          borderColor: rows.map((r) => r.s.color), errColor: '#333', err: rows.map((r) => (r[stat].n > 1 ? {y: [r[stat].lo, r[stat].hi]} : null))};
}
const commTooltip = {
  title: (items) => items[0].dataset.rows[items[0].dataIndex].s.label,
  label: (c) => { const ds = c.dataset, v = ds.rows[c.dataIndex][ds.stat];
    const range = ds.fmt(v.lo) === ds.fmt(v.hi) ? ` (all ${v.n} seeds)` : ` (mean of ${v.n} seeds; ${ds.fmt(v.lo)} to ${ds.fmt(v.hi)})`;
    return `${ds.label}: ${ds.fmt(v.y)}` + (v.n > 1 ? range : ''); },
  afterBody: (items) => { const r = items[0].dataset.rows[items[0].dataIndex];
    return [`hook: ${r.hook}, ${r.world} processes`, r.compression && `${sig(r.compression.y)}× fewer bytes than a dense allreduce`].filter(Boolean); },
};
function commChart(rows) {  // bytes per step (log), the dense allreduce's as a black tick on each bar
  const B = (v) => bytes(v) + ' B', dense = {...commBars(rows, 'dense', 'dense allreduce', B), type: 'line', showLine: false, pointStyle: 'line',
    pointRadius: 14, pointHoverRadius: 14, borderWidth: 2.5, borderColor: '#222', backgroundColor: '#222', err: null};
  const vals = rows.flatMap((r) => [r.bytes.lo, r.bytes.hi, r.dense.y]);
  const y = axis('bytes per step and rank (log scale)', {log: true, fmt: logTick(bytesShort)});
  if (vals.length) Object.assign(y, {min: 10 ** Math.floor(Math.log10(Math.min(...vals) / 2)), max: 10 ** Math.ceil(Math.log10(Math.max(...vals) * 1.5))});  // a log axis draws bars from its minimum
  draw('comm', 'bar', rows.length ? [commBars(rows, 'bytes', 'bytes sent per step and rank', B), dense] : [],
       {labels: rows.map((r) => r.s.label), x: {ticks: {autoSkip: false, maxRotation: 60}}, y}, commTooltip);
  const none = D.systems.filter((s) => !rows.some((r) => r.s === s)).map((s) => s.label);
  note('comm', [`${seedLabel().replace('band', 'bars')}. What each rank's hook hands to the collective per step, as the hooks count it; black: a dense allreduce of the same gradients.`,
                none.length && `No distributed run (${seedLabel()}) for: ${none.join(', ')}.`,
                rows.length && !rows.some((r) => r.ms) && 'These runs recorded no hook time (they predate the hooks\' clock).']);
}
function hookTimeChart(rows) {  // shown where a run measured it
  const timed = rows.filter((r) => r.ms), ms = (v) => v.toFixed(2) + ' ms';
  $('#c-hooktime').closest('figure').hidden = !timed.length;
  draw('hooktime', 'bar', timed.length ? [commBars(timed, 'ms', 'hook time per step', ms)] : [],
       {labels: timed.map((r) => r.s.label), x: {ticks: {autoSkip: false, maxRotation: 60}}, y: reach(axis('ms per step', {min: 0}), timed.flatMap((r) => [r.ms.lo, r.ms.hi]))}, commTooltip);
  note('hooktime', [timed.length && timed.length < rows.length && `No hook time for: ${rows.filter((r) => !r.ms).map((r) => r.s.label).join(', ')} (runs from before the hooks kept a clock).`,
                    timed.length && `${seedLabel().replace('band', 'bars')}. From the moment DDP hands a bucket to the hook to the moment its result is ready (compressing, the collective, decompressing), summed over a step's buckets, rank 0's; it overlaps the backward pass.`]);
}
function commTable(rows) {
  const pm = (v, f) => (v ? f(v.y) + (v.sd != null ? ' ± ' + f(v.sd) : '') : 'n/a');
  return table(['System', 'Hook', 'Processes', 'Seeds', 'Bytes/step and rank', 'Dense allreduce', '× fewer', 'Hook ms/step'],
               rows.map((r) => [r.s.label, r.hook, r.world, r.n, pm(r.bytes, bytes), pm(r.dense, bytes), pm(r.compression, fixed(1)), pm(r.ms, fixed(2))])) +
         `<p class="note">${state.seed === 'mean' ? 'Mean ± std over seeds' : `Seed ${esc(state.seed)}`}; bytes per step and rank as the hooks count them (the final summaries' <code>comm</code>); × fewer: a dense allreduce's bytes over the hook's.</p>`;
}

// ------------------------------------------------------------------ a bandwidth sweep
const BW = D.bandwidth;
function hookSets(ycol, xcol) {  // a line per hook over the links: the mean of the seeds drawn, error bars min–max over them
  const sets = [], absent = [];
  for (const s of D.systems) {
    const pts = aggregate(runs(s.key, BW.curves), ycol, xcol, 'gbit').filter((p) => p.y != null);
    if (!pts.length) { absent.push(s.label); continue; }
    sets.push({label: s.label, data: pts.map((p) => ({x: p.x, y: p.y})), pts, borderColor: s.color, backgroundColor: s.color, borderWidth: 2,
               pointRadius: 4, errColor: s.color, err: pts.map((p) => (p.n > 1 ? {y: [p.lo, p.hi]} : null))});
  }
  return {sets, absent};
}
const msLabel = (c) => { const ds = c.dataset, p = ds.pts[c.dataIndex];
  return `${ds.label}: ${sig(p.y)} ms` + (p.n > 1 ? ` (mean of ${p.n} seeds; ${sig(p.lo)} to ${sig(p.hi)} ms)` : ''); };
const errs = (sets) => sets.flatMap((ds) => ds.pts.flatMap((p) => [p.lo, p.hi]));
function bwTimeChart() {
  const {sets, absent} = hookSets('step_ms', 'gbit'), links = [...new Set(BW.table.map((r) => r.gbit))];
  const x = {...axis('link (Gbit/s, log scale)', {log: true, fmt: sig}), min: Math.min(...links) / 1.5, max: Math.max(...links) * 1.5,
             afterBuildTicks: (ax) => { ax.ticks = links.map((v) => ({value: v})); }};
  draw('bwtime', 'line', sets, {x, y: reach(axis('step time (ms, log scale)', {log: true}), errs(sets))}, {
    title: (items) => `link ${sig(items[0].dataset.pts[items[0].dataIndex].x)} Gbit/s`, label: msLabel});
  note('bwtime', [`${seedLabel().replace('band', 'bars')}. Step time: the run's training wall-clock over its steps (rank 0's).`,
                  absent.length && `No step time (${seedLabel()}) for: ${absent.join(', ')}.`]);
}
function guide(label, data, borderDash) {  // a black line to read the points against, without a tooltip
  return {label, data, borderDash, borderColor: '#333', backgroundColor: '#333', borderWidth: 1, pointRadius: 0, showLine: true, guide: true};
}
function bwModelChart() {  // a point per hook and link, the identity line and fit_link's
  const {sets, absent} = hookSets('hook_ms', 'predicted_ms'), f = BW.fit, v = sets.flatMap((ds) => ds.pts.flatMap((p) => [p.x, p.lo, p.hi]));
  const [lo, hi] = [Math.min(...v), Math.max(...v)], along = Array.from({length: 40}, (_, i) => lo * (hi / lo) ** (i / 39));
  const guides = !sets.length ? [] : [guide('measured = predicted', [{x: lo, y: lo}, {x: hi, y: hi}], [6, 4]),
    ...(f ? [guide(`fit: ${f.a.toFixed(1)} ms + ${f.b.toFixed(2)} × predicted`, along.map((x) => ({x, y: f.a + f.b * x})).filter((p) => p.y > 0), [2, 3])] : [])];
  draw('bwmodel', 'scatter', [...sets, ...guides], {x: axis('predicted by comm_seconds (ms per step, log scale)', {log: true}),
                                                   y: reach(axis('measured hook time (ms per step, log scale)', {log: true}), errs(sets))}, {
    title: (items) => `predicted ${sig(items[0].dataset.pts[items[0].dataIndex].x)} ms, link ${sig(items[0].dataset.pts[items[0].dataIndex].key)} Gbit/s`, label: msLabel});
  note('bwmodel', [`${seedLabel().replace('band', 'bars')}. Predicted: bandwidth only (a ring allreduce moves 2(N−1)/N of the payload through each link, an all-gather N−1 payloads); the fit's constant is the fixed cost of a step's communication, its slope how much slower than the link the bytes move.`,
                   absent.length && `No hook time (${seedLabel()}) for: ${absent.join(', ')} (runs from before the hooks kept a clock).`]);
}
function bwTable() {  // bandwidth_table's rows, as bandwidth.txt prints them
  const pm = (m, s, f) => (m == null ? 'n/a' : f(m) + (s != null ? ' ± ' + f(s) : ''));
  const reached = (r) => (r.reached ? pm(r.reach, r.reach_std, fixed(2)) : 'not reached') + (r.reached > 0 && r.reached < r.n ? ` (${r.reached}/${r.n})` : '');
  return table(['Link', 'Hook', 'Seeds', 'Step ms', 'Hook ms', 'Predicted ms', 'Hook bytes/step', 'Link bytes/step', 'Full test', 'Time × dense', 'Time to dense −0.5 pt'],
    BW.table.map((r) => [`${sig(r.gbit)} Gbit/s`, r.label, r.n, pm(r.step_ms, r.step_ms_std, fixed(1)), pm(r.hook_ms, r.hook_ms_std, fixed(1)),
      pm(r.predicted_ms, null, fixed(2)), pm(r.bytes_per_step, null, bytes), pm(r.link_per_step, null, bytes), pm(r.test_full, r.test_full_std, pct),
      pm(r.time_ratio, r.time_ratio_std, fixed(2)), reached(r)])) +
    `<p class="note">Mean ± std over the seeds of each link and hook (every seed, whichever is chosen above). Predicted: comm_seconds, bandwidth only. Link bytes: what the links' interfaces counted over the job, per step. Time × dense: the run's wall-clock over the dense allreduce's, same link and seed; time to dense −0.5 pt: the training time to the dense allreduce's final full-test accuracy less half a point, as a fraction of the dense allreduce's.</p>`;
}

// ------------------------------------------------------------------ a budget study
const STUDY = D.study, BUDGET = "budget (share of the Baseline's executed FLOPs)";
function frontierSets() {  // per system: a line over the budgets (band over seeds), a dashed one at the budget charged, or one star at its own budget
  const sets = [];
  for (const s of D.systems) {
    const hs = runs(s.key, STUDY.curves);
    if (!hs.length) continue;
    const line = {borderColor: s.color, backgroundColor: s.color, borderWidth: 2, pointRadius: 3};
    if (hs[0].natural[0]) {  // not budgeted: one point, where its own recipe ends
      const p = aggregate(hs, 'test_full', 'budget', 'natural')[0], xs = hs.map((h) => h.budget[0]);
      sets.push({...line, label: `${s.label} (its own budget)`, data: [{x: p.x, y: p.y}], pts: [p], xname: 'its own budget', showLine: false,
                 pointStyle: 'star', pointRadius: 9, borderWidth: 2, errColor: s.color,
                 err: p.n > 1 ? [{x: [Math.min(...xs), Math.max(...xs)], y: [p.lo, p.hi]}] : null});
      continue;
    }
    const pts = aggregate(hs, 'test_full', 'budget', 'budget'), charged = aggregate(hs, 'test_full', 'charged', 'budget');
    sets.push({...line, label: s.label, data: pts.map((p) => ({x: p.x, y: p.y})), pts, xname: 'budget', band: hs.length > 1 ? pts : null});
    if (charged.some((p, i) => p.x > pts[i].x * (1 + 1e-6)))
      sets.push({...line, label: `${s.label}, its model charged`, data: charged.map((p) => ({x: p.x, y: p.y})), pts: charged,
                 xname: 'charged', borderDash: [6, 4], backgroundColor: '#fff', borderWidth: 1.5});
  }
  return sets;
}
function frontierChart() {
  const sets = frontierSets(), xs = sets.flatMap((ds) => ds.pts.map((p) => p.x).concat((ds.err || []).flatMap((e) => e.x)));
  const x = {...axis(BUDGET, {log: true, fmt: sig}), min: Math.min(...xs) / 1.15, max: Math.max(...xs) * 1.15,
             afterBuildTicks: (ax) => { ax.ticks = STUDY.budgets.map((v) => ({value: v})); }};
  const y = reach(axis('full-test accuracy', ACC_AXIS), sets.flatMap((ds) => ds.pts.flatMap((p) => [p.lo, p.hi])));
  draw('frontier', 'line', sets, {x, y}, {
    title: (items) => { const p = items[0].dataset.pts[items[0].dataIndex]; return `${items[0].dataset.xname} ${sig(p.x)}` + (typeof p.key === 'number' && p.key !== p.x ? ` (budget ${sig(p.key)})` : ''); },
    label: (c) => { const ds = c.dataset, p = ds.pts[c.dataIndex];
      return `${ds.label}: ${pct(p.y)}` + (p.n > 1 ? ` (mean of ${p.n} seeds; ${pct(p.lo)} to ${pct(p.hi)})` : ''); },
  });
  note('frontier', [`${seedLabel()}. Full-test accuracy where each run's budget ends.`,
                    sets.some((ds) => ds.xname === 'charged') && "Dashed: the same runs at the budget they are charged, their model's own training counted (No Train No Gain's accounting).",
                    sets.some((ds) => ds.xname === 'its own budget') && 'Stars: systems run at their own recipe, at the share of the budget they used.']);
}
const points = (v) => (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(2);  // a difference in accuracy points, signed
function verdictTables() {  // per budget: the best system, then each contender against each control
  if (!STUDY.verdicts) return '<p class="notice">verdicts.csv is missing from this folder: no verdicts.</p>';
  const label = (k) => (D.systems.find((s) => s.key === k) || {label: k}).label;
  return STUDY.budgets.map((b) => {
    const best = STUDY.best.find((r) => r.budget === b), rows = STUDY.verdicts.filter((v) => v.budget === b);
    const head = `<h2>Budget ${esc(sig(b))}` + (best ? `: best ${esc(label(best.experiment))}, ${best.mean.toFixed(1)}%` + (best.std != null ? ` ± ${best.std.toFixed(1)}` : '') : '') + '</h2>';
    return head + `<div class="scroll">${table(['Contender', 'Verdict', 'Control', 'Difference (points) [95% interval]', 'Seeds'], rows.map((v) => [
      label(v.contender), {cls: `verdict ${v.verdict.replace(/[^a-z]+/g, '-')}`, html: esc(v.verdict)}, label(v.control),
      points(v.mean) + (v.lo != null ? ` [${points(v.lo)}, ${points(v.hi)}]` : ''), v.n]))}</div>`;
  }).join('') + '<p class="note">The paired difference in full-test accuracy, contender minus control, same seeds; a verdict needs a 95% interval that excludes zero, and two seeds at least.</p>';
}
function irreducibleTable() {  // RHO-LOSS's irreducible-loss models, a row per seed (none in a study without RHO-LOSS)
  const rows = STUDY.irreducible || [];
  if (!rows.length) return '';
  const num = (v, d) => (v == null ? '—' : v.toFixed(d));
  return "<h2>RHO-LOSS's irreducible-loss model</h2>" + `<div class="scroll" id="irreducible-table">${table(['Seed', 'Check accuracy %', 'Worst class %', 'Epochs (best)', 'TFLOPs', 'Budgets', 'Seconds'],
    rows.map((r) => [r.seed, num(r.accuracy, 1), num(r.worst_class, 1), `${r.epochs} (${r.best_epoch})`, num(r.TFLOPs, 3), num(r.budgets, 2), num(r.seconds, 0)]))}</div>` +
    "<p class=\"note\">Trained once per seed on its holdout and reused at every budget; its accuracy on its check split (chance is one over the classes) and its worst class's there; its cost in executed TFLOPs, in budgets of that seed's Baseline, and in seconds where the model recorded them.</p>";
}
const link = (href, text) => `<a href="${esc(href)}">${esc(text)}</a>`;
const filesLine = (what, files) => `<p>${what}: ${files.map((f) => link(f, f)).join(' · ') || 'none'}</p>`;
function studyLinks() {  // each budget's own page, and the study's files
  return `<p>Each budget's own page: ${STUDY.pages.map((p) => link(p.href, p.name)).join(' · ') || 'none'}</p>` + filesLine("The study's files", STUDY.files);
}
function sweepLinks() {  // each run folder's page, a line per link, and the sweep's files
  const byLink = new Map();
  for (const p of BW.pages) byLink.set(p.link, [...(byLink.get(p.link) || []), link(p.href, p.name)]);
  return ([...byLink].map(([l, as]) => `<p>The runs over ${esc(l)}: ${as.join(' · ')}</p>`).join('') || '<p>No run folder here has its page.</p>') +
         filesLine("The sweep's files", BW.files);
}

// ------------------------------------------------------------------ tables
function table(head, rows) {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
         rows.map((r) => `<tr>${r.map((c) => (typeof c === 'object' ? `<td class="${c.cls}" colspan="${c.span || 1}">${c.html}</td>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('') + '</tbody></table>';
}
const staged = (s) => Object.values(D.finals[s.key] || {}).some((f) => (f.verdicts || []).length);  // a system with curriculum stages
function stagesRuns() {  // a line per run of a system with a curriculum, its stage verdicts as badges that wrap on a phone
  const chosen = state.seed === 'mean' ? seeds : [state.seed], out = [], none = D.systems.filter((s) => !staged(s)).map((s) => s.label);
  if (none.length) out.push(`<p class="note">No curriculum stages: ${esc(none.join(', '))}.</p>`);
  for (const s of D.systems.filter(staged)) for (const seed of chosen) {
    const f = (D.finals[s.key] || {})[seed], head = `<b>${esc(s.label)}</b>, seed ${esc(seed)}`;
    if (!f) { out.push(`<div class="run">${head}: <span class="missing">seed${esc(seed)}/final_${esc(s.key)}.json is missing</span></div>`); continue; }
    const about = [f.status + (f.message ? `: ${f.message}` : ''), `${f.epochs ?? '?'} epochs`, f.gamma == null ? 'dense' : `γ ${f.gamma.toPrecision(3)}`];
    const badges = (f.verdicts || []).map((v) => `<span class="badge ${v.passed ? 'pass' : 'fail'}">${esc(`${v.stage} ${v.name}` +
      (v.attempt > 1 ? ` (try ${v.attempt})` : '') + `: ${v.passed ? 'PASS' : 'FAIL'} ${pct(v.held_out)} ${v.passed ? '≥' : '<'} ${pctShort(v.threshold)}`)}</span>`);
    out.push(`<div class="run">${head} · ${esc(about.join(' · '))}<div>${badges.join('') || '<span class="badge">no curriculum stages</span>'}</div></div>`);
  }
  return out.join('');
}
const SUMMARY_COLS = [['test_full', 'Full test', pct], ['test_100', 'Held-out', pct], ['flops_T', "Seed's FLOPs T", sig],
  ['flops_measured_T', 'Executed T', sig], ['time_s', 'Time s', fixed(1)], ['sparsity', 'Sparsity', fixed(3)],
  ['saved_counted', 'Saved: seed', pct], ['saved_executed', 'Saved: executed', pct], ['saved_time', 'Saved: time', pct]];
function summaryTable() {
  const S = D.summary;
  if (!S) return '<p class="notice">summary.json is missing from this folder: no summary table.</p>';
  const cell = (v, f) => (v == null ? 'n/a' : f(v)), rows = [];
  for (const s of D.systems) {
    if (state.seed === 'mean') {
      const m = (S.systems || {})[s.key];
      if (!m) { rows.push([s.label, {cls: 'missing', html: 'not in summary.json', span: SUMMARY_COLS.length + 1}]); continue; }
      rows.push([s.label + (m.failed ? ` (${m.failed} failed)` : ''), m.n_seeds,
                 ...SUMMARY_COLS.map(([c, , f]) => cell(m[c + '_mean'], f) + (m[c + '_std'] != null ? ' ± ' + f(m[c + '_std']) : ''))]);
    } else {
      const r = (S.runs || []).find((r) => r.experiment === s.key && String(r.seed) === state.seed);
      rows.push(r ? [s.label + (r.status !== 'done' ? ` (${r.status})` : ''), 1, ...SUMMARY_COLS.map(([c, , f]) => cell(r[c], f))]
                  : [s.label, {cls: 'missing', html: `no run for seed ${esc(state.seed)} in summary.json`, span: SUMMARY_COLS.length + 1}]);
    }
  }
  return table(['System', 'Seeds', ...SUMMARY_COLS.map((c) => c[1])], rows) +
         `<p class="note">${state.seed === 'mean' ? 'Mean ± std over seeds' : `Seed ${esc(state.seed)}`}; final epoch; savings against the ${esc(refLabel)} of the same seed; time is training wall-clock, evaluation excluded.</p>`;
}
function runTable() {
  const C = D.config;
  if (!C) return '<p class="notice">config.json is missing from this folder.</p>';
  const flat = [['command', C.command], ...Object.entries(C.preset || {}).map(([k, v]) => ['preset.' + k, v]),
                ...Object.entries(C.machine || {}).map(([k, v]) => ['machine.' + k, v]), ['data', C.data]];
  return table(['Setting', 'Value'], flat.filter(([, v]) => v != null).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v]));
}

// ------------------------------------------------------------------ a continual run
const C = D.continual || {scenarios: [], curves: {}, runs: [], summary: []};
const SCENARIO = {class: 'Class-incremental (one head, no task identity)', task: 'Task-incremental (the task given)'};
function continualCharts() {
  for (const sc of C.scenarios) {
    const {sets, absent} = lineDatasets(state.cwhich, 'task', pct, {withRef: false, source: C.curves[sc] || {}, by: 'task'});
    const ys = reach(axis(`accuracy on ${state.cwhich === 'seen' ? 'the tasks seen so far' : 'all tasks'}`, ACC_AXIS), sets.flatMap((ds) => (ds.band || []).flatMap((p) => [p.lo, p.hi])));
    draw('cont-' + sc, 'line', sets, {x: axis('after training on task', {integer: true}), y: ys}, {
      title: (items) => `after task ${items[0].dataset.pts[items[0].dataIndex].key}`,
      label: (c) => { const p = c.dataset.pts[c.dataIndex]; return `${c.dataset.label}: ${pct(p.y)}` + (p.n > 1 ? ` (mean of ${p.n} seeds; ${pct(p.lo)} to ${pct(p.hi)})` : ''); },
    });
    note('cont-' + sc, [absent.length && `No run (${seedLabel()}) for: ${absent.join(', ')}.`, 'Joint training, which learns all tasks at once, is its one point after the last task.']);
  }
}
function chosenRuns(sc, key) { return C.runs.filter((r) => r.scenario === sc && r.system === key && (state.seed === 'mean' || String(r.seed) === state.seed)); }
function rTables() {  // each system's R matrix, mean over the chosen seeds, its cells shaded by accuracy
  const out = [];
  for (const sc of C.scenarios) {
    out.push(`<h2>${esc(SCENARIO[sc] || sc)}</h2><div class="rgrid">`);
    for (const s of D.systems) {
      const rs = chosenRuns(sc, s.key);
      if (!rs.length) continue;
      const R = rs[0].R.map((row, i) => row.map((_, j) => mean(rs.map((r) => r.R[i][j]))));
      const head = ['', ...R[0].map((_, j) => `task ${j + 1}`)];
      const rows = R.map((row, i) => [R.length > 1 ? `after task ${i + 1}` : 'after all tasks', ...row.map((v) =>
        ({cls: 'heat', html: `<span style="display:block;background:${alpha(s.color, 0.08 + 0.6 * v)}">${(100 * v).toFixed(1)}</span>`}))]);
      out.push(`<figure><figcaption>${esc(s.label)}</figcaption><div class="scroll">${table(head, rows)}</div></figure>`);
    }
    out.push('</div>');
  }
  return out.join('') + `<p class="note">${esc(seedLabel().replace(', band: min–max', ''))}; accuracy in %.</p>`;
}
function continualSummary() {  // ACC, BWT, forgetting, executed FLOPs and time, a row per scenario and system
  const f = (v, d = 1) => (v == null ? 'n/a' : (100 * v).toFixed(d)), rows = [];
  for (const sc of C.scenarios) for (const s of D.systems) {
    if (state.seed === 'mean') {
      const m = C.summary.find((r) => r.scenario === sc && r.system === s.key);
      if (!m) continue;
      const pm = (c, scale = 100, d = 1) => (m[c + '_mean'] == null ? 'n/a' : (scale * m[c + '_mean']).toFixed(d) + (m[c + '_std'] != null ? ' ± ' + (scale * m[c + '_std']).toFixed(d) : ''));
      rows.push([s.label, sc, m.seeds, pm('ACC'), pm('BWT'), pm('forgetting'), pm('flops_measured_T', 1, 3), pm('time_s', 1, 1)]);
    } else {
      const r = chosenRuns(sc, s.key)[0];
      if (r) rows.push([s.label, sc, 1, f(r.ACC), f(r.BWT), f(r.forgetting), r.flops_measured_T == null ? 'n/a' : r.flops_measured_T.toFixed(3), r.time_s == null ? 'n/a' : r.time_s.toFixed(1)]);
    }
  }
  return table(['System', 'Scenario', 'Seeds', 'ACC %', 'BWT', 'Forgetting', 'Executed T', 'Time s'], rows) +
    `<p class="note">${state.seed === 'mean' ? 'Mean ± std over seeds' : `Seed ${esc(state.seed)}`}. ACC: the mean of R's last row; BWT: the mean change of each task from when it was learned to the end; forgetting: the mean drop from each task's best; in points.</p>`;
}

// ------------------------------------------------------------------ a replay study and a federated study
const RL = D.rl || {tasks: [], curves: {}, summary: [], tuned: {}};
const F = D.fed || {alphas: [], curves: {}, summary: [], tuned: {}};
const labelOf = (key) => (D.systems.find((s) => s.key === key) || {label: key}).label;
const interval = (v, lo, hi, f = sig) => (v == null ? 'n/a' : f(v) + (lo == null ? '' : ` [${f(lo)}, ${f(hi)}]`));
function studyChart(id, source, ycol, xcol, by, xax, yax, fmt, xfmt) {  // a line per agent or strategy, its band over seeds
  const {sets, absent} = lineDatasets(ycol, xcol, fmt, {withRef: false, source, by});
  draw(id, 'line', sets, {x: xax, y: reach(yax, sets.flatMap((ds) => (ds.band || []).flatMap((p) => [p.lo, p.hi])))}, {
    title: (items) => { const p = items[0].dataset.pts[items[0].dataIndex]; return `${by} ${p.key}` + (xcol === by ? '' : `, ${xfmt(p.x)}`); },
    label: (c) => { const p = c.dataset.pts[c.dataIndex]; return `${c.dataset.label}: ${fmt(p.y)}` + (p.n > 1 ? ` (mean of ${p.n} seeds; ${fmt(p.lo)} to ${fmt(p.hi)})` : ''); },
  });
  note(id, [absent.length && `No run (${seedLabel()}) for: ${absent.join(', ')}.`]);
}
function rlCharts() {
  for (const t of RL.tasks) studyChart('rl-' + t, RL.curves[t] || {}, 'ret', 'step', 'step', axis('environment steps'), axis('greedy return'), sig, sig);
}
function rlSummary() {  // the study's table: IQMs over the seeds with their 95% intervals, P(improvement) over the control
  const rows = RL.summary.map((r) => [r.task, r.label, r.runs, r.lr == null ? '' : sig(r.lr), interval(r.auc_iqm, r.auc_lo, r.auc_hi), interval(r.final_iqm, r.final_lo, r.final_hi),
    r.p_improve == null ? '—' : interval(r.p_improve, r.p_lo, r.p_hi, fixed(2)), r.tflops == null ? 'n/a' : sig(r.tflops), r.seconds == null ? 'n/a' : r.seconds.toFixed(0)]);
  return table(['Task', 'Agent', 'Runs', 'Learning rate', 'Return, area (IQM)', 'Final return (IQM)', 'P(better than uniform)', 'Executed TFLOP', 'Time s'], rows) +
    '<p class="note">IQM: the mean of the middle half of the seeds; in brackets its 95% stratified-bootstrap interval. Area: the mean greedy return over the run\'s evaluations. "all": every task, each return scaled to its task\'s range. The charts draw the plain mean of the seeds.</p>';
}
function tunedTable(tuned) {  // {split or task: {agent or strategy: {chosen values..., scores of every setting tried}}}
  const rows = [];
  for (const [where, by] of Object.entries(tuned || {})) for (const [key, t] of Object.entries(by)) {
    const scores = t.tuning_auc_iqm || t.val_acc || {}, chosen = Object.entries(t).filter(([k, v]) => typeof v !== 'object').map(([k, v]) => `${k} ${typeof v === 'number' ? sig(v) : v}`);
    rows.push([where, labelOf(key), chosen.join(', '), Object.entries(scores).map(([k, v]) => `${k}: ${sig(v)}`).join(' · ')]);
  }
  return rows.length ? table(['Task or split', 'Agent or strategy', 'Chosen', 'Every setting tried, its tuning score'], rows) : '<p class="note">No tuning in this folder.</p>';
}
function fedCharts() {
  const mb = state.fx === 'mb';
  for (const a of F.alphas) studyChart('fed-' + a, F.curves[a] || {}, 'acc', mb ? 'mb' : 'round', 'round',
    axis(mb ? 'megabytes uploaded (log)' : 'round', {log: mb, integer: !mb}), axis('test accuracy', ACC_AXIS), pct, (v) => sig(v) + ' MB');
}
function fedSummary() {  // the study's table: accuracy, bytes, rounds to the target, the paired difference from dense FedAvg
  const rows = F.summary.map((r) => [r.alpha, labelOf(r.strategy), r.seeds, pct(r.acc), r.vs_dense == null ? '—' : interval(100 * r.vs_dense, 100 * r.lo, 100 * r.hi, fixed(1)),
    sig(r.bytes_up / 1e6), sig(r.bytes_down / 1e6), r.rounds_to_target == null ? 'never' : sig(r.rounds_to_target), r.up_to_target == null ? '—' : sig(r.up_to_target / 1e6), sig(r.select_forwards)]);
  return table(['Split (α)', 'Strategy', 'Seeds', 'Accuracy (last 5)', 'vs dense, points [95%]', 'MB up', 'MB down', 'Rounds to target', 'MB up to target', 'Selection forwards'], rows) +
    '<p class="note">Means over seeds. Accuracy: the mean of a run\'s last five evaluations; the difference from dense FedAvg is paired by seed. Bytes: every message as Flower sends it, selection\'s probes included.</p>';
}

// ------------------------------------------------------------------ page
function render() {
  $$('.tabs button').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === state.tab)));
  $$('.panel').forEach((p) => p.classList.toggle('active', p.dataset.panel === state.tab));
  try { views[state.tab](); cueScroll(); } catch (e) {
    console.error(e);
    $(`.panel[data-panel="${state.tab}"]`).insertAdjacentHTML('afterbegin', `<p class="notice">This view failed: ${esc(e)}</p>`);
  }
}
const hasE = () => D.systems.some((s) => Object.values(D.hist[s.key] || {}).some((h) =>
  Object.keys(h).some((c) => c.startsWith('E_') && h[c].some((v) => v != null))));  // a system that measured per-class embarrassment
function cueScroll() {  // a table wider than its box says so, and its shadow moves to the side there is more of
  $$('.scroll').forEach((b) => {
    const mark = () => { b.classList.toggle('wide', b.scrollWidth > b.clientWidth + 1); b.classList.toggle('at-end', b.scrollLeft + b.clientWidth >= b.scrollWidth - 1); };
    mark(); if (!b.dataset.cued) { b.dataset.cued = '1'; b.addEventListener('scroll', mark); }
  });
}
function setupKind() {  // a study's, a sweep's or a continual run's page: its tabs, no cost or overlay; a run's: each tab only with its data
  const needs = {points: () => Object.keys(D.points || {}).length, comm: hasComm, stages: () => D.systems.some(staged), embarrassment: hasE,
                 perclass: () => (D.classes || []).length};
  $$('.tabs button').forEach((b) => { b.hidden = (b.dataset.kind || 'run') !== D.kind || (needs[b.dataset.tab] && !needs[b.dataset.tab]()); });
  state.tab = $$('.tabs button').find((b) => !b.hidden).dataset.tab;
  if (D.kind === 'run') return;
  $('#cost').hidden = $('#overlay-label').hidden = true;
  const figures = (ids) => ids.map(([id, c]) => `<figure><figcaption>${esc(c)}</figcaption>` +
    `<div class="chart"><canvas id="c-${esc(id)}"></canvas></div><p class="note" id="n-${esc(id)}"></p></figure>`).join('');
  if (D.kind === 'continual') { $('#c-scenarios').innerHTML = figures(C.scenarios.map((sc) => ['cont-' + sc, SCENARIO[sc] || sc])); return; }
  if (D.kind === 'rl') { $('#r-tasks').innerHTML = figures(RL.tasks.map((t) => ['rl-' + t, t])); return; }
  if (D.kind === 'federated') { $('#f-alphas').innerHTML = figures(F.alphas.map((a) => ['fed-' + a, a === 'iid' ? 'IID clients' : `Dirichlet α = ${a}`])); return; }
  $('#pages').innerHTML = D.kind === 'study' ? studyLinks() : sweepLinks(); $('#pages').hidden = false;
}
function setup() {
  setupKind();
  $('#about').textContent = D.about;
  const notes = [];
  if (seeds.length === 1) notes.push(`<p>One seed only (seed ${esc(seeds[0])}): a single seed is not a result.</p>`);
  if (D.missing.length) notes.push(`<p>Gaps in this folder (the page draws what is there):</p><ul>${D.missing.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>`);
  $('#notices').innerHTML = notes.length ? `<div class="notice">${notes.join('')}</div>` : '';
  $('#seed').innerHTML = (seeds.length > 1 ? [`<option value="mean">mean of ${seeds.length} seeds (band: min–max)</option>`] : [])
    .concat(seeds.map((s) => `<option value="${esc(s)}">seed ${esc(s)}</option>`)).join('');
  $('#seed').value = state.seed;
  if (!Object.keys(D.reference || {}).length) $('#overlay-label').hidden = true;
  $$('.tabs button').forEach((b) => b.addEventListener('click', () => { state.tab = b.dataset.tab; render(); }));
  $('#seed').addEventListener('change', (e) => { state.seed = e.target.value; render(); });
  $('#esys').addEventListener('change', (e) => { state.esys = e.target.value; render(); });
  $('#overlay').addEventListener('change', (e) => { state.overlay = e.target.checked; render(); });
  for (const k of ['cost', 'metric', 'xaxis', 'cwhich', 'fx']) $$(`input[name="${k}"]`).forEach((i) => i.addEventListener('change', () => { state[k] = i.value; render(); }));
  render();
}
window.selPage = {data: D, state, charts, render, ready: false};
setup();
window.selPage.ready = true;
})();
