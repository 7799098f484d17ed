// The inspector page: renders H, n, C, S and the receipts from /inspector/events (Server-Sent
// Events), flashes the cells that changed, and (when the server allows writes) sends events
// through the POST endpoints. Plain browser JavaScript, no build step, no dependencies.

/* global URLSearchParams, FormData */

import { refreshEffects, setUsers, wireEffects } from './effect.js';
import { $, el, renderMatrices } from './matrices.js';

let state = null; // last rendered state
let receipts = []; // newest first
let source = null;
let pendingRequest = null; // request id of the last deletion sent from this page
let selection = readSelection();

// ------------------------------------------------------------------ selection (large catalogues)

// What the page shows, kept in the URL hash: explicit `items`/`users` lists, or pages of users (and
// items) from a cursor. The server pages in O(page): a cursor is a position, not a row number.
function readSelection() {
  const p = new URLSearchParams(location.hash.slice(1));
  const list = (k) =>
    p.has(k)
      ? p
          .get(k)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const cursor = (k) => (/^\d+$/.test(p.get(k) ?? '') ? Number(p.get(k)) : undefined);
  return {
    items: list('items'),
    users: list('users'),
    userCursor: cursor('userCursor'),
    itemCursor: cursor('itemCursor'),
  };
}

function selectionQuery() {
  const p = new URLSearchParams();
  if (selection.items) p.set('items', selection.items.join(','));
  if (selection.users) p.set('users', selection.users.join(','));
  if (selection.userCursor !== undefined) p.set('userCursor', String(selection.userCursor));
  if (selection.itemCursor !== undefined) p.set('itemCursor', String(selection.itemCursor));
  const q = p.toString();
  return q ? `?${q}` : '';
}

function setSelection(next) {
  selection = next;
  const q = selectionQuery().slice(1);
  history.replaceState(null, '', q ? `#${q}` : location.pathname);
  connect();
}

// ------------------------------------------------------------------ receipts

function addReceipts(list) {
  const mine = list.find((r) => r.requestId === pendingRequest);
  if (mine) {
    pendingRequest = null;
    feedback(`Receipt ${mine.status}: ${mine.interactionsRemoved} interactions removed.`);
  }
  const key = (r) => `${r.requestId} ${r.status}`;
  const seen = new Set(receipts.map(key));
  const fresh = list.filter((r) => !seen.has(key(r)));
  receipts.push(...fresh);
  // A new forget: what it changed is kept by the service (the query API's /forgets).
  if (fresh.some((r) => r.status === 'FORGOTTEN')) void refreshEffects();
  receipts.sort((a, b) => b.completedAt - a.completedAt);
  receipts = receipts.slice(0, 20);
  renderReceipts();
}

function renderReceipts() {
  $('receipts').replaceChildren(
    ...receipts.map((r) =>
      el(
        'li',
        { 'data-status': r.status, 'data-request-id': r.requestId },
        el('span', { class: 'badge', text: r.status }),
        el('span', { class: 'rid', title: r.requestId, text: r.requestId }),
        el('time', {
          datetime: new Date(r.completedAt).toISOString(),
          text: new Date(r.completedAt).toLocaleTimeString(),
        }),
        el('span', {
          class: 'counts',
          text: `${r.interactionsRemoved} interaction${r.interactionsRemoved === 1 ? '' : 's'} removed · ${r.itemsAffected} item${r.itemsAffected === 1 ? '' : 's'} affected`,
        }),
      ),
    ),
  );
  $('no-receipts').hidden = receipts.length > 0;
}

// ------------------------------------------------------------------ whole page

function render(s) {
  document.body.dataset.writes = String(s.writes);
  $('controls').hidden = !s.writes;
  renderMatrices(s, state, {
    toggle: (userId, itemId, held) =>
      send('/inspector/interactions', { userId, itemId, action: held ? 'REMOVE' : 'ADD' }),
    forget,
  });
  addReceipts(s.receipts ?? []);
  $('totals').textContent =
    `${s.totals.users} user${s.totals.users === 1 ? '' : 's'} · ${s.totals.items} item${s.totals.items === 1 ? '' : 's'}`;
  $('ready').textContent = s.ready ? '' : 'The service is still catching up with its input topics…';
  renderSelection(s);
  $('dl-users').replaceChildren(...s.users.map((u) => el('option', { value: u })));
  setUsers(s.users);
  $('dl-items').replaceChildren(...s.items.map((i) => el('option', { value: i })));
  state = s;
}

function plural(n, word) {
  return `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;
}

function renderSelection(s) {
  const paging = selection.userCursor !== undefined || selection.itemCursor !== undefined;
  const explicit = Boolean(selection.items || selection.users);
  $('selection').hidden = !s.large && !explicit && !paging;
  const users = s.page.users
    ? s.page.users.cursor === 0
      ? 'the first users'
      : 'a further page of users'
    : 'your users';
  const items = s.page.items
    ? 'a page of items'
    : selection.items
      ? 'your items'
      : 'the items they hold most';
  $('selection-summary').textContent =
    `Showing ${plural(s.users.length, 'user')} of ${s.totals.users.toLocaleString('en')} and ` +
    `${plural(s.items.length, 'item')} of ${s.totals.items.toLocaleString('en')}: ${users}, ${items}.`;
  const next = (side) => s.page[side]?.next ?? null;
  $('users-next').disabled = next('users') === null;
  $('users-first').disabled = !s.page.users || s.page.users.cursor === 0;
  $('items-next').disabled = s.page.items !== null && next('items') === null;
  $('items-next').textContent = s.page.items ? 'Next items ›' : 'Page through items ›';
}

function pageUsers(cursor) {
  setSelection({ ...selection, users: undefined, userCursor: cursor });
}

function pageItems() {
  const cursor = state?.page.items ? state.page.items.next : 0;
  if (cursor !== null) setSelection({ ...selection, items: undefined, itemCursor: cursor });
}

// ------------------------------------------------------------------ connection

function setConn(kind, text) {
  const c = $('conn');
  c.dataset.state = kind;
  c.querySelector('b').textContent = text;
}

async function fetchState() {
  try {
    const r = await fetch(`/inspector/state${selectionQuery()}`, { cache: 'no-store' });
    if (r.ok) render(await r.json());
    // Refused (503 NOT_LIVE while the state is rebuilt, 401/403 without access): say why.
    else $('ready').textContent = (await r.json()).error?.message ?? `refused (${r.status})`;
  } catch {
    // the event stream reports the connection state
  }
}

function connect() {
  if (source) source.close();
  setConn('connecting', 'connecting…');
  const es = new EventSource(`/inspector/events${selectionQuery()}`);
  source = es;
  es.addEventListener('open', () => {
    setConn('live', 'live');
    // After a server restart the stream starts over: take the whole state again.
    void fetchState();
  });
  es.addEventListener('state', (e) => render(JSON.parse(e.data)));
  es.addEventListener('receipt', (e) => addReceipts([JSON.parse(e.data)]));
  es.addEventListener('error', () => {
    // EventSource retries by itself (the server asks for 1 s); CLOSED means it gave up.
    if (es.readyState === EventSource.CLOSED) {
      setConn('offline', 'offline');
      void fetchState();
      window.setTimeout(() => source === es && connect(), 2000);
    } else setConn('offline', 'reconnecting…');
  });
}

// ------------------------------------------------------------------ writes

function feedback(text, error = false) {
  const f = $('feedback');
  f.textContent = text;
  f.classList.toggle('error', error);
}

async function send(path, body) {
  try {
    const r = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) {
      feedback(j.error?.message ?? `request failed (${r.status})`, true);
      return undefined;
    }
    feedback(
      j.requestId
        ? `Deletion request sent (${j.requestId.slice(0, 18)}…); waiting for its receipt…`
        : `Sent ${j.events} event${j.events === 1 ? '' : 's'} to Kafka; the matrices update when the service has applied them.`,
    );
    return j;
  } catch {
    feedback('The server cannot be reached.', true);
    return undefined;
  }
}

async function forget(userId) {
  const r = await send('/inspector/forget', { userId });
  if (r?.requestId) pendingRequest = r.requestId;
  return r;
}

function wireForms() {
  $('f-interaction').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    void send('/inspector/interactions', {
      userId: f.get('userId').trim(),
      itemId: f.get('itemId').trim(),
      action: e.submitter?.value === 'REMOVE' ? 'REMOVE' : 'ADD',
    });
  });
  $('f-user').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const items = f
      .get('items')
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    void send('/inspector/users', { userId: f.get('userId').trim(), items }).then(
      (ok) => ok && e.target.reset(),
    );
  });
  $('f-forget').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    void forget(f.get('userId').trim()).then((ok) => ok && e.target.reset());
  });
  $('search-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = $('search').value.trim();
    if (!q) return;
    const r = await fetch(`/inspector/state?limit=1&q=${encodeURIComponent(q)}`, { cache: 'no-store' });
    const { matches } = await r.json();
    const chip = (kind, id) =>
      el('button', {
        type: 'button',
        text: `+ ${kind} ${id}`,
        onclick: () => {
          // Adding an id pins both sides to explicit lists (the ids shown now, plus this one).
          const key = kind === 'item' ? 'items' : 'users';
          const cur = state
            ? { items: selection.items ?? state.items, users: selection.users ?? state.users }
            : {};
          const list = [...(cur[key] ?? [])];
          if (!list.includes(id)) list.push(id);
          setSelection({ ...cur, [key]: list.slice(-40) });
        },
      });
    const chips = [
      ...matches.items.map((i) => chip('item', i)),
      ...matches.users.map((u) => chip('user', u)),
    ];
    $('matches').replaceChildren(
      ...(chips.length
        ? chips
        : [el('span', { class: 'empty', text: 'No user or item has exactly this id.' })]),
    );
  });
  $('users-next').addEventListener('click', () => {
    const next = state?.page.users?.next;
    if (next !== null && next !== undefined) pageUsers(next);
  });
  $('users-first').addEventListener('click', () => pageUsers(0));
  $('items-next').addEventListener('click', pageItems);
  $('reset-selection').addEventListener('click', () => {
    $('matches').replaceChildren();
    setSelection({});
  });
}

wireForms();
wireEffects();
connect();
