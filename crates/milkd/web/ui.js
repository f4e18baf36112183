// What every page uses: talking to the node, building elements, showing amounts, dates and
// errors.

import { formatUnits } from './wire.js';

// An operator's, partner's or auditor's credential: kept for this tab only (sessionStorage)
// and sent to this node alone.
export const session = { credential: sessionStorage.getItem('milk.credential') || '' };

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code || 'http_' + status;
  }
}

// GETs or POSTs the node's JSON API; throws ApiError with the node's code on a refusal.
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const h = { ...headers };
  if (session.credential && !h['x-milk-account']) h.authorization = 'Bearer ' + session.credential;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok && res.status !== 202) throw new ApiError(res.status, data);
  return data;
}

// el('table#id.class', {onclick}, child, 'text', …): a small element builder.
export function el(spec, attrs, ...children) {
  const node = document.createElement(spec.match(/^[a-z0-9]*/)[0] || 'div');
  const id = spec.match(/#([\w-]+)/);
  if (id) node.id = id[1];
  const classes = [...spec.matchAll(/\.([\w-]+)/g)].map((m) => m[1]);
  if (classes.length) node.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

export const link = (href, ...children) => el('a', { href }, ...children);
export const when = (ms) => new Date(Number(ms)).toLocaleString();
export const short = (s) => (s.length > 20 ? s.slice(0, 10) + '…' + s.slice(-6) : s);

export function errorBox(e) {
  return el('p.error', { role: 'alert' }, e instanceof ApiError ? `${e.message} (${e.code})` : String(e.message || e));
}

// Each asset's decimals, from /v1/chains (loaded once, before the first page).
const decimals = new Map();

export async function loadAssets() {
  for (const c of await api('/v1/chains')) for (const a of c.assets) decimals.set(a.symbol, a.decimals);
}

// `base` units of `symbol` in whole units with the symbol: "12.5 MLK".
export const amount = (base, symbol) => `${formatUnits(base, decimals.get(symbol) ?? 0)} ${symbol}`;
export const decimalsOf = (symbol) => decimals.get(symbol);
