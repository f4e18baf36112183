// A candle chart in SVG, drawn here (a chart library would outweigh the pages it serves):
// each interval's open, high, low and close, the market's floor and maximum as dashed
// lines, the price now as a solid one, and volume as bars beneath. Numbers are only
// plotted here, never computed with.

const NS = 'http://www.w3.org/2000/svg';
const W = 640, H = 320, TOP = 12, PRICE_H = 220, VOL_TOP = 250, VOL_H = 60, LEFT = 8, RIGHT = 90;

function svg(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// `candles` as /v1/markets/{asset}/candles gives them; `lines` [{value, label, dashed}] in
// the candles' unit (KRW × 10⁴ per whole token); `label(value)` formats a price.
export function candleChart(candles, lines, label) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'price history' });
  const values = lines.map((l) => Number(l.value)).concat(candles.flatMap((c) => [Number(c.high), Number(c.low)]));
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi === lo) { hi += 1; lo -= 1; }
  const pad = (hi - lo) * 0.06;
  lo -= pad; hi += pad;
  const y = (v) => TOP + (hi - Number(v)) / (hi - lo) * PRICE_H;
  const slot = (W - LEFT - RIGHT) / Math.max(candles.length, 20);
  const maxVol = Math.max(1, ...candles.map((c) => Number(c.volume)));
  candles.forEach((c, i) => {
    const x = LEFT + slot * i + slot / 2;
    const up = Number(c.close) >= Number(c.open);
    const colour = up ? '#2b8a3e' : '#c92a2a';
    root.append(svg('line', { x1: x, x2: x, y1: y(c.high), y2: y(c.low), stroke: colour }));
    const top = Math.min(y(c.open), y(c.close));
    root.append(svg('rect', { x: x - slot * 0.35, y: top, width: slot * 0.7, height: Math.max(1, Math.abs(y(c.open) - y(c.close))), fill: colour }));
    const vh = Number(c.volume) / maxVol * VOL_H;
    root.append(svg('rect', { x: x - slot * 0.35, y: VOL_TOP + VOL_H - vh, width: slot * 0.7, height: vh, fill: '#adb5bd', class: 'volume' }));
  });
  for (const l of lines) {
    const at = y(l.value);
    root.append(svg('line', { x1: LEFT, x2: W - RIGHT, y1: at, y2: at, stroke: l.colour || '#495057', 'stroke-dasharray': l.dashed ? '4 3' : 'none', class: l.name }));
    root.append(svg('text', { x: W - RIGHT + 4, y: at + 4, 'font-size': 11, fill: l.colour || '#495057' }, `${l.label} ${label(l.value)}`));
  }
  root.append(svg('text', { x: LEFT, y: VOL_TOP - 4, 'font-size': 11, fill: '#687086' }, 'volume'));
  return root;
}
