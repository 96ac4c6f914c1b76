/**
 * The one script of the check page, served as a file (the CSP allows no inline script): it draws
 * each `[data-chart]` element's history with uPlot from the JSON API the element names — a
 * check's durations (`data-kind="latency"`) or a metric series (avg, min, max). Times show in
 * the viewer's time zone (uPlot's default). The page reads without it: every chart element holds
 * the range's figures as text until the chart replaces them, and says so when loading fails.
 */
export const CHART_SCRIPT = `(() => {
  'use strict';
  const colours = ['#1f5fa8', '#8fb3dd', '#c62828'];
  for (const el of document.querySelectorAll('[data-chart]')) {
    const latency = el.dataset.kind === 'latency';
    fetch(el.dataset.chart, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then((r) => {
        if (!r.ok) throw new Error('the server answered ' + r.status);
        return r.json();
      })
      .then((h) => {
        const pick = (k) => h.points.map((p) => p[k]);
        const unit = latency ? 'ms' : el.dataset.unit || '';
        const names = latency ? ['durationAvgMs', 'durationMinMs', 'durationMaxMs'] : ['avg', 'min', 'max'];
        // Results sparser than the points (an hourly check over a day in 5-minute points) stand alone between gaps: show them as dots.
        const values = pick(names[0]);
        const sparse = values.filter((v) => v !== null).length * 2 < values.length;
        const series = [{}].concat(
          ['average', 'lowest', 'highest'].map((label, i) => ({
            label: label + (unit ? ' (' + unit + ')' : ''),
            stroke: colours[i],
            width: i === 0 ? 2 : 1,
            spanGaps: false,
            points: { show: sparse, size: i === 0 ? 5 : 3, fill: colours[i] },
          })),
        );
        el.textContent = '';
        new uPlot(
          { width: Math.max(320, el.clientWidth), height: 220, series, axes: [{}, { label: unit, size: 60 }], scales: { x: { time: true } }, legend: { live: true } },
          [h.points.map((p) => p.t / 1000)].concat(names.map(pick)),
          el,
        );
        el.setAttribute('data-drawn', String(h.points.length));
      })
      .catch((e) => {
        el.textContent = 'The chart could not be drawn (' + e.message + ') — reload the page; the figures above do not need it.';
        el.setAttribute('data-failed', 'true');
      });
  }
})();
`;
