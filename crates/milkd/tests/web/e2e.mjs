// Drives the node's pages in Debian's Chromium, headless, as a person would: the explorer,
// a search, the live feed, a private chain with and without a credential, a demo key
// imported and a fresh key made, a gift sent and found in the history and the explorer
// with its Merkle proof checked, bad input refused, MLK withdrawn to a main-chain address;
// and the page's own encoder run on the
// node's golden vectors. Prints one JSON line of what it saw; a step that fails throws.
//
// Run by crates/milkd/tests/web.rs, which starts the node, installs playwright-core
// beside this file, and checks the JSON line.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const base = process.env.MILK_WEB_URL;
const vectors = JSON.parse(fs.readFileSync(process.env.MILK_WEB_VECTORS, 'utf8'));
const bob = process.env.MILK_WEB_BOB;
const shots = process.env.MILK_WEB_SHOTS;
const seen = {};

function check(ok, what) {
  if (!ok) throw new Error(`web: ${what}`);
}

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

// The page as it is now, at phone size and at desktop size.
async function shot(page, name) {
  if (!shots) return;
  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(shots, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(PHONE);
}

const text = (page, selector) => page.locator(selector).first().innerText();

// Without a credential or a key, a visitor opens every page that could show the airline's
// private chain, even typing the id of one of its transactions; nothing the node sends them
// may carry its data (a block's hash and state root, a conversion's reference, which the
// test passes as secrets), and the pages say the chain is private.
async function anonymous(page) {
  const { typed, secrets } = JSON.parse(process.env.MILK_WEB_SECRETS);
  const bodies = [];
  const listen = (r) => { if (!r.url().endsWith('/live')) bodies.push(r.text().catch(() => '')); };
  page.on('response', listen);
  for (const hash of ['#/', '#/chain/skyway', '#/block/skyway/1', `#/tx/skyway/${typed}`,
    '#/partner/skyway', '#/market/SKY', `#/search/${typed}`, `#/account/${process.env.MILK_WEB_ALICE}`]) {
    await page.goto(base + '/' + hash);
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.waitForTimeout(300);
    const shown = await page.locator('main').innerText();
    check(!secrets.some((x) => shown.includes(x)), `${hash} shows private data`);
  }
  page.off('response', listen);
  const all = await Promise.all(bodies);
  seen.anonymousResponses = all.length;
  seen.leaked = secrets.filter((x) => all.some((b) => b.includes(x)));
  await page.goto(base + '/#/chain/skyway');
  await page.locator('main .error').waitFor();
  seen.privateChain = await text(page, 'main .error');
}

async function explorer(page) {
  await page.goto(base + '/#/');
  await page.getByText('Markets').waitFor();
  const sky = page.locator('tr[data-chain="skyway"]');
  check((await sky.innerText()).includes('private'), 'a brand chain shows as private to anonymous viewers');
  seen.centerHeight = Number((await text(page, 'tr[data-chain="center"] td:nth-child(2)')).replaceAll(',', ''));
  seen.bridgedSupply = await text(page, 'p.bridged');
  await shot(page, 'overview');
  // The live feed moves the center chain's height without a reload (the demo's traffic).
  await page.waitForFunction((h) => {
    const cell = document.querySelector('tr[data-chain="center"] td:nth-child(2)');
    return cell && Number(cell.innerText.replaceAll(',', '')) > h;
  }, seen.centerHeight, { timeout: 20000 });
  seen.liveMoved = true;
  // A credential opens the private chain.
  await page.locator('.credential summary').click();
  await page.fill('#credential', 'demo-operator-token');
  await page.press('#credential', 'Tab');
  await page.waitForFunction(() => !document.querySelector('tr[data-chain="skyway"]')?.innerText.includes('private'));
  seen.operatorSeesSkyway = true;
  await page.fill('#credential', '');
  await page.press('#credential', 'Tab');
  // A market: candles between its bounds, the price now, TICA's quotes (the sale below
  // makes a candle; the demo's traffic may have made some already).
  await page.goto(base + '/#/market/CINE');
  await page.locator('#chart svg').waitFor();
  seen.chartLines = await page.locator('#chart svg line.bound-max, #chart svg line.bound-min, #chart svg line.price-now').count();
  seen.quotes = await text(page, '#quotes');
  // Search: a block height.
  await page.fill('#search input', '1');
  await page.press('#search input', 'Enter');
  await page.getByText('Block 1 of center').waitFor();
  seen.searchHeight = true;
}

async function importAlice(page) {
  await page.goto(base + '/#/wallet');
  await page.locator('#demo select').selectOption('alice');
  await page.fill('#demo input[name=passphrase]', 'correct horse');
  await page.click('#demo button');
  await page.locator('#balances').waitFor();
  seen.aliceAddress = await text(page, '#address');
  const mlk = await text(page, '#balances tr[data-asset="MLK"]');
  check(/MLK/.test(mlk) && /₩/.test(mlk), `alice's MLK row shows an amount and its KRW value: ${mlk}`);
  seen.aliceMlk = mlk;
  seen.expiring = await text(page, '#expiring');
  await shot(page, 'wallet');
}

async function sendGift(page) {
  await page.click('text=Send or gift');
  await page.locator('#send').waitFor();
  await page.locator('#send select[name=asset]').selectOption('skyway/SKY');
  // Bad input first: a mistyped address, then too many decimals; nothing is sent.
  await page.fill('#send input[name=to]', bob.slice(0, -1) + (bob.endsWith('q') ? 'p' : 'q'));
  await page.fill('#send input[name=amount]', '25');
  await page.click('#send button');
  await page.locator('#send .error').waitFor();
  seen.typoRefused = await text(page, '#send .error');
  await page.fill('#send input[name=to]', bob);
  await page.fill('#send input[name=amount]', '25.001');
  await page.click('#send button');
  await page.getByText('at most 2 decimals').waitFor();
  await page.fill('#send input[name=amount]', '99999999');
  await page.click('#send button');
  await page.getByText('insufficient_balance').waitFor();
  seen.tooMuchRefused = true;
  await page.fill('#send input[name=amount]', '25');
  await page.fill('#send input[name=memo]', 'for your trip');
  await page.click('#send button');
  await page.locator('#send .good').waitFor({ timeout: 15000 });
  seen.sent = await text(page, '#send .good');
  await shot(page, 'sent');
  await page.click('text=see it');
  await page.locator('#proof').waitFor();
  seen.proof = await text(page, '#proof');
  seen.giftTx = page.url().split('/').pop();
  await shot(page, 'tx');
}

async function sellPoints(page) {
  await page.goto(base + '/#/wallet/trade');
  await page.locator('#trade').waitFor();
  await page.locator('#trade select[name=asset]').selectOption('CINE');
  await page.locator('#trade select[name=side]').selectOption('sell');
  await page.fill('#trade input[name=tokens]', '10');
  await page.click('#trade button');
  await page.locator('#limit').waitFor();
  seen.quote = await text(page, '#quote');
  await page.click('#confirm');
  await page.locator('#outcome').waitFor({ timeout: 20000 });
  seen.traded = await text(page, '#progress');
  await shot(page, 'trade');
  // And buys travel points with MLK, watching it complete.
  await page.locator('#trade select[name=asset]').selectOption('SKY');
  await page.locator('#trade select[name=side]').selectOption('buy');
  await page.fill('#trade input[name=tokens]', '5');
  await page.click('#trade button');
  await page.locator('#quote:has-text("You buy 5 SKY")').waitFor();
  await page.click('#confirm');
  await page.locator('#outcome').waitFor({ timeout: 20000 });
  seen.bought = await text(page, '#progress');
  await page.goto(base + '/#/market/CINE');
  await page.locator('#chart svg rect.volume').first().waitFor();
  seen.candles = await page.locator('#chart svg rect.volume').count();
  await shot(page, 'market');
}

async function membership(page) {
  await page.goto(base + '/#/wallet/member');
  await page.locator('#level').waitFor();
  await page.click('#member-checkin');
  await page.waitForFunction(() => /LZM earned/.test(document.querySelector('#level')?.innerText) && !/^0 LZM/.test(document.querySelector('#level').innerText));
  seen.level = await text(page, '#level');
  // Burning 20 MLK earns 100 LZM: Silver, which opens the cinema's premiere offer.
  await page.fill('#burn input[name=amount]', '20');
  await page.click('#burn button');
  await page.locator('h1:has-text("Silver member")').waitFor();
  await page.click('#offer-PREMIERE');
  await page.locator('#offers:has-text("99 left")').waitFor();
  seen.offers = await text(page, '#offers');
  await page.click('#consent-cinema');
  await page.locator('#withdraw-cinema').waitFor();
  seen.consented = await text(page, '#consents');
  await page.click('#withdraw-cinema');
  await page.locator('#consent-cinema').waitFor();
  await page.fill('#join-pack input[name=amount]', '1.5');
  await page.click('#join-pack button');
  await page.locator('#leave-pack').waitFor();
  seen.pack = await text(page, '#pack');
  await shot(page, 'member');
}

async function useCredential(page, token) {
  await page.evaluate((t) => sessionStorage.setItem('milk.credential', t), token);
}

async function consoles(page) {
  await page.goto(base + '/#/consoles');
  await useCredential(page, 'demo-skyway-token');
  await page.goto(base + '/#/partner/skyway');
  await page.reload();
  await page.locator('#supply').waitFor();
  seen.partnerSupply = await text(page, '#supply');
  await page.fill('#lookup input', 'WEB-1');
  await page.click('#lookup button');
  await page.locator('#lookup pre').waitFor();
  seen.lookup = await text(page, '#lookup pre');
  await page.click('#read-segment');
  await page.locator('#segment-result > *').first().waitFor();
  seen.segment = await text(page, '#segment');
  await shot(page, 'partner');
  // Nor another partner's chain.
  await page.goto(base + '/#/partner/cinema');
  await page.locator('main .error').waitFor();
  seen.otherPartner = await text(page, 'main .error');
  // A partner's credential does not open TICA's console.
  await page.goto(base + '/#/operator');
  await page.locator('main .error').waitFor();
  seen.partnerAsOperator = await text(page, 'main .error');
  await useCredential(page, 'demo-operator-token');
  await page.reload();
  await page.locator('#treasury').waitFor();
  await page.click('#halt-MART');
  await page.locator('#halt-MART:text("Reopen")').waitFor();
  seen.halted = await text(page, 'tr[data-market="MART"]');
  seen.heads = await text(page, '#heads');
  seen.sources = await page.locator('#oracle tbody tr').count();
  seen.sourcesText = await text(page, '#oracle tbody');
  // Policies: a higher fee, and two LZM for a check-in.
  await page.fill('#set-fee input[name=fee_bps]', '160');
  await page.click('#set-fee button');
  await page.locator('#treasury:has-text("fee 1.6%")').waitFor();
  await page.fill('#set-rules input[name=check_in]', '200000000');
  await page.click('#set-rules button');
  await page.locator('#set-rules input[name=check_in][value="200000000"]').waitFor();
  // A refused policy says why and changes nothing.
  await page.fill('#set-max input[name=max_bps]', '9900');
  await page.click('#set-max button');
  await page.locator('#set-max .error').waitFor();
  seen.maxRefused = await text(page, '#set-max .error');
  // The applicant the partners approved: TICA signs its agreement, then opens its market.
  await page.click('#sign-gym');
  await page.locator('#open-gym').waitFor();
  await page.click('#open-gym button');
  await page.locator('#suspend-gym').waitFor();
  seen.admitted = await text(page, '#alliance');
  await shot(page, 'operator');
  await useCredential(page, '');
}

async function history(page) {
  await page.goto(base + '/#/wallet/history');
  await page.locator('#history').waitFor();
  seen.history = await text(page, '#history tbody');
}

// Cash out: a main-chain address typed without its checksum is refused before anything is
// signed; a good one withdraws, and the withdrawal waits, as the demo relays to no main chain.
async function cashOut(page) {
  await page.goto(base + '/#/wallet/cashout');
  await page.locator('#withdraw').waitFor();
  const to = process.env.MILK_WEB_MAIN_ADDRESS;
  await page.fill('#withdraw input[name=to]', to.toLowerCase());
  await page.fill('#withdraw input[name=amount]', '20');
  await page.click('#withdraw button');
  await page.locator('#withdraw .result').getByText('checksum').waitFor();
  seen.mainTypoRefused = await text(page, '#withdraw .result');
  await page.fill('#withdraw input[name=to]', to);
  await page.click('#withdraw button');
  await page.locator('#withdrawals').waitFor();
  seen.withdrawals = await text(page, '#withdrawals tbody');
  seen.depositHow = await text(page, 'main');
  await shot(page, 'cashout');
}

async function freshKey(page) {
  await page.goto(base + '/#/wallet/add');
  await page.fill('#create input[name=name]', 'mine');
  await page.fill('#create input[name=passphrase]', 'hunter22');
  await page.click('#create button');
  await page.locator('#balances').waitFor();
  seen.freshAddress = await text(page, '#address');
  // A reload forgets the unlocked key; a wrong passphrase does not open it. How long a
  // returning customer waits: the page loaded to its passphrase prompt, then unlocked to
  // their balances (a deliberately slow key derivation included).
  const loading = Date.now();
  await page.reload();
  await page.locator('#unlock').waitFor();
  seen.walletPromptMs = Date.now() - loading;
  await page.fill('#unlock input[name=passphrase]', 'wrong');
  await page.click('#unlock button');
  await page.getByText('wrong passphrase').waitFor();
  await page.fill('#unlock input[name=passphrase]', 'hunter22');
  const unlocking = Date.now();
  await page.click('#unlock button');
  await page.locator('#balances').waitFor();
  seen.walletUnlockMs = Date.now() - unlocking;
  seen.unlocked = await text(page, '#address');
  const stored = await page.evaluate(() => localStorage.getItem('milk.keys'));
  seen.seedStoredInClear = vectors.some((v) => stored.includes(v.seed));
}

// The page's encoder and signer on the node's own vectors.
async function golden(page) {
  seen.vectors = await page.evaluate(async (vs) => {
    const wire = await import('/assets/wire.js');
    const out = [];
    for (const v of vs) {
      const seed = wire.unhex(v.seed);
      const tx = { ...v.tx, action: { ...v.tx.action } };
      if (tx.action.amount !== undefined) tx.action.amount = BigInt(tx.action.amount);
      if (tx.action.max_fee !== undefined) tx.action.max_fee = BigInt(tx.action.max_fee);
      const signed = await wire.signTx(tx, seed);
      const address = wire.encodeAddress(await wire.publicKey(seed));
      out.push({ address, ...signed });
    }
    return out;
  }, vectors);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'milk-chromium-'));
const browser = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.MILK_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: PHONE,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const errors = [];
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => errors.push(e.message));
  await anonymous(page);
  await explorer(page);
  await importAlice(page);
  await sendGift(page);
  await sellPoints(page);
  await membership(page);
  await history(page);
  await cashOut(page);
  await consoles(page);
  await freshKey(page);
  await golden(page);
  seen.pageErrors = errors;
  console.log(JSON.stringify(seen));
} catch (e) {
  // What the page showed when a step failed, for the test's report.
  const page = browser.pages().at(-1);
  if (page) {
    console.error('the page at', page.url(), 'showed:\n', await page.locator('main').innerText().catch(() => '?'));
    console.error('its script errors:', JSON.stringify(errors));
    await shot(page, 'failure').catch(() => {});
  }
  throw e;
} finally {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
