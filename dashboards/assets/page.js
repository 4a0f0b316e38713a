// Draws the dashboard's rows with uPlot: from the JSON in #loadtest-data (the HTML report), or by
// polling the live dashboard's data URL. Every string goes into the page as text, never as markup.
(() => {
  const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
  const THRESHOLD = '#d62728';
  const config = JSON.parse(document.getElementById('loadtest-config').textContent);
  const root = document.getElementById('charts');
  const plots = new Map();
  let shape = '';

  const el = (tag, className, text) => {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // Threshold lines; one far above the data is named at the top edge instead of squashing the data.
  const annotationHook = (annotations) => (u) => {
    const ctx = u.ctx;
    const px = devicePixelRatio;
    const right = u.bbox.left + u.bbox.width - 4 * px;
    const top = u.scales.y.max ?? 0;
    ctx.save();
    ctx.strokeStyle = THRESHOLD;
    ctx.fillStyle = THRESHOLD;
    ctx.lineWidth = 1.5 * px;
    ctx.textAlign = 'right';
    ctx.font = `${11 * px}px system-ui, sans-serif`;
    let above = 0;
    for (const a of annotations) {
      if (a.value > top) {
        ctx.fillText(`\u2191 ${a.label} (above)`, right, u.bbox.top + (12 + 13 * above) * px);
        above += 1;
        continue;
      }
      const y = Math.round(u.valToPos(a.value, 'y', true));
      if (!Number.isFinite(y)) continue;
      ctx.setLineDash([5 * px, 4 * px]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.fillText(a.label, right, y - 3 * px);
    }
    ctx.restore();
  };

  // The y range: the data, plus the thresholds that are near it (within 3x of the data's top).
  const yRange = (annotations) => (_u, min, max) => {
    const hi = Math.max(0, max ?? 0);
    let top = hi;
    for (const a of annotations) if (a.value > top && (hi === 0 || a.value <= hi * 3)) top = a.value;
    return [Math.min(0, min ?? 0), top > 0 ? top * 1.1 : 1];
  };

  const options = (chart, width) => {
    return {
      width,
      height: 190,
      legend: { show: true, live: false },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: false },
        y: { range: yRange(chart.annotations) },
      },
      axes: [
        { label: 's', size: 36 },
        { label: chart.unit, size: 56 },
      ],
      series: [
        { label: 's' },
        ...chart.series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: true,
          points: { show: false },
          ...(s.dashed ? { dash: [6, 4] } : {}),
        })),
      ],
      hooks: { draw: [annotationHook(chart.annotations)] },
    };
  };

  const shapeOf = (rows) =>
    JSON.stringify(rows.map((r) => [r.id, r.charts.map((c) => [c.id, c.series.length])]));

  function build(rows) {
    for (const p of plots.values()) p.destroy();
    plots.clear();
    root.replaceChildren();
    let drawn = 0;
    for (const row of rows) {
      // In the document before the plots are made, so they can measure their width.
      const section = el('section', 'row');
      section.dataset.row = row.id;
      root.append(section);
      section.append(el('h3', '', row.title), el('p', 'subtitle', row.subtitle));
      if (row.notes.length > 0)
        section.append(el('p', 'notes', `also gated (run totals): ${row.notes.join(', ')}`));
      const grid = el('div', 'grid');
      section.append(grid);
      if (row.charts.length === 0) grid.append(el('p', 'empty', 'no data yet'));
      for (const chart of row.charts) {
        const box = el('div', 'chart');
        box.dataset.chart = chart.id;
        box.dataset.points = String(chart.data[0].length);
        const plot = el('div', 'plot');
        box.append(el('h4', '', chart.title), plot);
        grid.append(box);
        const width = Math.max(300, Math.floor(plot.getBoundingClientRect().width || 360));
        plots.set(chart.id, new uPlot(options(chart, width), chart.data, plot));
        drawn += 1;
      }
    }
    document.body.dataset.charts = String(drawn);
  }

  function render(rows) {
    const next = shapeOf(rows);
    if (next !== shape) {
      shape = next;
      build(rows);
      return;
    }
    for (const row of rows) {
      for (const chart of row.charts) {
        plots.get(chart.id)?.setData(chart.data);
        const box = root.querySelector(`[data-chart="${CSS.escape(chart.id)}"]`);
        if (box) box.dataset.points = String(chart.data[0].length);
      }
    }
  }

  if (!config.live) {
    const data = JSON.parse(document.getElementById('loadtest-data').textContent);
    if (data.rows.some((r) => r.charts.length > 0)) render(data.rows);
    else
      root.replaceChildren(
        el('p', 'empty', 'This report has no timeline (written by an older version): no charts.'),
      );
    document.body.dataset.ready = 'true';
    return;
  }

  const status = document.getElementById('status');
  let updates = 0;
  async function poll() {
    try {
      const res = await fetch(config.live.dataUrl, { cache: 'no-store' });
      const data = await res.json();
      status.textContent = data.status;
      status.className = `badge ${data.source === 'none' ? 'incomplete' : data.running ? 'running' : 'passed'}`;
      render(data.rows);
      updates += 1;
      document.body.dataset.updates = String(updates);
      document.body.dataset.source = data.source;
    } catch (err) {
      status.textContent = `cannot reach the dashboard server: ${err.message}`;
      status.className = 'badge failed';
    } finally {
      setTimeout(poll, config.live.intervalMs);
    }
  }
  document.body.dataset.ready = 'true';
  poll();
})();
