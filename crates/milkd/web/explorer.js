// The explorer: chains, blocks, transactions (with their Merkle proof checked here),
// accounts, markets and supply; one search box; new blocks as they come.

import { amount, api, decimalsOf, el, errorBox, link, session, short, when } from './ui.js';
import { readHeaders as walletHeaders } from './wallet.js';
import { candleChart } from './chart.js';
import { checkProof, formatUnits, isAddress, unhex } from './wire.js';

let live = null;

export function stopLive() {
  if (live) live.abort();
  live = null;
}

// Calls `onHead(head)` for each new head of a chain this viewer may read, from /live
// (server-sent events read with fetch, so a credential travels as a header).
function followHeads(onHead) {
  stopLive();
  const abort = new AbortController();
  live = abort;
  const headers = session.credential ? { authorization: 'Bearer ' + session.credential } : {};
  (async () => {
    const res = await fetch('/live', { headers, signal: abort.signal });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
        if (data) onHead(JSON.parse(data));
      }
    }
  })().catch(() => {});
}

const table = (head, rows) => el('table.compact', el('thead', el('tr', head.map((h) => el('th', h)))), el('tbody', rows));

// A chain's row: its height first (what changes), then who and what, then when.
function chainCells(c, head) {
  const height = head
    ? el('td.num', link(`#/block/${head.chain}/${head.height}`, head.height.toLocaleString()))
    : el('td.muted', { title: 'its partner, TICA and auditors read it' }, 'private');
  return [el('td', link(`#/chain/${c.id}`, c.name)), height,
    el('td', c.kind === 'center' ? 'center' : `${c.partner} · ${c.sector}`),
    el('td', c.assets.map((a) => a.symbol).join(', ')),
    el('td', head ? when(head.time_ms) : '—'),
    el('td', !head ? '—' : head.halted ? el('span.bad', 'halted') : 'running')];
}

export async function overview() {
  const [chains, markets, supply, oracle] = await Promise.all([
    api('/v1/chains'), api('/v1/markets'), api('/v1/supply'), api('/v1/oracle').catch(() => null),
  ]);
  const rows = new Map(chains.map((c) => [c.id, el('tr', { 'data-chain': c.id }, chainCells(c, c.head))]));
  followHeads((head) => {
    const c = chains.find((x) => x.id === head.chain);
    if (c) rows.get(c.id).replaceChildren(...chainCells(c, head));
  });
  return el('div',
    el('h1', 'MiL.k Alliance explorer'),
    el('section', el('h2', 'Chains ', el('span.live', 'live')),
      table(['Chain', 'Height', 'Partner', 'Assets', 'Last block', 'State'], [...rows.values()])),
    el('section', el('h2', 'Markets'), marketsTable(markets, oracle)),
    el('section', el('h2', 'Supply'), supply.map(supplyCard)));
}

const krw = (e4) => `₩${formatUnits(e4, 4)}`;

function marketsTable(markets, oracle) {
  const mlk = oracle ? el('p', `MLK: ${krw(oracle.krw_e4)} (oracle, ${oracle.fresh ? 'fresh' : 'stale'}, observed ${when(oracle.observed_at_ms)})`) : null;
  const rows = markets.map((m) => el('tr',
    el('td', link(`#/market/${m.asset}`, m.asset)), el('td', krw(m.price_krw_e4)),
    el('td', `${krw(m.min_price_krw_e4)} – ${krw(m.max_price_krw_e4)}`),
    el('td', `₩${m.redemption_value_krw}`), el('td', `${m.fee_bps / 100}%`),
    el('td', m.halted ? el('span.bad', 'halted') : 'open')));
  return el('div', mlk, table(['Token', 'Price now', 'Bounds', 'Redemption value', 'Fee', 'Market'], rows));
}

function supplyCard(s) {
  const d = decimalsOf(s.asset) ?? 8;
  const rows = s.buckets.map((b) => el('tr', el('td', b.label), el('td', b.class), el('td.num', formatUnits(b.amount, d))));
  return el('div.card',
    el('h3', s.asset),
    el('p', `Total ${formatUnits(s.total, d)} · circulating ${formatUnits(s.circulating, d)} · locked ${formatUnits(s.locked, d)} · reserve ${formatUnits(s.reserve, d)} · TICA ${formatUnits(s.tica_held, d)}`),
    table(['Bucket', 'Class', s.asset], rows),
    s.bridged ? el('p.bridged', `Across both chains ${formatUnits(s.bridged.across_both_chains, d)}: on the main chain outside the vault ${formatUnits(s.bridged.outside_vault, d)} · on their way out ${formatUnits(s.bridged.in_transit_out, d)} · deposits held ${formatUnits(s.bridged.held_deposits, d)} · burned for good ${formatUnits(s.bridged.burned_for_good, d)} (with it, ${formatUnits(s.bridged.genesis, d)} as genesis made)`) : '');
}

const blockRow = (chain, b) => el('tr',
  el('td', link(`#/block/${chain}/${b.height}`, b.height.toLocaleString())),
  el('td', when(b.time_ms)), el('td.num', b.tx_count), el('td.mono', short(b.hash)));

export async function chain(id) {
  const [info, blocks] = await Promise.all([api(`/v1/chains/${id}`), api(`/v1/chains/${id}/blocks?limit=20`)]);
  const body = el('tbody', blocks.reverse().map((b) => blockRow(id, b)));
  let top = blocks.length ? blocks[0].height : -1;
  followHeads(async (head) => {
    if (head.chain !== id || head.height <= top) return;
    const from = Math.max(top + 1, head.height - 19);
    top = head.height;
    const fresh = await api(`/v1/chains/${id}/blocks?from=${from}&limit=20`);
    for (const b of fresh) body.prepend(blockRow(id, b));
    while (body.children.length > 20) body.lastChild.remove();
  });
  return el('div',
    el('h1', info.name),
    el('p', info.assets.map((a) => `${a.name} (${a.symbol}, ${a.decimals} decimals)`).join(' · ')),
    el('h2', 'Latest blocks ', el('span.live', 'live')),
    el('table.compact', el('thead', el('tr', ['Height', 'Time', 'Transactions', 'Hash'].map((h) => el('th', h)))), body));
}

// One line saying what a transaction does, in words.
export function describe(tx) {
  const a = tx.action;
  switch (a.type) {
    case 'transfer': return `${short(tx.sender)} sent ${amount(a.amount, a.asset)} to ${short(a.to)}${a.memo ? ` — “${a.memo}”` : ''}`;
    default: return `${a.type.replaceAll('_', ' ')} by ${short(tx.sender)}`;
  }
}

export async function block(id, height) {
  const b = await api(`/v1/chains/${id}/blocks/${height}`);
  const rows = b.txs.map((t) => el('tr', el('td', link(`#/tx/${id}/${t.id}`, short(t.id))), el('td', t.tx.action.type), el('td', describe(t.tx))));
  const prev = Number(height) > 0 ? link(`#/block/${id}/${Number(height) - 1}`, '← previous') : null;
  return el('div',
    el('h1', `Block ${Number(height).toLocaleString()} of ${id}`),
    el('p', when(b.time_ms), ' · ', `${b.tx_count} transactions · produced by `, link(`#/account/${b.producer}`, short(b.producer))),
    el('p.mono', 'hash ', b.hash), prev, ' ', link(`#/block/${id}/${Number(height) + 1}`, 'next →'),
    table(['Transaction', 'Kind', 'What it did'], rows));
}

// A customer's own transaction on a private chain is read with their wallet's signature.
async function readable(path) {
  try {
    return { data: await api(path), headers: {} };
  } catch (e) {
    const headers = e.status === 401 || e.status === 403 ? await walletHeaders() : null;
    if (!headers) throw e;
    return { data: await api(path, { headers }), headers };
  }
}

export async function tx(chainId, id) {
  const { data: t, headers } = await readable(`/v1/chains/${chainId}/txs/${id}`);
  if (t.status !== 'committed') {
    return el('div', el('h1', 'Transaction'), el('p', `Status: ${t.status}`), t.error ? el('p.error', `${t.error.message} (${t.error.code})`) : null);
  }
  // The block's header, where this viewer may read it; a customer reading their own
  // transaction on a private chain has only the root the node gives with the proof.
  const b = await api(`/v1/chains/${chainId}/blocks/${t.height}`, { headers }).catch(() => null);
  const root = b ? b.tx_root : t.proof.tx_root;
  const proven = (!b || b.hash === t.block_hash) && await checkProof(unhex(t.tx.raw), t.proof, root);
  const under = b ? "under the block's root" : `under the root the node gives for block ${t.height}`;
  const inner = t.tx.tx;
  return el('div',
    el('h1', 'Transaction'),
    el('p', describe(inner)),
    el('p', 'In ', link(`#/block/${chainId}/${t.height}`, `block ${t.height.toLocaleString()} of ${chainId}`), b ? `, ${when(b.time_ms)}` : ''),
    el(proven ? 'p.good' : 'p.bad', { id: 'proof' }, proven
      ? `✓ Merkle proof checked in this page: the transaction is leaf ${t.proof.index + 1} of ${t.proof.leaf_count} ${under}.`
      : '✗ The Merkle proof does not lead to the block\'s root.'),
    el('details', el('summary', 'Details'), el('pre', JSON.stringify(inner, null, 2)), el('p.mono', 'id ', t.id)));
}

export async function account(address) {
  const { data: a } = await readable(`/v1/accounts/${address}`);
  return el('div',
    el('h1', 'Account'), el('p.mono', address),
    a.chains.map((c) => el('div.card', el('h3', c.chain),
      table(['Asset', 'Balance'], c.balances.map((b) => el('tr', el('td', b.asset), el('td.num', amount(b.amount, b.asset))))))));
}

// A transaction id, a center-chain height or an address.
export async function search(q) {
  if (isAddress(q)) return account(q);
  if (/^\d+$/.test(q)) { location.hash = `#/block/center/${q}`; return el('p', 'Opening…'); }
  if (/^[0-9a-f]{64}$/i.test(q)) {
    const chains = await api('/v1/chains');
    for (const c of chains) {
      try {
        const t = await api(`/v1/chains/${c.id}/txs/${q.toLowerCase()}`);
        if (t.status) { location.hash = `#/tx/${c.id}/${q.toLowerCase()}`; return el('p', 'Opening…'); }
      } catch { /* not on this chain, or not readable by this viewer */ }
    }
    return el('p.error', 'No transaction with this id on a chain you may read.');
  }
  return errorBox(new Error('Search for a transaction id (64 hex digits), a block height or a milk1… address.'));
}

// One market: its price history as candles between its bounds, and TICA's quotes now.
export async function market(asset) {
  const m = await api(`/v1/markets/${asset}`);
  const one = (10n ** BigInt(m.decimals)).toString();
  const [b, s] = await Promise.all([api(`/v1/markets/${asset}/quote?side=buy&tokens=${one}`).catch(() => null),
    api(`/v1/markets/${asset}/quote?side=sell&tokens=${one}`).catch(() => null)]);
  const box = el('div#chart');
  const draw = async () => {
    const candles = (await api(`/v1/markets/${asset}/candles?interval_ms=60000&limit=60`)).slice(-60);
    const now = await api(`/v1/markets/${asset}`);
    box.replaceChildren(candleChart(candles, [
      { value: now.max_price_krw_e4, label: 'max', dashed: true, colour: '#c92a2a', name: 'bound-max' },
      { value: now.min_price_krw_e4, label: 'floor', dashed: true, colour: '#3b5bdb', name: 'bound-min' },
      { value: now.price_krw_e4, label: 'now', name: 'price-now' },
    ], krw), el('p.muted', `${candles.length} one-minute candles; ${candles.reduce((n, c) => n + c.trades, 0)} trades.`));
  };
  await draw();
  let last = 0;
  followHeads((head) => {
    if (head.chain === 'center' && Date.now() - last > 2000) { last = Date.now(); draw().catch(() => {}); }
  });
  return el('div', el('h1', `${asset} market`),
    el('p', `${krw(m.price_krw_e4)} per point now, between ${krw(m.min_price_krw_e4)} and ${krw(m.max_price_krw_e4)}; redeemable for ₩${m.redemption_value_krw}; fee ${m.fee_bps / 100}%${m.halted ? ' · halted' : ''}.`),
    el('p#quotes', b ? `Buying 1 ${asset} costs ${amount(b.total, 'MLK')}` : 'No buys now', ' · ',
      s ? `selling 1 ${asset} brings ${amount(s.total, 'MLK')}` : 'no sales now', ' (fee included).'),
    box);
}
