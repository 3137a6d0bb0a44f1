/** The single page: catalogue, sign-up, race lab. Scripts and styles are same-origin files (strict CSP). */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>racefree bookstore</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/styles.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>racefree bookstore</h1>
  <p>Every race from the Django articles, live: lost updates, oversells, duplicate sign-ups and jobs that run before their data exists — and the fixes.</p>
</header>
<main>
  <section aria-labelledby="you-title">
    <h2 id="you-title">Sign up</h2>
    <form id="signup">
      <label>Email <input name="email" type="email" required autocomplete="email"></label>
      <label>Name <input name="name" required autocomplete="name"></label>
      <button type="submit">Sign up</button>
    </form>
    <p id="who" aria-live="polite">Not signed up yet: sign up to buy books.</p>
    <p id="mail" aria-live="polite"></p>
  </section>

  <section aria-labelledby="catalogue-title">
    <h2 id="catalogue-title">Catalogue</h2>
    <label>Purchase strategy
      <select id="strategy">
        <option value="atomic">atomic — conditional UPDATE (F())</option>
        <option value="lock">lock — SELECT … FOR UPDATE</option>
        <option value="naive">naive — read, then write (loses updates)</option>
      </select>
    </label>
    <table>
      <thead><tr><th scope="col">Title</th><th scope="col">ISBN</th><th scope="col">Price</th><th scope="col">In stock</th><th scope="col">Tags</th><th scope="col"><span class="visually-hidden">Buy</span></th></tr></thead>
      <tbody id="books"><tr><td colspan="6">Loading…</td></tr></tbody>
    </table>
    <p id="buy-status" aria-live="polite"></p>
    <form id="tagging">
      <label>Book <select id="tag-book" required></select></label>
      <label>Tags, comma-separated <input id="tag-names" required placeholder="databases, sql"></label>
      <button type="submit">Tag</button>
    </form>
    <p id="tag-status" aria-live="polite"></p>
  </section>

  <section aria-labelledby="lab-title">
    <h2 id="lab-title">Race lab</h2>
    <p id="database" aria-live="polite">Asking the database what it is…</p>
    <p>Each race sends its clients at once — every client on its own connection, in its own transaction, released together on a barrier — once per strategy, then counts what went wrong. The safe strategies always count 0 anomalies.</p>
    <button type="button" id="run-all" data-lab-run="all" disabled>Run every race</button>
    <div id="lab-races"></div>
  </section>
</main>
</body>
</html>
`;
