// The inspector's "What the forget changed" panel: for a forget still kept by the service (the
// query API's GET /forgets…), the items whose neighbour lists changed — each list after the forget,
// its neighbours marked as come in, moved (with the rank and score before) or unchanged, and those
// that dropped out — and, for a chosen remaining user, the recommendations with the lists before
// and after. Nothing here names the forgotten user: forgets are known by their request id.

/* global URLSearchParams */

import { $, el } from './matrices.js';

let chosen = null; // request id shown
// The remaining user whose recommendations are shown: `#recs=<user>` in the address (the demo's
// link names Homer), else the first user shown.
let user = new URLSearchParams(location.hash.slice(1)).get('recs');
let users = [];
let effect = null;

const fmt = (x) => x.toFixed(2);

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

function show(on) {
  $('effect').hidden = !on;
  $('no-effect').hidden = on;
}

/** Reads the forgets kept; shows the chosen one (or the newest). Call when a receipt arrives. */
export async function refreshEffects() {
  let forgets;
  try {
    ({ forgets } = await getJson('/forgets'));
  } catch {
    return show(false); // not live yet, or no query API: the panel waits
  }
  if (forgets.length === 0) return show(false);
  const ids = forgets.map((f) => f.requestIds[0]);
  if (!ids.includes(chosen)) chosen = ids[0];
  $('effect-request').replaceChildren(
    ...forgets.map((f) =>
      el('option', {
        value: f.requestIds[0],
        selected: f.requestIds[0] === chosen,
        text: `${new Date(f.completedAt).toLocaleTimeString()} · ${f.itemsChanged} list${f.itemsChanged === 1 ? '' : 's'} changed · ${f.requestIds.join(', ')}`,
      }),
    ),
  );
  await showEffect();
}

/** The users the page shows (the recommendations are for one of them). */
export function setUsers(list) {
  const same = list.length === users.length && list.every((u, i) => u === users[i]);
  users = list;
  if (!users.includes(user)) user = users[0] ?? null;
  if (!same)
    $('effect-user').replaceChildren(
      ...users.map((u) => el('option', { value: u, selected: u === user, text: u })),
    );
  if (effect) void showRecs();
}

async function showEffect() {
  try {
    effect = await getJson(`/forgets/${encodeURIComponent(chosen)}`);
  } catch {
    effect = null;
    return show(false);
  }
  show(true);
  $('effect-count').textContent = `${effect.items.length} item${effect.items.length === 1 ? '' : 's'}`;
  $('effect-items').replaceChildren(...effect.items.map(itemRow));
  if (effect.items.length === 0)
    $('effect-items').append(el('li', { class: 'empty', text: 'No neighbour list changed.' }));
  await showRecs();
}

function chip(itemId, change, text, title) {
  return el('span', { class: `nb ${change}`, 'data-neighbor': itemId, 'data-change': change, title }, text);
}

function itemRow(i) {
  const moved = new Map(i.moved.map((m) => [m.itemId, m]));
  const added = new Set(i.added.map((a) => a.itemId));
  const after =
    i.after === null
      ? [el('span', { class: 'gone', text: 'list gone: no interactions left' })]
      : i.after.map((nb, p) => {
          if (added.has(nb.itemId))
            return chip(nb.itemId, 'added', `+ ${nb.itemId} ${fmt(nb.similarity)}`, 'came in');
          const m = moved.get(nb.itemId);
          if (!m) return chip(nb.itemId, 'same', `${nb.itemId} ${fmt(nb.similarity)}`, 'unchanged');
          const arrow = m.rankAfter < m.rankBefore ? '↑' : m.rankAfter > m.rankBefore ? '↓' : '';
          return chip(
            nb.itemId,
            'moved',
            `${arrow}${nb.itemId} ${fmt(m.similarityBefore)}→${fmt(nb.similarity)}`,
            `rank ${m.rankBefore} → ${p + 1}`,
          );
        });
  const dropped = i.dropped.map((d) =>
    chip(d.itemId, 'dropped', `${d.itemId} ${fmt(d.similarity)}`, `dropped out (was rank ${d.rank})`),
  );
  return el(
    'li',
    { 'data-item': i.itemId },
    el('b', { class: 'item', text: i.itemId }),
    el('span', { class: 'nbs' }, ...after, ...dropped),
  );
}

async function showRecs() {
  const title = $('effect-recs-title');
  if (!effect || user === null) {
    title.textContent = 'Recommendations';
    return;
  }
  let r;
  try {
    r = await getJson(
      `/forgets/${encodeURIComponent(effect.requestId)}/users/${encodeURIComponent(user)}/recommendations?k=5`,
    );
  } catch {
    return;
  }
  title.textContent = `Recommendations for ${user}`;
  const rankBefore = new Map(r.before.map((x, p) => [x.itemId, p]));
  const list = (recs, side) =>
    recs.length === 0
      ? [el('li', { class: 'empty', text: 'none' })]
      : recs.map((x, p) => {
          const was = rankBefore.get(x.itemId);
          const mark =
            side === 'after' && (was === undefined ? 'new' : was > p ? 'up' : was < p ? 'down' : '');
          return el(
            'li',
            { 'data-item': x.itemId, 'data-score': x.score, class: mark || undefined },
            el('span', { text: x.itemId }),
            el('span', { class: 'score', text: fmt(x.score) }),
          );
        });
  $('recs-before').replaceChildren(...list(r.before, 'before'));
  $('recs-after').replaceChildren(...list(r.after, 'after'));
}

export function wireEffects() {
  $('effect-request').addEventListener('change', (e) => {
    chosen = e.target.value;
    void showEffect();
  });
  $('effect-user').addEventListener('change', (e) => {
    user = e.target.value;
    void showRecs();
  });
}
