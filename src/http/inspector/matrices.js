// The inspector's four matrices as tables: H (user × item, cells toggle when writes are on), n,
// C and S (with the fraction of the measure). A cell whose value differs from the previous state flashes.

/* global document */

export const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ rendering helpers

export function el(tag, attrs = {}, ...children) {
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

/** Jaccard C / (ni + nj − C) as a reduced fraction; cosine C / √(ni·nj), the root reduced to an integer when exact. */
function fraction(c, ni, nj, measure) {
  if (measure === 'cosine') {
    if (c === 0) return '0';
    const p = ni * nj;
    const r = Math.round(Math.sqrt(p));
    if (r * r !== p) return `${c}/√${p}`;
    const g = gcd(c, r);
    return r / g === 1 ? `${c / g}` : `${c / g}/${r / g}`;
  }
  const den = ni + nj - c;
  if (c === 0 || den === 0) return '0';
  const g = gcd(c, den);
  return den / g === 1 ? `${c / g}` : `${c / g}/${den / g}`;
}

/** Previous value of a cell, keyed by matrix and ids (not positions: rows come and go). */
function previous(state, matrix, row, col) {
  if (!state) return undefined;
  const r = matrix === 'n' ? 0 : (matrix === 'H' ? state.users : state.items).indexOf(row);
  const c = state.items.indexOf(col);
  if (r < 0 || c < 0) return undefined;
  return matrix === 'n' ? state.n[c] : state[matrix][r][c];
}

function cell(prevState, matrix, rowId, colId, r, c, value, extra = {}) {
  const prev = previous(prevState, matrix, rowId, colId);
  const changed = prevState !== null && prev !== value;
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

function renderH(s, prev, actions) {
  const t = $('H');
  const body = el('tbody');
  s.users.forEach((u, r) => {
    const tr = el('tr', { 'data-user': u }, el('th', { scope: 'row', text: u }));
    s.items.forEach((i, c) => {
      const v = s.H[r][c];
      const td = cell(prev, 'H', u, i, r, c, v, { class: v ? 'one' : 'zero', text: String(v) });
      if (s.writes) {
        td.classList.add('toggle');
        td.title = v ? `Remove ${i} from ${u}` : `Add ${i} to ${u}`;
        td.addEventListener('click', () => actions.toggle(u, i, v === 1));
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
            onclick: () => actions.forget(u),
          }),
        ),
      );
    }
    body.append(tr);
  });
  t.replaceChildren(header(s.items, 'user \\ item'), body);
  if (s.users.length === 0) t.replaceChildren(el('caption', { text: 'No interactions yet.' }));
}

function renderN(s, prev) {
  const tr = el('tr', {}, el('th', { scope: 'row', text: 'n' }));
  s.items.forEach((i, c) => {
    const v = s.n[c];
    tr.append(cell(prev, 'n', 'n', i, 0, c, v, { class: v ? '' : 'zero', text: String(v) }));
  });
  $('n').replaceChildren(header(s.items), el('tbody', {}, tr));
}

function renderPair(s, prev, matrix) {
  const body = el('tbody');
  s.items.forEach((a, r) => {
    const tr = el('tr', {}, el('th', { scope: 'row', text: a }));
    s.items.forEach((b, c) => {
      const v = s[matrix][r][c];
      let td;
      if (v === null) td = cell(prev, matrix, a, b, r, c, v, { class: 'diag', text: '·' });
      else if (matrix === 'C')
        td = cell(prev, matrix, a, b, r, c, v, { class: v ? '' : 'zero', text: String(v) });
      else {
        const frac = fraction(s.C[r][c], s.n[r], s.n[c], s.measure);
        td = cell(prev, matrix, a, b, r, c, v, {
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

/** Renders H, n, C and S of state `s`; `prev` is the state shown before (null: first render). */
export function renderMatrices(s, prev, actions) {
  const cosine = s.measure === 'cosine';
  $('formula-jaccard').hidden = cosine;
  $('formula-cosine').hidden = !cosine;
  $('s-measure').textContent = cosine ? 'cosine similarity' : 'Jaccard similarity';
  renderH(s, prev, actions);
  renderN(s, prev);
  renderPair(s, prev, 'C');
  renderPair(s, prev, 'S');
}
