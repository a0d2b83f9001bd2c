/**
 * bench/chart.svg from results.json: throughput and p99 latency, mock vs bare Node, one
 * row per workload, horizontal bars on a log scale (keep-alive and handshake rates
 * differ by an order of magnitude), each bar labelled with its value.
 */

const COLORS = { mock: '#2f6fb0', bare: '#9aa5b1' };
const ROW_HEIGHT = 34;
const BAR_HEIGHT = 13;
const LABEL_WIDTH = 210;
const PLOT_WIDTH = 330;
const PANEL_GAP = 40;
const TOP = 58;

export function renderChart(results) {
  const rows = workloads(results);
  const panels = [
    { title: 'throughput (requests/s, log scale)', key: 'requestsPerSecond', format: (v) => Math.round(v).toLocaleString('en') },
    { title: 'p99 latency (ms, log scale; lower is better)', key: 'p99Ms', format: (v) => (v < 10 ? v.toFixed(2) : v.toFixed(0)) },
  ];
  const width = LABEL_WIDTH + panels.length * (PLOT_WIDTH + PANEL_GAP) + 20;
  const height = TOP + rows.length * ROW_HEIGHT + 40;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">entitlement-mock vs bare Node https — ${escape(results.date.slice(0, 10))}, ${results.machine.cpus} cores, Node ${escape(results.machine.node)}</text>`);
  out.push(legend(10, 36));

  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    out.push(`<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT + 3}" text-anchor="end">${escape(row.label)}</text>`);
  });

  panels.forEach((panel, p) => {
    const x0 = LABEL_WIDTH + p * (PLOT_WIDTH + PANEL_GAP);
    const values = rows.flatMap((row) => [row.mock?.[panel.key], row.bare?.[panel.key]]).filter((v) => typeof v === 'number' && v > 0);
    if (values.length === 0) return;
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.05));
    const scale = (v) => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * PLOT_WIDTH;
    out.push(`<text x="${x0}" y="${TOP - 8}" font-weight="bold">${escape(panel.title)}</text>`);
    const bottom = TOP + rows.length * ROW_HEIGHT;
    for (let tick = lo; tick <= hi * 1.0001; tick *= 10) {
      const x = x0 + scale(tick);
      out.push(`<line x1="${x}" y1="${TOP - 2}" x2="${x}" y2="${bottom}" stroke="#ddd"/>`);
      out.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#555">${tick >= 1 ? tick.toLocaleString('en') : tick}</text>`);
    }
    rows.forEach((row, i) => {
      ['mock', 'bare'].forEach((who, k) => {
        const value = row[who]?.[panel.key];
        if (typeof value !== 'number' || value <= 0) return;
        const y = TOP + i * ROW_HEIGHT + k * (BAR_HEIGHT + 1);
        const w = Math.max(1, scale(value));
        out.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[who]}"><title>${who}: ${escape(panel.format(value))}</title></rect>`);
        out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + BAR_HEIGHT - 3}" fill="#222">${escape(panel.format(value))}</text>`);
      });
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function workloads(results) {
  const rows = [];
  if (results.keepaliveAutocannon) rows.push({ label: 'keep-alive, 50 connections, autocannon', ...results.keepaliveAutocannon });
  if (results.keepalive) rows.push({ label: 'keep-alive, 50 connections, server-bound', ...results.keepalive });
  if (results.handshake?.ec) rows.push({ label: 'new TLS handshake each, ECDSA', ...results.handshake.ec });
  if (results.handshake?.rsa) rows.push({ label: 'new TLS handshake each, RSA', ...results.handshake.rsa });
  if (results.resume) rows.push({ label: 'new connection, resumed session', ...results.resume });
  if (results.rules) rows.push({ label: `mock: 1 rule (top) vs ${Math.round(results.rules.ruleCount / 1000)}k rules`, mock: results.rules.oneRule, bare: results.rules.manyRules, swapLegend: true });
  return rows;
}

function legend(x, y) {
  return [
    `<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${COLORS.mock}"/><text x="${x + 16}" y="${y}">entitlement-mock (info logs, journal, metrics)</text>`,
    `<rect x="${x + 270}" y="${y - 9}" width="12" height="10" fill="${COLORS.bare}"/><text x="${x + 286}" y="${y}">bare Node https.createServer (parse JSON, echo messageID); last row: the mock with 100k rules</text>`,
  ].join('\n');
}

function escape(text) {
  return String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
