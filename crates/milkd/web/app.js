// The pages' frame: routing by the URL's hash, the search box and the credential field.

import * as consoles from './consoles.js';
import * as explorer from './explorer.js';
import { el, errorBox, loadAssets, session } from './ui.js';
import * as wallet from './wallet.js';

const main = () => document.getElementById('main');

// Routes: #/ (overview), #/chain/ID, #/block/ID/H, #/tx/ID/TX, #/account/ADDR, #/wallet…
const routes = [
  [/^#?\/?$/, () => explorer.overview()],
  [/^#\/chain\/([\w-]+)$/, (m) => explorer.chain(m[1])],
  [/^#\/block\/([\w-]+)\/(\d+)$/, (m) => explorer.block(m[1], m[2])],
  [/^#\/tx\/([\w-]+)\/([0-9a-f]{64})$/, (m) => explorer.tx(m[1], m[2])],
  [/^#\/account\/(milk1\w+)$/, (m) => explorer.account(m[1])],
  [/^#\/market\/([A-Z0-9]+)$/, (m) => explorer.market(m[1])],
  [/^#\/search\/(.+)$/, (m) => explorer.search(decodeURIComponent(m[1]))],
  [/^#\/consoles$/, () => consoles.index()],
  [/^#\/partner\/([\w-]+)$/, (m) => consoles.partner(m[1])],
  [/^#\/operator$/, () => consoles.operator()],
  [/^#\/wallet$/, () => wallet.home()],
  [/^#\/wallet\/add$/, () => wallet.add()],
  [/^#\/wallet\/send$/, () => wallet.send()],
  [/^#\/wallet\/trade$/, () => wallet.trade()],
  [/^#\/wallet\/member$/, () => wallet.member()],
  [/^#\/wallet\/history$/, () => wallet.history()],
  [/^#\/wallet\/cashout$/, () => wallet.cashOut()],
];

let generation = 0;

// Renders the page the hash names; a page started earlier and finishing later is dropped.
export async function render() {
  const mine = ++generation;
  explorer.stopLive();
  const hash = location.hash || '#/';
  const route = routes.find(([re]) => re.test(hash));
  const target = main();
  target.replaceChildren(el('p.muted', 'Loading…'));
  try {
    await loadAssets(); // a partner admitted since the last page brings a new token
    const page = route ? await route[1](hash.match(route[0])) : el('p.error', 'No such page.');
    if (mine === generation) target.replaceChildren(page);
  } catch (e) {
    if (mine === generation) target.replaceChildren(errorBox(e));
  }
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('here', hash.startsWith(a.getAttribute('href')) && a.getAttribute('href') !== '#/' || hash === a.getAttribute('href')));
}

function setupHeader() {
  const form = document.getElementById('search');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = form.querySelector('input').value.trim();
    if (q) location.hash = '#/search/' + encodeURIComponent(q);
  });
  const cred = document.getElementById('credential');
  cred.value = session.credential;
  cred.addEventListener('change', () => {
    session.credential = cred.value.trim();
    sessionStorage.setItem('milk.credential', session.credential);
    render();
  });
}

window.addEventListener('hashchange', render);
setupHeader();
render();
