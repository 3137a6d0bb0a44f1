/**
 * The page's script (served as /app.js so the CSP can forbid inline scripts). It builds DOM
 * nodes with textContent only: nothing from the server is ever parsed as HTML.
 */
export const APP_JS = `'use strict';
const $ = (id) => document.getElementById(id);
const state = { customer: JSON.parse(localStorage.getItem('racefree.customer') || 'null') };

async function api(method, path, body, headers) {
  const response = await fetch(path, {
    method,
    headers: Object.assign(body ? { 'content-type': 'application/json' } : {}, headers),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.error || data.title || response.statusText), {
    status: response.status, retryAfter: Number(response.headers.get('retry-after')) || 0 });
  return data;
}

const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now() + '-' + Math.random().toString(36).slice(2));

// A purchase or sign-up the server may have done although its answer was lost: sent again with
// the same Idempotency-Key, it runs at most once and the retry gets the first answer. Retried on
// a lost answer and on "still running" (409 with Retry-After) — never on the bookstore's own
// 409 (sold out), which has no Retry-After.
async function keyedPost(path, body) {
  const key = newKey();
  for (let attempt = 1; ; attempt++) {
    try {
      return await api('POST', path, body, { 'idempotency-key': key });
    } catch (error) {
      const retryable = error.status === undefined || (error.status === 409 && error.retryAfter > 0);
      if (!retryable || attempt === 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, (error.retryAfter || 0.5) * 1000));
    }
  }
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

async function loadBooks() {
  const books = await api('GET', '/api/books');
  const body = $('books');
  body.replaceChildren(...books.filter((b) => !b.title.startsWith('Race lab')).map((book) => {
    const row = el('tr', undefined, { 'data-isbn': book.isbn });
    const tags = el('td', undefined, { class: 'tags' });
    tags.append(...book.tags.map((name) => el('span', name, { class: 'tag' })));
    row.append(el('td', book.title), el('td', book.isbn), el('td', book.price.toFixed(2), { class: 'num' }),
      el('td', book.quantity, { class: 'num stock' }), tags);
    const cell = el('td');
    const button = el('button', 'Buy', { type: 'button', 'aria-label': 'Buy ' + book.title });
    button.disabled = !state.customer || book.quantity === 0;
    button.addEventListener('click', () => buy(book));
    cell.append(button);
    row.append(cell);
    return row;
  }));
  showTagChoices(books.filter((b) => !b.title.startsWith('Race lab')));
}

function showTagChoices(books) {
  const select = $('tag-book');
  const ids = books.map((book) => String(book.id));
  // Rebuilt only when the catalogue changes: the 2-second refresh keeps the reader's choice.
  if (select.getAttribute('data-ids') === ids.join(',')) return;
  const chosen = select.value;
  select.replaceChildren(...books.map((book) => el('option', book.title, { value: String(book.id) })));
  select.setAttribute('data-ids', ids.join(','));
  if (ids.includes(chosen)) select.value = chosen;
}

$('tagging').addEventListener('submit', async (event) => {
  event.preventDefault();
  const select = $('tag-book');
  const title = select.selectedOptions[0] ? select.selectedOptions[0].textContent : '';
  const tags = $('tag-names').value.split(',').map((name) => name.trim()).filter(Boolean);
  try {
    const result = await api('POST', '/api/books/' + select.value + '/tags', { tags });
    $('tag-status').textContent = result.linked.length
      ? 'Tagged "' + title + '" with ' + result.linked.join(', ') + (result.created.length ? ' (new tags: ' + result.created.join(', ') + ').' : '.')
      : '"' + title + '" already had ' + tags.join(', ') + ': nothing changed.';
    $('tag-names').value = '';
  } catch (error) {
    $('tag-status').textContent = 'Tagging failed: ' + error.message;
  }
  await loadBooks();
});

async function buy(book) {
  const strategy = $('strategy').value;
  try {
    const { order } = await keyedPost('/api/books/' + book.id + '/purchase', { customerId: state.customer.id, strategy });
    $('buy-status').textContent = 'Bought "' + book.title + '" (order ' + order.orderId + ', strategy ' + strategy + ').';
  } catch (error) {
    $('buy-status').textContent = error.status === 409 ? '"' + book.title + '" is sold out.' : 'Purchase failed: ' + error.message;
  }
  await loadBooks();
}

function showCustomer() {
  $('who').textContent = state.customer
    ? 'Signed up as ' + state.customer.name + ' <' + state.customer.email + '> (customer ' + state.customer.id + ').'
    : 'Not signed up yet: sign up to buy books.';
}

async function pollMail() {
  if (!state.customer) return;
  try {
    const { emails } = await api('GET', '/api/customers/' + state.customer.id + '/emails');
    const welcome = emails.find((e) => e.kind === 'welcome');
    $('mail').textContent = welcome
      ? 'Welcome email sent by the worker at ' + new Date(welcome.sentAt).toLocaleTimeString() + '.'
      : 'Welcome email queued: waiting for the worker…';
  } catch (error) {
    if (error.status === 404) { state.customer = null; localStorage.removeItem('racefree.customer'); showCustomer(); }
  }
}

$('signup').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const { customer, created } = await keyedPost('/api/customers', { email: form.get('email'), name: form.get('name') });
    state.customer = customer;
    localStorage.setItem('racefree.customer', JSON.stringify(customer));
    showCustomer();
    $('who').textContent += created ? ' Welcome!' : ' (You already had an account: no second welcome email.)';
    await Promise.all([loadBooks(), pollMail()]);
  } catch (error) {
    $('who').textContent = 'Sign-up failed: ' + error.message;
  }
});

const lab = { running: false, races: [] };

function setRunning(running) {
  lab.running = running;
  for (const button of document.querySelectorAll('button[data-lab-run]')) button.disabled = running || button.hasAttribute('data-unavailable');
}

function strategyCard(race, strategy) {
  const card = el('article', undefined, { class: 'lab-card', 'data-strategy': strategy, 'data-state': 'idle' });
  const safe = race.safe.includes(strategy);
  card.append(el('h4', strategy), el('p', safe ? 'safe strategy' : 'the bug, on purpose', { class: 'kind' }),
    el('p', 'Not run yet.', { class: 'verdict' }));
  return card;
}

function showResult(card, result) {
  const ok = result.completed && result.anomalies === 0;
  card.className = 'lab-card ' + (ok ? 'ok' : 'bad');
  card.setAttribute('data-state', result.completed ? 'done' : 'failed');
  card.setAttribute('data-anomalies', String(result.anomalies));
  const list = el('dl');
  list.append(el('dt', 'anomalies'), el('dd', result.anomalies, { 'data-field': 'anomalies' }));
  for (const [label, value] of Object.entries(result.counts)) {
    list.append(el('dt', label), el('dd', value, { 'data-field': label.replaceAll(' ', '-') }));
  }
  list.append(el('dt', 'time'), el('dd', result.elapsedMs + ' ms'));
  const verdict = el('p', result.summary, { class: 'verdict' });
  const parts = [card.querySelector('h4'), card.querySelector('.kind'), verdict, list];
  if (result.errors && result.errors.length) parts.push(el('p', 'Errors seen: ' + result.errors.join(' | '), { class: 'errors' }));
  card.replaceChildren(...parts);
}

async function runRace(race, group) {
  const clients = Number(group.querySelector('input[name="clients"]').value);
  const progress = group.querySelector('.progress');
  const cards = [...group.querySelectorAll('.lab-card')];
  group.setAttribute('data-done', 'false');
  for (const card of cards) { card.className = 'lab-card'; card.setAttribute('data-state', 'queued'); card.querySelector('.verdict').textContent = 'Queued.'; }
  group.querySelector('.lab-grid').scrollIntoView({ behavior: 'smooth', block: 'center' });
  let done = 0;
  for (const card of cards) {
    const strategy = card.getAttribute('data-strategy');
    progress.textContent = 'Racing ' + strategy + ' with ' + clients + ' clients… (' + done + ' of ' + cards.length + ' strategies done)';
    card.setAttribute('data-state', 'running');
    card.querySelector('.verdict').textContent = 'Racing…';
    try {
      showResult(card, await api('POST', '/api/lab/' + race.race, { strategy, clients }));
    } catch (error) {
      card.className = 'lab-card bad';
      card.setAttribute('data-state', 'failed');
      card.querySelector('.verdict').textContent = strategy + ' failed: ' + error.message;
    }
    done += 1;
  }
  progress.textContent = 'Done: ' + cards.length + ' strategies raced with ' + clients + ' clients each.';
  group.setAttribute('data-done', 'true');
}

async function runRaces(races) {
  if (lab.running) return;
  setRunning(true);
  try {
    for (const race of races) await runRace(race, document.querySelector('[data-race="' + race.race + '"]'));
  } finally {
    setRunning(false);
  }
}

function raceGroup(race) {
  const group = el('article', undefined, { class: 'race', 'data-race': race.race });
  const form = el('form');
  const input = el('input', undefined, { name: 'clients', type: 'number', min: '1', max: '500', value: String(race.defaultClients), required: '' });
  const label = el('label', 'Clients');
  label.append(input);
  const button = el('button', 'Run ' + race.strategies.join(', '), { type: 'submit', 'data-lab-run': race.race });
  if (race.unavailable) { button.setAttribute('data-unavailable', ''); button.disabled = true; }
  form.append(label, button);
  form.addEventListener('submit', (event) => { event.preventDefault(); void runRaces([race]); });
  const grid = el('div', undefined, { class: 'lab-grid', 'aria-live': 'polite' });
  grid.append(...race.strategies.map((strategy) => strategyCard(race, strategy)));
  group.append(el('h3', race.title), el('p', race.description, { class: 'description' }));
  if (race.unavailable) group.append(el('p', 'Not on this database: ' + race.unavailable + '.', { class: 'unavailable' }));
  group.append(form, el('p', '', { class: 'progress', 'aria-live': 'polite' }), grid);
  return group;
}

async function loadLab() {
  try {
    const { database, races } = await api('GET', '/api/lab');
    lab.races = races;
    $('database').textContent = 'Running on ' + database.label + '.';
    $('database').setAttribute('data-kind', database.kind);
    $('lab-races').replaceChildren(...races.map(raceGroup));
    $('run-all').disabled = false;
  } catch (error) {
    $('database').textContent = 'Could not reach the race lab: ' + error.message;
  }
}

$('run-all').addEventListener('click', () => void runRaces(lab.races.filter((race) => !race.unavailable)));

showCustomer();
loadBooks().catch((error) => { $('books').replaceChildren(el('tr', undefined)); $('buy-status').textContent = 'Could not load books: ' + error.message; });
pollMail();
loadLab();
setInterval(() => { loadBooks().catch(() => {}); pollMail(); }, 2000);
`;
