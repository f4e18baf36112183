// The chain's wire format in the browser: addresses, the canonical encoding of the
// transactions a wallet signs, ids, signatures, signed reads, Merkle proofs and amounts.
// docs/ENCODING.md describes the format; a test checks this file against the node's own
// encoder byte for byte (crates/milkd/tests/web.rs), so the two cannot drift apart.

import * as ed from './ed25519.js';
import { keccak_256 } from './noble-sha3.js';

const enc = new TextEncoder();

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function unhex(text) {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new Error('not hex');
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// Big-endian fixed-width integers; `bits` of 8, 32, 64 or 128.
export function uint(value, bits) {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(bits)) throw new Error(`${value} does not fit in u${bits}`);
  const out = new Uint8Array(bits / 8);
  for (let i = out.length - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export const text = (s) => { const b = enc.encode(s); return concat(uint(b.length, 32), b); };

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// SHA-256 over a length-prefixed domain tag and the parts, as the node's `Hash::domain`.
export function domainHash(tag, ...parts) {
  const t = enc.encode(tag);
  return sha256(concat(new Uint8Array([t.length]), t, ...parts));
}

// ---- bech32m addresses (BIP 350), prefix `milk` ----

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32M = 0x2bc830a3;
const PREFIX = 'milk';

function polymod(values) {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= gen[i];
  }
  return chk >>> 0;
}

const expand = (hrp) => [...hrp].map((c) => c.charCodeAt(0) >> 5)
  .concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));

function regroup(data, from, to, pad) {
  let acc = 0, bits = 0;
  const out = [];
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) { bits -= to; out.push((acc >> bits) & ((1 << to) - 1)); }
  }
  if (pad && bits > 0) out.push((acc << (to - bits)) & ((1 << to) - 1));
  else if (!pad && (bits >= from || ((acc << (to - bits)) & ((1 << to) - 1)))) return null;
  return out;
}

export function encodeAddress(key) {
  const data = regroup(key, 8, 5, true);
  const mod = polymod(expand(PREFIX).concat(data, [0, 0, 0, 0, 0, 0])) ^ BECH32M;
  const check = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  return PREFIX + '1' + data.concat(check).map((v) => CHARSET[v]).join('');
}

// The 32 key bytes of a `milk1…` address; throws with the reason when it is not one.
export function decodeAddress(address) {
  const s = address.trim();
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new Error('mixed case');
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (lower.slice(0, sep) !== PREFIX) throw new Error('a milk address starts with milk1');
  const data = [...lower.slice(sep + 1)].map((c) => CHARSET.indexOf(c));
  if (data.length < 6 || data.includes(-1)) throw new Error('not a bech32m string');
  if (polymod(expand(PREFIX).concat(data)) !== BECH32M) throw new Error('checksum does not match: a typo?');
  const bytes = regroup(data.slice(0, -6), 5, 8, false);
  if (!bytes || bytes.length !== 32) throw new Error('wrong length');
  return new Uint8Array(bytes);
}

export function isAddress(s) {
  try { decodeAddress(s); return true; } catch { return false; }
}

// A main-chain address as a customer types it: 0x and 40 hex digits whose letters' case
// carries the EIP-55 checksum (upper case where the keccak of the lower-case hex has a
// nibble of 8 or more), so a mistyped digit is caught before MLK leaves. Its 20 bytes.
export function decodeMainAddress(text) {
  const s = String(text).trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) throw new Error('a main-chain address is 0x and 40 hex digits');
  const digits = s.slice(2);
  const lower = digits.toLowerCase();
  const letters = digits.replace(/[0-9]/g, '');
  if (letters && (letters === letters.toLowerCase() || letters === letters.toUpperCase())) {
    throw new Error('the address carries no checksum: write it as your wallet shows it (mixed case)');
  }
  const hash = keccak_256(enc.encode(lower));
  const expected = Array.from(lower, (c, i) => ((hash[i >> 1] >> (i % 2 ? 0 : 4)) & 15) >= 8 ? c.toUpperCase() : c).join('');
  if (expected !== digits) throw new Error("the address's checksum does not match: a character is wrong");
  if (/^0+$/.test(lower)) throw new Error('the zero address cannot receive MLK');
  return unhex(lower);
}

// ---- keys and signatures ----

export async function publicKey(seed) {
  return ed.getPublicKeyAsync(seed);
}

export const sign = (message, seed) => ed.signAsync(message, seed);
export const verify = (signature, message, key) => ed.verifyAsync(signature, message, key);

// The demo network's well-known keys (`alice`, `bob`, `carol`): never hold value with them.
export const demoSeed = (label) => domainHash('milk/dev-key/v1', enc.encode(`milk-demo/${label}`));

// ---- transactions ----

const TRANSFER = 0x01;
const BUY = 0x11;
const SELL = 0x13;
const CHECK_IN = 0x17;
const BURN_FOR_LZM = 0x18;
const GRANT_CONSENT = 0x1e;
const WITHDRAW_CONSENT = 0x1f;
const BUY_OFFER = 0x1d;
const JOIN_PACK = 0x22;
const LEAVE_PACK = 0x23;
const WITHDRAW = 0x3a;

// An order's size: Brand Token base units (`{tokens}`) or an MLK budget (`{mlk}`).
function orderSize(size) {
  if (size.tokens !== undefined) return concat(new Uint8Array([0]), uint(size.tokens, 128));
  if (size.mlk !== undefined) return concat(new Uint8Array([1]), uint(size.mlk, 128));
  throw new Error('an order is sized in tokens or in MLK');
}

// The actions this wallet signs, encoded as their tag and fields.
export function encodeAction(action) {
  switch (action.type) {
    case 'transfer':
      if (enc.encode(action.memo || '').length > 140) throw new Error('a memo is at most 140 bytes');
      return concat(new Uint8Array([TRANSFER]), decodeAddress(action.to), text(action.asset),
        uint(action.amount, 128), text(action.memo || ''));
    case 'buy':
      return concat(new Uint8Array([BUY]), text(action.asset), text(action.pay), orderSize(action.size),
        uint(action.max_in, 128));
    case 'sell':
      return concat(new Uint8Array([SELL]), uint(action.amount, 128), uint(action.min_out, 128));
    case 'check_in':
      return new Uint8Array([CHECK_IN]);
    case 'burn_for_lzm':
      return concat(new Uint8Array([BURN_FOR_LZM]), uint(action.amount, 128));
    case 'buy_offer':
      return concat(new Uint8Array([BUY_OFFER]), text(action.chain), text(action.id));
    case 'join_pack':
      return concat(new Uint8Array([JOIN_PACK]), uint(action.amount, 128));
    case 'leave_pack':
      return new Uint8Array([LEAVE_PACK]);
    case 'grant_consent':
      return concat(new Uint8Array([GRANT_CONSENT]), text(action.chain), text(action.purpose),
        uint(action.items.length, 32), ...action.items.map(text), uint(action.retention_days, 32));
    case 'withdraw':
      return concat(new Uint8Array([WITHDRAW]), decodeMainAddress(action.to), uint(action.amount, 128),
        uint(action.max_fee, 128));
    case 'withdraw_consent':
      return concat(new Uint8Array([WITHDRAW_CONSENT]), text(action.chain));
    default:
      throw new Error(`this wallet does not sign ${action.type}`);
  }
}

// The transaction's canonical bytes (docs/ENCODING.md).
export function encodeTx(tx) {
  return concat(new Uint8Array([1]), text(tx.chain), decodeAddress(tx.sender),
    uint(tx.sequence, 64), uint(tx.expires_at_ms, 64), encodeAction(tx.action));
}

export const txId = (bytes) => domainHash('milk/tx/v1', bytes);

// Signs `tx` with `seed`: its id, its signature and the signed transaction's hex.
export async function signTx(tx, seed) {
  const bytes = encodeTx(tx);
  const id = await txId(bytes);
  const signature = await sign(id, seed);
  return { id: hex(id), signature: hex(signature), signed: hex(concat(bytes, signature)) };
}

// The three headers that let a customer read their own data on a private chain.
export async function readHeaders(address, seed, nowMs) {
  const expires = BigInt(nowMs) + 120000n;
  const message = await domainHash('milk/read/v1', decodeAddress(address), uint(expires, 64));
  return {
    'x-milk-account': address,
    'x-milk-expires': expires.toString(),
    'x-milk-signature': hex(await sign(message, seed)),
  };
}

// ---- Merkle proofs ----

const merkleLeaf = (raw) => domainHash('milk/merkle/v1', new Uint8Array([0]), raw);
const merkleNode = (l, r) => domainHash('milk/merkle/v1', new Uint8Array([1]), l, r);

// Whether `raw` (a signed transaction's bytes) sits at `proof.index` under `root`: walks
// the same split (the largest power of two below the count) as the node's tree.
export async function checkProof(raw, proof, root) {
  let index = BigInt(proof.index), count = BigInt(proof.leaf_count);
  if (index >= count) return false;
  const sides = [];
  while (count > 1n) {
    let k = 1n;
    while (k * 2n < count) k *= 2n;
    if (index < k) { sides.push(true); count = k; } else { sides.push(false); index -= k; count -= k; }
  }
  if (sides.length !== proof.siblings.length) return false;
  let acc = await merkleLeaf(raw);
  if (hex(acc) !== proof.leaf) return false;
  sides.reverse();
  for (let i = 0; i < sides.length; i++) {
    const sibling = unhex(proof.siblings[i]);
    acc = sides[i] ? await merkleNode(acc, sibling) : await merkleNode(sibling, acc);
  }
  return hex(acc) === root;
}

// ---- amounts: integers in base units, never floats ----

// "12.5" at 8 decimals -> 1250000000n; throws on more decimals than the asset has.
export function parseUnits(value, decimals) {
  const s = String(value).trim();
  if (!/^\d+(\.\d+)?$/.test(s)) throw new Error('an amount is digits, with an optional decimal point');
  const [whole, frac = ''] = s.split('.');
  if (frac.length > decimals) throw new Error(`at most ${decimals} decimals`);
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
}

// 1250000000n at 8 decimals -> "12.5", with thousands separators in the whole part.
export function formatUnits(base, decimals) {
  const v = BigInt(base);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const scale = 10n ** BigInt(decimals);
  const whole = (a / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = decimals ? (a % scale).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  return (neg ? '-' : '') + whole + (frac ? '.' + frac : '');
}

// The KRW value of `base` units at `priceE4` (KRW × 10⁴ per whole unit), rounded down.
export function krwValue(base, decimals, priceE4) {
  return (BigInt(base) * BigInt(priceE4)) / (10n ** BigInt(decimals) * 10000n);
}
