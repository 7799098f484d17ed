// The inspector page: renders H, n, C, S and the receipts from /inspector/events (Server-Sent
// Events), flashes the cells that changed, and (when the server allows writes) sends events
// through the POST endpoints. Plain browser JavaScript, no build step, no dependencies.

/* global URLSearchParams, FormData */

const $ = (id) => document.getElementById(id);

let state = null; // last rendered state
let receipts = []; // newest first
let source = null;
let pendingRequest = null; // request id of the last deletion sent from this page
let selection = readSelection();

// ------------------------------------------------------------------ selection (large catalogues)

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
  return { items: list('items'), users: list('users') };
}

function selectionQuery() {
  const p = new URLSearchParams();
  if (selection.items) p.set('items', selection.items.join(','));
  if (selection.users) p.set('users', selection.users.join(','));
  const q = p.toString();
  return q ? `?${q}` : '';
}

function setSelection(next) {
  selection = next;
  const q = selectionQuery().slice(1);
  history.replaceState(null, '', q ? `#${q}` : location.pathname);
  connect();
}

// ------------------------------------------------------------------ rendering helpers

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** C / (ni + nj − C) as a reduced fraction. */
function fraction(c, ni, nj) {
  const den = ni + nj - c;
  if (c === 0 || den === 0) return '0';
  const g = gcd(c, den);
  return den / g === 1 ? `${c / g}` : `${c / g}/${den / g}`;
}

/** Previous value of a cell, keyed by matrix and ids (not positions: rows come and go). */
function previous(matrix, row, col) {
  if (!state) return undefined;
  const r = matrix === 'n' ? 0 : (matrix === 'H' ? state.users : state.items).indexOf(row);
  const c = state.items.indexOf(col);
  if (r < 0 || c < 0) return undefined;
  return matrix === 'n' ? state.n[c] : state[matrix][r][c];
}

function cell(matrix, rowId, colId, r, c, value, extra = {}) {
  const prev = previous(matrix, rowId, colId);
  const changed = state !== null && prev !== value;
  const td = el('td', {
    'data-row': rowId,
    'data-col': colId,
    'data-r': r,
    'data-c': c,
    'data-value': value === null ? '' : value,
    ...extra,
  });
  if (changed) td.classList.add('flash');
  return td;
}

function header(items, corner = '') {
  return el(
    'thead',
    {},
    el('tr', {}, el('th', { text: corner }), ...items.map((i) => el('th', { scope: 'col', text: i }))),
  );
}

// ------------------------------------------------------------------ the four matrices

function renderH(s) {
  const t = $('H');
  const body = el('tbody');
  s.users.forEach((u, r) => {
    const tr = el('tr', { 'data-user': u }, el('th', { scope: 'row', text: u }));
    s.items.forEach((i, c) => {
      const v = s.H[r][c];
      const td = cell('H', u, i, r, c, v, { class: v ? 'one' : 'zero', text: String(v) });
      if (s.writes) {
        td.classList.add('toggle');
        td.title = v ? `Remove ${i} from ${u}` : `Add ${i} to ${u}`;
        td.addEventListener('click', () =>
          send('/inspector/interactions', { userId: u, itemId: i, action: v ? 'REMOVE' : 'ADD' }),
        );
      }
      tr.append(td);
    });
    if (s.writes) {
      tr.append(
        el(
          'td',
          { class: 'rowaction' },
          el('button', {
            class: 'small',
            type: 'button',
            'data-forget': u,
            'aria-label': `Forget ${u}`,
            text: 'Forget',
            onclick: () => forget(u),
          }),
        ),
      );
    }
    body.append(tr);
  });
  t.replaceChildren(header(s.items, 'user \\ item'), body);
  if (s.users.length === 0) t.replaceChildren(el('caption', { text: 'No interactions yet.' }));
}

function renderN(s) {
  const tr = el('tr', {}, el('th', { scope: 'row', text: 'n' }));
  s.items.forEach((i, c) => {
    const v = s.n[c];
    tr.append(cell('n', 'n', i, 0, c, v, { class: v ? '' : 'zero', text: String(v) }));
  });
  $('n').replaceChildren(header(s.items), el('tbody', {}, tr));
}

function renderPair(s, matrix) {
  const body = el('tbody');
  s.items.forEach((a, r) => {
    const tr = el('tr', {}, el('th', { scope: 'row', text: a }));
    s.items.forEach((b, c) => {
      const v = s[matrix][r][c];
      let td;
      if (v === null) td = cell(matrix, a, b, r, c, v, { class: 'diag', text: '·' });
      else if (matrix === 'C') td = cell(matrix, a, b, r, c, v, { class: v ? '' : 'zero', text: String(v) });
      else {
        const frac = fraction(s.C[r][c], s.n[r], s.n[c]);
        td = cell(matrix, a, b, r, c, v, {
          class: v ? 'sim' : 'sim zero',
          title: `S(${a}, ${b}) = ${frac}`,
          'data-fraction': frac,
        });
        td.style.setProperty('--v', String(v));
        td.append(v ? v.toFixed(2) : '0');
        if (v && v !== 1) td.append(el('small', { text: frac }));
      }
      tr.append(td);
    });
    body.append(tr);
  });
  $(matrix).replaceChildren(header(s.items), body);
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
  for (const r of list) if (!seen.has(key(r))) receipts.push(r);
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
  renderH(s);
  renderN(s);
  renderPair(s, 'C');
  renderPair(s, 'S');
  addReceipts(s.receipts ?? []);
  $('totals').textContent =
    `${s.totals.users} user${s.totals.users === 1 ? '' : 's'} · ${s.totals.items} item${s.totals.items === 1 ? '' : 's'}`;
  $('ready').textContent = s.ready ? '' : 'The service is still catching up with its input topics…';
  const sel = $('selection');
  const explicit = Boolean(selection.items || selection.users);
  sel.hidden = !s.large && !explicit;
  $('selection-summary').textContent =
    `Showing ${s.items.length} of ${s.totals.items} items and ${s.users.length} of ${s.totals.users} users` +
    (explicit ? ' (your selection).' : ' (the most popular items and their heaviest users).');
  $('dl-users').replaceChildren(...s.users.map((u) => el('option', { value: u })));
  $('dl-items').replaceChildren(...s.items.map((i) => el('option', { value: i })));
  state = s;
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
    const r = await fetch(`/inspector/state?q=${encodeURIComponent(q)}`, { cache: 'no-store' });
    const { matches } = await r.json();
    const chip = (kind, id) =>
      el('button', {
        type: 'button',
        text: `+ ${kind} ${id}`,
        onclick: () => {
          const cur = state
            ? { items: selection.items ?? state.items, users: selection.users ?? state.users }
            : {};
          const list = [...(cur[kind === 'item' ? 'items' : 'users'] ?? [])];
          if (!list.includes(id)) list.push(id);
          setSelection({ ...cur, [kind === 'item' ? 'items' : 'users']: list.slice(-40) });
        },
      });
    const chips = [
      ...matches.items.map((i) => chip('item', i)),
      ...matches.users.map((u) => chip('user', u)),
    ];
    $('matches').replaceChildren(
      ...(chips.length ? chips : [el('span', { class: 'empty', text: 'No matches.' })]),
    );
  });
  $('reset-selection').addEventListener('click', () => {
    $('matches').replaceChildren();
    setSelection({ items: undefined, users: undefined });
  });
}

wireForms();
connect();
