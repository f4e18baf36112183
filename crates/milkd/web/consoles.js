// The partner's console and the operator's, for holders of their credential (pasted in the
// header, kept for the tab only). Every read here is one the API already allows that
// credential, and logs where it logs (a partner reading its consenting members).

import { amount, api, el, errorBox, link, session, short, when } from './ui.js';
import { formatUnits, parseUnits } from './wire.js';

const table = (head, rows) => el('table', el('thead', el('tr', head.map((h) => el('th', h)))), el('tbody', rows));
const krw = (e4) => `₩${formatUnits(e4, 4)}`;

function needsCredential() {
  if (session.credential) return null;
  return el('p.error', 'Paste a partner\'s or the operator\'s credential under “Credential” above (the demo\'s: demo-cinema-token, demo-operator-token).');
}

// Which console: the operator's, or one partner's.
export async function index() {
  const chains = await api('/v1/chains');
  return el('div', el('h1', 'Consoles'), needsCredential(),
    el('ul', el('li', link('#/operator', 'Operator (TICA)')),
      chains.filter((c) => c.kind === 'brand').map((c) => el('li', link(`#/partner/${c.id}`, `${c.partner} (${c.id})`)))));
}

export async function partner(chain) {
  const missing = needsCredential();
  if (missing) return missing;
  const p = (path) => api(`/v1/partners/${chain}${path}`);
  const [supply, events, webhooks, auditors, offers] = await Promise.all([
    p('/supply'), p('/events?limit=1000'), p('/webhooks').catch(() => null), p('/auditors').catch(() => null), api('/v1/offers')]);
  const s = (v) => amount(v, supply.asset);
  return el('div', el('h1', `${chain}: partner console`),
    el('div.card#supply', el('h2', `${supply.asset} supply`), table(['', supply.asset], [
      ['Issued', supply.issued], ['Redeemed', supply.redeemed], ['Refunded', supply.refunded], ['Expired', supply.expired],
      ['Outstanding', supply.outstanding], ['Held by customers', supply.held_by_customers], ['Held by TICA', supply.held_by_tica],
    ].map(([k, v]) => el('tr', el('td', k), el('td.num', s(v)))))),
    lookup(chain),
    el('div.card#events', el('h2', 'Latest events'), table(['When', 'What', 'Transaction'],
      events.events.slice(-25).reverse().map((e) => el('tr', el('td', when(e.time_ms)), el('td', e.kind), el('td.mono', short(e.tx)))))),
    webhooks ? el('div.card#webhooks', el('h2', 'Webhooks'), webhooks.length ? table(['URL', 'Delivered up to', 'Failures', 'Last error'],
      webhooks.map((w) => el('tr', el('td', w.url), el('td', w.cursor || '—'), el('td.num', w.failures), el('td', w.last_error || '—'))))
      : el('p.muted', 'None registered (POST /v1/partners/{chain}/webhooks).')) : null,
    auditors ? el('div.card#auditors', el('h2', 'Auditors'), auditors.length ? el('ul', auditors.map((a) => el('li.mono', a))) : el('p.muted', 'None.')) : null,
    el('div.card#partner-offers', el('h2', 'Premium offers'), el('ul', offers.filter((o) => o.chain === chain)
      .map((o) => el('li', `${o.title}: ${amount(o.price, 'LZM')}, ${o.level_name} and up, ${o.left} left, until ${when(o.closes_ms)}`)))),
    segmentCard(chain));
}

// A conversion by its reference or a redemption by its order id.
function lookup(chain) {
  const out = el('div.result');
  const input = el('input', { name: 'ref', placeholder: 'Conversion reference or redemption order id', required: true });
  const form = el('form#lookup', input, el('button', { type: 'submit' }, 'Find'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const ref = encodeURIComponent(input.value.trim());
    const found = await api(`/v1/partners/${chain}/conversions/${ref}`).catch(() => null)
      || await api(`/v1/partners/${chain}/redemptions/${ref}`).catch(() => null);
    out.replaceChildren(found ? el('pre', JSON.stringify(found, null, 2)) : el('p.error', 'No conversion or redemption with that reference.'));
  });
  return el('div.card', el('h2', 'Conversions and redemptions'), form);
}

// The consenting VIP segment: reading it is logged on the chain, so it is read on request.
function segmentCard(chain) {
  const out = el('div#segment-result');
  const button = el('button#read-segment', {
    onclick: async () => {
      try {
        const members = await api(`/v1/partners/${chain}/segment`);
        out.replaceChildren(members.length ? table(['Member', 'Level', 'Purpose', 'Kept'],
          members.map((m) => el('tr', el('td.mono', short(m.member)), el('td', m.level), el('td', m.purpose), el('td', `${m.retention_days} days`))))
          : el('p.muted', 'No member shares their data with you now.'));
      } catch (e) { out.replaceChildren(errorBox(e)); }
    },
  }, 'Read the consenting members (logged)');
  return el('div.card#segment', el('h2', 'VIP segment'), el('p.muted', 'Each read is recorded on your chain, and each member sees it.'), button, out);
}

// Has the node sign `action` with TICA's key and waits for its block; then shows the page
// again. Throws the chain's refusal.
async function signAsTica(action) {
  const r = await api('/v1/operator/actions', { method: 'POST', body: { action } });
  if (r.status !== 'committed') throw new Error(r.error ? `${r.error.message} (${r.error.code})` : r.status);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

// A button for one of TICA's changes.
function operatorAction(label, action, id) {
  return el('button', {
    id,
    onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        await signAsTica(action);
      } catch (e) { ev.target.replaceWith(errorBox(e)); }
    },
  }, label);
}

export async function operator() {
  const missing = needsCredential();
  if (missing) return missing;
  const [treasury, markets, oracle, sources, alliance, cluster, rules] = await Promise.all([
    api('/v1/treasury'), api('/v1/markets'), api('/v1/oracle').catch(() => null), api('/v1/oracle/sources'),
    api('/v1/alliance'), api('/v1/cluster').catch(() => null), api('/v1/membership/rules')]);
  const held = new Map(treasury.markets.map((m) => [m.asset, m]));
  const marketRows = markets.map((m) => el('tr', { 'data-market': m.asset },
    el('td', link(`#/market/${m.asset}`, m.asset)), el('td', krw(m.price_krw_e4)), el('td', `${krw(m.min_price_krw_e4)} – ${krw(m.max_price_krw_e4)}`),
    el('td.num', `${formatUnits(held.get(m.asset)?.inventory || '0', m.decimals)} ${m.asset}`),
    el('td.num', `₩${formatUnits(held.get(m.asset)?.exposure_krw || '0', 0)}`),
    el('td', m.halted ? 'halted ' : 'open ', operatorAction(m.halted ? 'Reopen' : 'Halt', { type: 'halt_market', asset: m.asset, halted: !m.halted }, `halt-${m.asset}`))));
  return el('div', el('h1', 'Operator console'),
    el('div.card#treasury', el('h2', 'Treasury'),
      el('p', `Reserve ${amount(treasury.reserve, 'MLK')} · fees ${amount(treasury.fees, 'MLK')} · in escrow ${amount(treasury.escrow, 'MLK')} · fee ${markets[0] ? markets[0].fee_bps / 100 : '?'}%`),
      table(['Market', 'Price', 'Bounds', 'Inventory', 'Exposure', 'State'], marketRows)),
    oracle ? el('div.card#oracle', el('h2', 'Oracle'), el('p', `MLK ${krw(oracle.krw_e4)}, observed ${when(oracle.observed_at_ms)} (${Math.round(oracle.age_ms / 1000)} s ago; stale after ${oracle.max_age_ms / 1000} s): `,
      el('span', { class: oracle.fresh ? 'good' : 'bad' }, oracle.fresh ? 'fresh' : 'stale'), `. Buys priced at ${krw(oracle.buy_krw_e4)}, sales at ${krw(oracle.sell_krw_e4)}.`),
    sourcesTable(sources)) : null,
    policyCard(markets, rules),
    allianceCard(alliance, markets),
    cluster ? el('div.card#heads', el('h2', 'Chains'), table(['Chain', 'Height', 'Role', 'Producing', 'Checked here'],
      await Promise.all(cluster.chains.map(async (c) => el('tr', el('td', c.chain), el('td.num', c.height.toLocaleString()), el('td', c.role),
        el('td', c.produces ? 'yes' : 'no'), await linkage(c.chain))))),
    el('p.muted', 'A full replay of every chain from genesis (signatures, Merkle and state roots): milk verify --token <this credential>.')) : null);
}

// Whether a chain's latest blocks each name the one before (heights in a row, each
// prev_hash its parent's hash), and for a brand chain how often the center chain anchored it.
async function linkage(chain) {
  const blocks = await api(`/v1/chains/${chain}/blocks?limit=100`);
  const broken = blocks.findIndex((b, i) => i > 0 && (b.prev_hash !== blocks[i - 1].hash || b.height !== blocks[i - 1].height + 1));
  const anchors = chain === 'center' ? null : await api(`/v1/anchors/${chain}`).catch(() => null);
  const anchored = anchors ? `, anchored ${anchors.length} times` : '';
  return broken < 0
    ? el('td.good', `✓ last ${blocks.length} blocks linked${anchored}`)
    : el('td.bad', `✗ block ${blocks[broken].height} does not follow its parent`);
}

function allianceCard(alliance, markets) {
  const next = (m) => {
    if (m.status === 'admitted' && !markets.some((x) => x.asset === m.symbol)) return openMarket(m);
    if (m.status === 'admitted') return operatorAction('Suspend', { type: 'suspend', chain: m.chain }, `suspend-${m.chain}`);
    if (m.status === 'suspended') return operatorAction('Reinstate', { type: 'reinstate', chain: m.chain }, `reinstate-${m.chain}`);
    if (m.approvals.length >= m.quorum && m.status !== 'exited') return operatorAction('Sign the agreement', { type: 'sign_agreement', chain: m.chain }, `sign-${m.chain}`);
    return el('span.muted', `${m.approvals.length} of ${m.quorum} approvals`);
  };
  return el('div.card#alliance', el('h2', 'Alliance'), table(['Partner', 'Sector', 'Status', ''],
    alliance.map((m) => el('tr', el('td', `${m.name} (${m.chain})`), el('td', m.sector), el('td', m.status), el('td', next(m))))));
}

// Opens an admitted partner's market: a curve twice its initial float deep with TICA
// half-way (the float is TICA's inventory), the largest order and a customer's daily limit
// a hundredth and a twentieth of the float; each may be changed before it is signed.
function openMarket(m) {
  const float = parseUnits(m.initial_float, m.decimals); // the registry gives whole units
  return policyForm(`open-${m.chain}`, [
    numberField(`Depth (${m.symbol} base units)`, 'capacity', float * 2n), numberField('TICA starts at', 'position', float),
    numberField('Largest order', 'max_order', float / 100n), numberField('A customer\'s daily limit', 'user_daily_limit', float / 20n)],
  `Open the ${m.symbol} market`, (v) => ({ type: 'set_market', asset: m.symbol, capacity: v.capacity, position: v.position, max_order: v.max_order, user_daily_limit: v.user_daily_limit }));
}

// Each price source as the node last asked it.
function sourcesTable(sources) {
  return table(['Source', 'Quote', 'Quoted', 'Asked', 'Problem'], sources.map((x) => el('tr',
    el('td.mono', x.url), el('td', x.krw_e4 ? krw(x.krw_e4) : '—'), el('td', x.quoted_at_ms ? when(x.quoted_at_ms) : '—'),
    el('td', when(x.asked_at_ms)), el('td', { class: x.error ? 'bad' : '' }, x.error || 'none'))));
}

// A form that signs one policy action made from its values.
function policyForm(id, fields, label, toAction) {
  const out = el('div.result');
  const node = el('form', { id }, fields, el('button', { type: 'submit' }, label), out);
  node.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await signAsTica(toAction(Object.fromEntries(new FormData(node).entries())));
    } catch (e) { out.replaceChildren(errorBox(e)); }
  });
  return node;
}

const numberField = (label, name, value) => el('label', label, el('input', { name, value: String(value), inputmode: 'numeric', required: true }));
const basisPoints = (text) => {
  if (!/^\d+$/.test(text.trim())) throw new Error('basis points are a whole number');
  return Number(text);
};

// TICA's policies: the fee, each market's maximum price (its floor is the partner's to sign),
// and how LZM is earned (LZM base units). The chain refuses what its rules do not allow.
function policyCard(markets, rules) {
  const fee = markets[0] ? markets[0].fee_bps : 0;
  const r = rules.rules;
  return el('div.card#policy', el('h2', 'Policies'),
    policyForm('set-fee', numberField('Fee, basis points of each trade', 'fee_bps', fee), 'Set the fee',
      (v) => ({ type: 'set_fee', fee_bps: basisPoints(v.fee_bps) })),
    policyForm('set-max', [el('label', 'Market', el('select', { name: 'asset' }, markets.map((m) => el('option', { value: m.asset }, m.asset)))),
      numberField('Maximum price, basis points of the redemption value', 'max_bps', markets[0] ? BigInt(markets[0].max_price_krw_e4) / BigInt(markets[0].redemption_value_krw) : 9500)],
    'Set the maximum', (v) => ({ type: 'set_max_price', asset: v.asset, max_bps: basisPoints(v.max_bps) })),
    policyForm('set-rules', Object.keys(r).map((k) => numberField(`${k.replaceAll('_', ' ')} (LZM base units)`, k, r[k])), 'Set the earning rules',
      (v) => ({ type: 'set_earning_rules', rules: v })));
}
