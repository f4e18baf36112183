// The customer's wallet: keys made or imported here and kept in this browser, encrypted
// under a passphrase (PBKDF2-SHA-256 and AES-GCM, from the browser's own WebCrypto); never
// sent anywhere. Balances on every chain with their KRW value, sending and gifts, daily
// check-in and the account's history. Every transaction is encoded and signed here.

import { amount, api, decimalsOf, el, errorBox, link, short, when } from './ui.js';
import * as wire from './wire.js';

const STORE = 'milk.keys';
const CURRENT = 'milk.current';
const ITERATIONS = 310000;
const unlocked = new Map(); // address -> seed, for this page's life only

const stored = () => JSON.parse(localStorage.getItem(STORE) || '[]');
const current = () => stored().find((k) => k.address === localStorage.getItem(CURRENT)) || stored()[0];

async function boxKey(passphrase, salt) {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: ITERATIONS },
    base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

// Keeps `seed` under `name`, encrypted with `passphrase`.
async function keep(name, seed, passphrase) {
  if (passphrase.length < 4) throw new Error('choose a passphrase of at least 4 characters');
  const address = wire.encodeAddress(await wire.publicKey(seed));
  if (stored().some((k) => k.address === address)) throw new Error(`this key is already here (${short(address)})`);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const box = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await boxKey(passphrase, salt), seed));
  const entry = { name, address, salt: wire.hex(salt), iv: wire.hex(iv), box: wire.hex(box) };
  localStorage.setItem(STORE, JSON.stringify([...stored(), entry]));
  localStorage.setItem(CURRENT, address);
  unlocked.set(address, seed);
}

async function unlock(entry, passphrase) {
  try {
    const key = await boxKey(passphrase, wire.unhex(entry.salt));
    const seed = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: wire.unhex(entry.iv) }, key, wire.unhex(entry.box));
    unlocked.set(entry.address, new Uint8Array(seed));
  } catch {
    throw new Error('wrong passphrase');
  }
}

// Signed-read headers of the unlocked current key, or null.
export async function readHeaders() {
  const k = current();
  const seed = k && unlocked.get(k.address);
  return seed ? wire.readHeaders(k.address, seed, await nowMs()) : null;
}

// The node's idea of now: its center chain's head time, or this clock if that is later.
async function nowMs() {
  const center = await api('/v1/chains/center');
  return Math.max(Date.now(), center.head ? center.head.time_ms : 0);
}

// A form whose submit runs `action(values)`, showing its error or its result below.
function form(id, fields, label, action) {
  const out = el('div.result', { 'aria-live': 'polite' });
  const button = el('button', { type: 'submit' }, label);
  const node = el('form', { id }, fields, button, out);
  node.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    out.replaceChildren(el('p.muted', 'Working…'));
    try {
      const values = Object.fromEntries(new FormData(node).entries());
      out.replaceChildren(await action(values) || '');
    } catch (e) {
      out.replaceChildren(errorBox(e));
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

const field = (label, name, attrs = {}) => el('label', label, el('input', { name, ...attrs }));
const reload = () => { location.hash = '#/wallet'; window.dispatchEvent(new HashChangeEvent('hashchange')); };

function setup() {
  const seed = () => crypto.getRandomValues(new Uint8Array(32));
  return el('div',
    el('h1', 'Your wallet'),
    el('p', 'Keys are made and kept in this browser, encrypted under your passphrase. They never leave it.'),
    el('div.card', el('h2', 'Make a new key'), form('create', [
      field('Name', 'name', { value: 'my key', required: true }),
      field('Passphrase', 'passphrase', { type: 'password', required: true })],
    'Make key', async (v) => { await keep(v.name, seed(), v.passphrase); reload(); })),
    el('div.card', el('h2', 'Import a key'), form('import', [
      field('Name', 'name', { required: true }),
      field('Secret seed (64 hex digits)', 'seed', { required: true, autocomplete: 'off', spellcheck: 'false' }),
      field('Passphrase', 'passphrase', { type: 'password', required: true })],
    'Import', async (v) => {
      const s = v.seed.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(s)) throw new Error('a seed is 64 hex digits');
      await keep(v.name, wire.unhex(s), v.passphrase);
      reload();
    })),
    el('div.card', el('h2', 'Try a demo key'), el('p.muted', 'The demo network\'s public keys: anyone can use them.'),
      form('demo', [el('label', 'Who', el('select', { name: 'who' }, ['alice', 'bob', 'carol'].map((n) => el('option', n)))),
        field('Passphrase', 'passphrase', { type: 'password', required: true })],
      'Import demo key', async (v) => { await keep(v.who, await wire.demoSeed(v.who), v.passphrase); reload(); })));
}

function chooser(keys, k) {
  const select = el('select', { id: 'key', onchange: (ev) => { localStorage.setItem(CURRENT, ev.target.value); reload(); } },
    keys.map((x) => el('option', { value: x.address, selected: x.address === k.address }, `${x.name} · ${short(x.address)}`)));
  return el('p', 'Key: ', select, ' ', link('#/wallet/add', 'add a key'));
}

// Making or importing another key.
export const add = async () => setup();

export async function home() {
  const keys = stored();
  const k = current();
  if (!k) return setup();
  if (!unlocked.has(k.address)) {
    return el('div', el('h1', 'Your wallet'), chooser(keys, k),
      form('unlock', field('Passphrase', 'passphrase', { type: 'password', required: true, autofocus: true }), 'Unlock',
        async (v) => { await unlock(k, v.passphrase); reload(); }));
  }
  const [view, markets, oracle] = await Promise.all([
    api(`/v1/accounts/${k.address}`, { headers: await readHeaders() }), api('/v1/markets'), api('/v1/oracle').catch(() => null)]);
  const prices = new Map(markets.map((m) => [m.asset, m.price_krw_e4]));
  if (oracle) prices.set('MLK', oracle.krw_e4);
  const rows = view.chains.flatMap((c) => c.balances.map((b) => el('tr', { 'data-asset': b.asset },
    el('td', c.chain), el('td.num', amount(b.amount, b.asset)),
    el('td.num', prices.has(b.asset) ? `₩${wire.krwValue(b.amount, b.decimals, prices.get(b.asset)).toLocaleString()}` : '—'))));
  return el('div',
    el('h1', 'Your wallet'), chooser(keys, k),
    el('p.mono', { id: 'address' }, k.address),
    el('nav.actions', link('#/wallet/send', 'Send or gift'), ' ', link('#/wallet/trade', 'Trade points'), ' ',
      link('#/wallet/history', 'History'), ' ', link('#/wallet/member', 'Membership'), ' ',
      link('#/wallet/cashout', 'Cash out'), ' ',
      el('button', { id: 'checkin', onclick: (ev) => checkIn(ev.target) }, 'Daily check-in')),
    el('table#balances', el('thead', el('tr', el('th', 'Chain'), el('th', 'Balance'), el('th', 'Worth'))), el('tbody', rows)),
    await expiringCard(k));
}

// Signs `action` on `chain` with the current key and waits for its block.
async function submit(chain, action) {
  const k = current();
  const seed = k && unlocked.get(k.address);
  if (!seed) throw new Error('unlock your key first');
  const view = await api(`/v1/accounts/${k.address}`, { headers: await readHeaders() });
  const on = view.chains.find((c) => c.chain === chain);
  const tx = { chain, sender: k.address, sequence: on ? on.next_sequence : 0, expires_at_ms: (await nowMs()) + 600000, action };
  const signed = await wire.signTx(tx, seed);
  const answer = await api(`/v1/chains/${chain}/txs?wait=true`, { method: 'POST', body: { txs: [signed.signed] } });
  const r = answer.results[0];
  if (r.status !== 'committed') throw new Error(`${r.error ? r.error.message + ' (' + r.error.code + ')' : r.status}`);
  return { id: signed.id, height: r.height };
}

async function checkIn(button) {
  button.disabled = true;
  try {
    await submit('center', { type: 'check_in' });
    button.replaceWith(el('span.good', 'Checked in ✓'));
  } catch (e) {
    button.replaceWith(errorBox(e));
  }
}

export async function send() {
  const k = current();
  if (!k || !unlocked.has(k.address)) { location.hash = '#/wallet'; return el('p', 'Unlock your key first.'); }
  const chains = await api('/v1/chains');
  const options = chains.flatMap((c) => c.assets.map((a) => el('option', { value: `${c.id}/${a.symbol}` }, `${a.symbol} on ${c.id}`)));
  return el('div', el('h1', 'Send or gift'), el('p.muted', `From ${k.name} · ${short(k.address)}`),
    form('send', [
      el('label', 'Asset', el('select', { name: 'asset' }, options)),
      field('To (milk1… address)', 'to', { required: true, autocomplete: 'off', spellcheck: 'false' }),
      field('Amount', 'amount', { required: true, inputmode: 'decimal', autocomplete: 'off' }),
      field('Message (optional, up to 140 bytes)', 'memo', { maxlength: 140 })],
    'Sign and send', async (v) => {
      const [chain, asset] = v.asset.split('/');
      wire.decodeAddress(v.to);
      const base = wire.parseUnits(v.amount, decimalsOf(asset));
      if (base === 0n) throw new Error('send more than nothing');
      const done = await submit(chain, { type: 'transfer', to: v.to.trim(), asset, amount: base, memo: v.memo || '' });
      return el('p.good', `Sent ${amount(base, asset)} ✓ in block ${done.height} · `, link(`#/tx/${chain}/${done.id}`, 'see it'));
    }));
}

// What a history line's transaction did, in words; other kinds by their own name.
const KINDS = {
  sell: 'points sold (in escrow)', settle_sell: 'sale paid', release_sell: 'sale settled',
  buy: 'points bought (MLK locked)', complete_buy: 'purchase paid', deliver_buy: 'points delivered',
  convert: 'mileage converted', convert_batch: 'mileage converted', check_in: 'daily check-in',
  redeem: 'points redeemed', refund: 'redemption refunded', burn_for_lzm: 'MLK burned for LZM',
};

export async function history() {
  const k = current();
  if (!k || !unlocked.has(k.address)) { location.hash = '#/wallet'; return el('p', 'Unlock your key first.'); }
  const h = await api(`/v1/accounts/${k.address}/history`, { headers: await readHeaders() });
  const change = (c) => el('div', { class: c.direction === 'in' ? 'good' : 'bad' }, `${c.direction === 'in' ? '+' : '−'}${amount(c.amount, c.asset)}`);
  const rows = h.lines.map((l) => el('tr', el('td', when(l.time_ms)), el('td', l.chain),
    el('td', link(`#/tx/${l.chain}/${l.tx}`, KINDS[l.type] || l.type.replaceAll('_', ' '))), el('td.num', l.changes.map(change)),
    el('td', l.action.memo ? `“${l.action.memo}”` : l.action.reason || '')));
  return el('div', el('h1', 'History'), el('p.muted', `${k.name} · ${short(k.address)}`),
    rows.length ? el('table#history', el('thead', el('tr', ['When', 'Chain', 'What', 'Change', 'Note'].map((x) => el('th', x)))), el('tbody', rows))
      : el('p', 'Nothing yet.'));
}

// What a withdrawal's status means to its customer.
const WITHDRAWAL_STATUS = {
  awaiting_main_chain: 'waiting: this node relays to no main chain yet (nothing is lost)',
  queued: 'queued for the next batch', sealed: 'in a batch, being released', released: 'released ✓',
};

// MLK out to a main-chain address (burned here at once, released there once its batch is
// posted) and in from the main chain: the form, then the account's withdrawals and
// deposits with where each stands.
export async function cashOut() {
  const k = current();
  if (!k || !unlocked.has(k.address)) { location.hash = '#/wallet'; return el('p', 'Unlock your key first.'); }
  const [bridge, out, ins, how] = await Promise.all([api('/v1/bridge'), api(`/v1/bridge/withdrawals?account=${k.address}`),
    api(`/v1/bridge/deposits?account=${k.address}`), api(`/v1/bridge/deposit-address/${k.address}`)]);
  const outRows = out.map((w) => el('tr', el('td', when(w.at_ms)), el('td.num', amount(w.amount, 'MLK')), el('td.mono', { title: w.to }, `${w.to.slice(0, 8)}…${w.to.slice(-6)}`),
    el('td', { class: w.status === 'released' ? 'good' : '' }, WITHDRAWAL_STATUS[w.status] || w.status)));
  const inRows = ins.map((d) => el('tr', el('td.num', amount(d.amount, 'MLK')), el('td.mono', { title: d.from }, `${d.from.slice(0, 8)}…${d.from.slice(-6)}`), el('td', d.status)));
  return el('div', el('h1', 'Cash out and in'), el('p.muted', `${k.name} · ${short(k.address)}`),
    el('p', `Withdrawals cost ${amount(bridge.fee, 'MLK')} on top; at least ${amount(bridge.minimum, 'MLK')}, at most ${amount(bridge.daily_limit, 'MLK')} a day.`),
    form('withdraw', [
      field('To (main-chain address, as your wallet there shows it)', 'to', { required: true, autocomplete: 'off', spellcheck: 'false' }),
      field('MLK to arrive', 'amount', { required: true, inputmode: 'decimal', autocomplete: 'off' })],
    'Sign and withdraw', async (v) => {
      wire.decodeMainAddress(v.to);
      const base = wire.parseUnits(v.amount, decimalsOf('MLK'));
      if (base === 0n) throw new Error('withdraw more than nothing');
      await submit('center', { type: 'withdraw', to: v.to.trim(), amount: base, max_fee: BigInt(bridge.fee) });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      return el('p.good', 'Withdrawn ✓');
    }),
    el('h2', 'Withdrawals'),
    outRows.length ? el('table#withdrawals', el('thead', el('tr', ['When', 'MLK', 'To', 'Status'].map((x) => el('th', x)))), el('tbody', outRows))
      : el('p', 'None yet.'),
    el('h2', 'Deposits'), el('p.mono', how.how),
    inRows.length ? el('table#deposits', el('thead', el('tr', ['MLK', 'From', 'Status'].map((x) => el('th', x)))), el('tbody', inRows))
      : el('p', 'None yet.'));
}

const SLIPPAGE_BPS = 100n; // the limit signed with an order: 1% worse than its quote

// Points sold for MLK or bought with it, at TICA's price: quoted first, with the limit the
// order will carry and the price against the points' redemption value, then signed here.
export async function trade() {
  const k = current();
  if (!k || !unlocked.has(k.address)) { location.hash = '#/wallet'; return el('p', 'Unlock your key first.'); }
  const markets = (await api('/v1/markets')).filter((m) => !m.halted);
  const quoted = el('div#quote');
  let pending = null;
  const quoteForm = form('trade', [
    el('label', 'Market', el('select', { name: 'asset' }, markets.map((m) => el('option', { value: m.asset }, `${m.asset} (${m.chain})`)))),
    el('label', 'I want to', el('select', { name: 'side' }, el('option', { value: 'sell' }, 'sell points for MLK'), el('option', { value: 'buy' }, 'buy points with MLK'))),
    field('Points', 'tokens', { required: true, inputmode: 'decimal', autocomplete: 'off' })],
  'Quote', async (v) => {
    const m = markets.find((x) => x.asset === v.asset);
    const tokens = wire.parseUnits(v.tokens, m.decimals);
    if (tokens === 0n) throw new Error('trade more than nothing');
    const q = await api(`/v1/markets/${m.asset}/quote?side=${v.side}&tokens=${tokens}`);
    pending = { market: m, side: v.side, q };
    quoted.replaceChildren(quoteCard(pending));
    return null;
  });
  return el('div', el('h1', 'Trade points'), el('p.muted', 'TICA is the other side of every trade; prices move with supply and demand, between bounds.'),
    quoteForm, quoted);

  function quoteCard(p) {
    const { q, market: m, side } = p;
    const total = BigInt(q.total);
    p.limit = side === 'sell' ? total * (10000n - SLIPPAGE_BPS) / 10000n : (total * (10000n + SLIPPAGE_BPS) + 9999n) / 10000n;
    const redemption = BigInt(m.redemption_value_krw) * 10000n;
    const discountBps = (redemption - BigInt(q.price_krw_e4)) * 10000n / redemption;
    const button = el('button#confirm', { onclick: () => placeOrder(p, button) }, 'Sign and trade');
    return el('div.card',
      el('p', side === 'sell' ? `You sell ${amount(q.tokens, m.asset)} and get ` : `You buy ${amount(q.tokens, m.asset)} for `,
        el('strong', amount(total, 'MLK')), ` (fee ${amount(q.fee, 'MLK')} included).`),
      el('p', `₩${wire.formatUnits(q.price_krw_e4, 4)} per point: ${wire.formatUnits(discountBps, 2)}% below its redemption value of ₩${m.redemption_value_krw}.`),
      el('p#limit', side === 'sell' ? `Limit: you accept no less than ${amount(p.limit, 'MLK')}.` : `Limit: you pay no more than ${amount(p.limit, 'MLK')}.`),
      button, el('div#progress'));
  }
}

const STEPS = {
  sell: [['locked', 'Points locked in escrow on their chain'], ['priced', 'Priced on the center chain'], ['filled', 'MLK paid, escrow released to TICA']],
  buy: [['locked', 'MLK locked on the center chain'], ['priced', 'Priced'], ['filled', 'Points delivered, MLK paid']],
};
const ORDER = ['pending', 'locked', 'priced', 'filled'];

function progress(side, view, ms) {
  const reached = ORDER.indexOf(view.status);
  const lines = STEPS[side].map(([status, label]) => el('li', { class: reached >= ORDER.indexOf(status) ? 'good' : 'muted' },
    `${reached >= ORDER.indexOf(status) ? '✓' : '…'} ${label}`));
  const end = view.status === 'filled' ? el('p#outcome.good', `Filled in ${ms} ms.`)
    : ['refused', 'voided'].includes(view.status) ? el('p#outcome.bad', `${view.status}: ${view.code || ''}; anything locked went back.`) : null;
  return [el('ol.steps', lines), end];
}

async function placeOrder(p, button) {
  button.disabled = true;
  const box = document.getElementById('progress');
  const started = performance.now();
  try {
    const k = current();
    const chain = p.side === 'sell' ? p.market.chain : 'center';
    const view = await api(`/v1/accounts/${k.address}`, { headers: await readHeaders() });
    const on = view.chains.find((c) => c.chain === chain);
    const action = p.side === 'sell'
      ? { type: 'sell', amount: p.q.tokens, min_out: p.limit }
      : { type: 'buy', asset: p.market.asset, pay: 'MLK', size: { tokens: p.q.tokens }, max_in: p.limit };
    const tx = { chain, sender: k.address, sequence: on ? on.next_sequence : 0, expires_at_ms: (await nowMs()) + 600000, action };
    const signed = await wire.signTx(tx, unlocked.get(k.address));
    let t = await api('/v1/trades', { method: 'POST', body: { tx: signed.signed } });
    for (let i = 0; i < 100 && !['filled', 'refused', 'voided'].includes(t.status); i++) {
      box.replaceChildren(...progress(p.side, t, 0));
      await new Promise((r) => setTimeout(r, 300));
      t = await api(`/v1/trades/${signed.id}`);
    }
    box.replaceChildren(...progress(p.side, t, Math.round(performance.now() - started)));
  } catch (e) {
    box.replaceChildren(errorBox(e));
    button.disabled = false;
  }
}

// Points of one's own that expire, soonest first (empty when none do).
async function expiringCard(k) {
  const lots = await api(`/v1/accounts/${k.address}/expiring`, { headers: await readHeaders() });
  if (!lots.length) return null;
  return el('div.card#expiring', el('h2', 'Points that expire'),
    el('ul', lots.map((l) => el('li', { class: l.expired ? 'bad' : '' },
      `${amount(l.amount, l.asset)} ${l.expired ? 'expired on' : 'expire on'} ${new Date(l.expires_at_ms).toLocaleDateString()}`))));
}

// A button that signs `action` on `chain` and then shows the page again.
const act = (label, chain, action, id) => el('button', {
  id,
  onclick: async (ev) => {
    ev.target.disabled = true;
    try { await submit(chain, action); reloadHere(); } catch (e) { ev.target.replaceWith(errorBox(e)); }
  },
}, label);
const reloadHere = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

// LZM: the level and what makes it, premium offers, consents per partner with the reads
// of one's data, and the MiL.k Pack.
export async function member() {
  const k = current();
  if (!k || !unlocked.has(k.address)) { location.hash = '#/wallet'; return el('p', 'Unlock your key first.'); }
  const [m, offers, chains] = await Promise.all([
    api(`/v1/members/${k.address}`, { headers: await readHeaders() }), api('/v1/offers'), api('/v1/chains')]);
  const partners = chains.filter((c) => c.kind === 'brand');
  return el('div', el('h1', `${m.level_name} member`), el('p.muted', `${k.name} · ${short(k.address)}`),
    levelCard(m), offersCard(m, offers), consentCard(m, partners), packCard(m));
}

function levelCard(m) {
  const earned = BigInt(m.earned_in_window);
  const needed = m.needed ? BigInt(m.needed) : null;
  const pct = needed ? Number((earned * 100n) / (earned + needed || 1n)) : 100;
  return el('div.card#level',
    el('p', `${amount(m.earned_in_window, 'LZM')} earned in the last ${m.window_days} days.`),
    needed !== null ? el('p', `${amount(m.needed, 'LZM')} more for ${m.next_level}.`) : el('p', 'The highest level.'),
    el('progress', { max: 100, value: pct }),
    m.leaving.length ? el('ul', m.leaving.map((l) => el('li', `${amount(l.amount, 'LZM')} leaves the window on ${when(l.at_ms)}`))) : null,
    act('Daily check-in', 'center', { type: 'check_in' }, 'member-checkin'),
    form('burn', field('Burn MLK for LZM', 'amount', { required: true, inputmode: 'decimal' }), 'Burn', async (v) => {
      await submit('center', { type: 'burn_for_lzm', amount: wire.parseUnits(v.amount, decimalsOf('MLK')) });
      reloadHere();
    }));
}

function offersCard(m, offers) {
  const rows = offers.map((o) => el('li', `${o.title} (${o.chain}) — ${amount(o.price, 'LZM')}, ${o.level_name} and up, ${o.left} left `,
    m.level >= o.level ? act('Buy', 'center', { type: 'buy_offer', chain: o.chain, id: o.id }, `offer-${o.id}`) : el('span.muted', `needs ${o.level_name}`)));
  return el('div.card#offers', el('h2', 'Premium offers'), rows.length ? el('ul', rows) : el('p', 'None open now.'));
}

function consentCard(m, partners) {
  const consents = m.consents || [];
  const rows = partners.map((c) => {
    const given = consents.find((x) => x.chain === c.id && !x.withdrawn_ms);
    return el('li', `${c.partner}: `, given
      ? [`sharing ${given.items.join(' and ')} for “${given.purpose}” since ${when(given.granted_ms)} `,
        act('Withdraw', c.id, { type: 'withdraw_consent', chain: c.id }, `withdraw-${c.id}`)]
      : ['not sharing ', act('Share my level and activity', c.id,
        { type: 'grant_consent', chain: c.id, purpose: 'VIP offers', items: ['level', 'activity'], retention_days: 90 }, `consent-${c.id}`)]);
  });
  const log = (m.access_log || []).map((a) => el('li', `${a.chain} read your data on ${when(a.time_ms)}`));
  return el('div.card#consents', el('h2', 'What partners may see'), el('ul', rows),
    el('h3', 'Who read it'), log.length ? el('ul', log) : el('p.muted', 'Nobody yet.'));
}

function packCard(m) {
  const p = m.pack;
  if (!p) return el('div.card#pack', el('h2', 'MiL.k Pack'), el('p', 'No season is open.'));
  const join = form('join-pack', field('Commit MLK', 'amount', { required: true, inputmode: 'decimal' }), 'Join the Pack', async (v) => {
    await submit('center', { type: 'join_pack', amount: wire.parseUnits(v.amount, decimalsOf('MLK')) });
    reloadHere();
  });
  return el('div.card#pack', el('h2', `MiL.k Pack, season ${p.season}`),
    el('p', `${p.weeks} weeks from ${when(p.starts_ms)}: ${amount(p.weekly_reward, 'MLK')} shared each week, ${amount(p.lzm_per_week, 'LZM')} a week for each member.`),
    p.committed ? [el('p', `You committed ${amount(p.committed, 'MLK')} on ${when(p.since_ms)}; you earned ${amount(p.lzm_earned, 'LZM')}.`),
      act('Leave the Pack', 'center', { type: 'leave_pack' }, 'leave-pack')] : join);
}
