/**
 * The page's script (served as /app.js so the CSP can forbid inline scripts). It builds DOM
 * nodes with textContent only: nothing from the server is ever parsed as HTML.
 */
export const APP_JS = `'use strict';
const $ = (id) => document.getElementById(id);
const state = { customer: JSON.parse(localStorage.getItem('racefree.customer') || 'null') };

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { status: response.status });
  return data;
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
    row.append(el('td', book.title), el('td', book.isbn), el('td', book.price.toFixed(2), { class: 'num' }),
      el('td', book.quantity, { class: 'num stock' }));
    const cell = el('td');
    const button = el('button', 'Buy', { type: 'button', 'aria-label': 'Buy ' + book.title });
    button.disabled = !state.customer || book.quantity === 0;
    button.addEventListener('click', () => buy(book));
    cell.append(button);
    row.append(cell);
    return row;
  }));
}

async function buy(book) {
  const strategy = $('strategy').value;
  try {
    const { order } = await api('POST', '/api/books/' + book.id + '/purchase', { customerId: state.customer.id, strategy });
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
    const { customer, created } = await api('POST', '/api/customers', { email: form.get('email'), name: form.get('name') });
    state.customer = customer;
    localStorage.setItem('racefree.customer', JSON.stringify(customer));
    showCustomer();
    $('who').textContent += created ? ' Welcome!' : ' (You already had an account: no second welcome email.)';
    await Promise.all([loadBooks(), pollMail()]);
  } catch (error) {
    $('who').textContent = 'Sign-up failed: ' + error.message;
  }
});

function labCard(result) {
  const healthy = result.lostUpdates === 0 && result.oversold === 0 && result.failed === 0;
  const card = el('article', undefined, { class: 'lab-card ' + (healthy ? 'ok' : 'bad'), 'data-strategy': result.strategy });
  card.append(el('h3', result.strategy));
  const list = el('dl');
  for (const [label, value] of [['buyers', result.buyers], ['start stock', result.startStock], ['orders written', result.orders],
    ['sold out (409)', result.soldOut], ['expected stock', result.expectedStock], ['actual stock', result.actualStock],
    ['lost updates', result.lostUpdates], ['oversold', result.oversold], ['other failures', result.failed], ['time', result.elapsedMs + ' ms']]) {
    list.append(el('dt', label), el('dd', value, { 'data-field': label.replaceAll(' ', '-') }));
  }
  card.append(list, el('p', healthy ? 'Stock adds up.' : 'Stock does not add up.', { class: 'verdict' }));
  return card;
}

$('lab').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const buyers = Number(form.get('buyers'));
  const stock = Number(form.get('stock'));
  const results = $('lab-results');
  results.replaceChildren(el('p', 'Racing…'));
  const cards = [];
  for (const strategy of ['naive', 'lock', 'atomic']) {
    try {
      cards.push(labCard(await api('POST', '/api/lab/runs', { strategy, buyers, stock })));
    } catch (error) {
      cards.push(el('p', strategy + ' failed: ' + error.message));
    }
    results.replaceChildren(...cards);
  }
  results.setAttribute('data-done', 'true');
});

showCustomer();
loadBooks().catch((error) => { $('books').replaceChildren(el('tr', undefined)); $('buy-status').textContent = 'Could not load books: ' + error.message; });
pollMail();
setInterval(() => { loadBooks().catch(() => {}); pollMail(); }, 2000);
`;
