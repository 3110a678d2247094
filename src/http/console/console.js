// hms-sync web console: plain DOM, no framework, no build step. It reads the same JSON API
// as any client and refreshes the current view every 2 s.
//
// Every value from the API is put into the page as text (textContent / text nodes through
// el() below), never as HTML: legacy rows can hold anything, including markup.

const REFRESH_MS = 2000;
const TOKEN_KEY = 'hms-sync-token';

// ---------------------------------------------------------------------------------- DOM helpers

/** el('td', { class: 'x', title: '…' }, 'text', childNode, …): attributes as attributes, children as text or nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function table(headers, rows, attrs) {
  return el('table', attrs, el('thead', null, el('tr', null, headers.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', null, rows));
}

const n = (value) => (value === null || value === undefined ? '—' : Number(value).toLocaleString('en-US'));

function bytes(value) {
  if (value === null || value === undefined) return '—';
  if (value < 1024) return `${value} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = value / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function seconds(value) {
  if (value === null || value === undefined) return '—';
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 90) return `${value.toFixed(1)} s`;
  if (value < 5400) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

function ago(iso) {
  if (!iso) return '—';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return String(iso);
  return s < 1 ? 'just now' : `${seconds(s)} ago`;
}

/** A JSON value as text, for cells: strings quoted so that "" and null and " x" stay visible. */
const json = (value) => (value === undefined ? '—' : JSON.stringify(value));

function badge(state) {
  return el('span', { class: `badge state-${String(state).replace(/[^a-z-]/g, '')}` }, state);
}

function progressCell(p) {
  if (!p) return '—';
  const pct = p.total ? Math.min(100, Math.floor((p.done / p.total) * 100)) : null;
  const text = [
    `${p.task}${p.phase ? ` (${p.phase})` : ''} ${p.table}: ${n(p.done)}${p.total !== null ? ` / ${n(p.total)}` : ''} rows`,
    p.ratePerS !== null ? `${n(p.ratePerS)} rows/s` : null,
    p.etaS !== null ? `ETA ${seconds(p.etaS)}` : null,
  ].filter(Boolean);
  return el(
    'div',
    { class: 'progress' },
    pct !== null ? el('progress', { max: 100, value: pct }, `${pct}%`) : null,
    el('span', { class: 'progress-text' }, text.join(', ')),
  );
}

// --------------------------------------------------------------------------------- API access

function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  if (token() !== '') headers.set('authorization', `Bearer ${token()}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const text = await response.text();
  let body = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = { error: text };
  }
  return { status: response.status, ok: response.ok, body };
}

/** Mutating calls need the token typed into the field at the top; without it, say so and post nothing. */
function needToken(what) {
  if (token() !== '') return false;
  notice(`Type the token (http.token) in the field at the top first: ${what} need it.`, 'error');
  return true;
}

function notice(message, kind = 'info') {
  const box = document.getElementById('notice');
  if (!message) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.className = kind;
  box.textContent = message;
}

// -------------------------------------------------------------------------------------- views

/**
 * POST /api/sources/:name/pause|resume, body { table } for one table; then the view reloads.
 * A source's resume also resumes its paused tables (docs/pause-resume.md).
 */
async function pauseAction(action, source, table) {
  if (needToken('pause and resume')) return;
  const what = table === undefined ? `source ${source}` : `${table} of ${source}`;
  notice(`${action === 'pause' ? 'pausing' : 'resuming'} ${what}…`);
  const r = await api(`/api/sources/${encodeURIComponent(source)}/${action}`, { method: 'POST', json: table === undefined ? {} : { table } });
  if (r.ok) notice(`${what} ${action === 'pause' ? 'paused' : 'resumed'}`, 'ok');
  else notice(`${action} of ${what} failed (HTTP ${r.status}): ${r.body?.error ?? ''}`, 'error');
  refresh(true);
}

function pauseButton(action, source, table) {
  const target = table === undefined ? 'source' : 'table';
  return el(
    'button',
    {
      type: 'button',
      class: `pause-button ${action}`,
      'data-action': action,
      'data-target': target,
      title:
        action === 'pause'
          ? table === undefined
            ? 'stop capturing this source (its position is kept; resume continues from it)'
            : "hold this table's changes (log capture) or skip it (polling) until resume"
          : table === undefined
            ? 'capture this source again, and resume its paused tables'
            : "deliver this table's held changes, in order, and go on",
      onclick: () => pauseAction(action, source, table),
    },
    `${action === 'pause' ? 'Pause' : 'Resume'}${table === undefined ? ' source' : ''}`,
  );
}

/** The row under a source: each mapped table (and any other paused one) with its own pause / resume. */
function tablesRow(s, mapped, columns) {
  const paused = new Set(s.pausedTables ?? []);
  const tables = [...(mapped ?? [])];
  for (const name of paused) if (!tables.some((t) => t.table === name)) tables.push({ table: name, entity: null });
  if (tables.length === 0) return null;
  return el(
    'tr',
    { class: 'source-tables', 'data-source-tables': s.name },
    el(
      'td',
      { colspan: columns },
      el(
        'ul',
        { class: 'table-list' },
        tables.map((t) =>
          el(
            'li',
            { 'data-table': t.table, class: paused.has(t.table) ? 'paused' : null },
            el('span', { class: 'mono' }, t.table),
            t.entity ? el('span', { class: 'muted small' }, ` → ${t.entity} `) : ' ',
            paused.has(t.table) ? badge('paused') : s.paused ? el('span', { class: 'muted small' }, 'paused with the source ') : null,
            pauseButton(paused.has(t.table) ? 'resume' : 'pause', s.name, t.table),
          ),
        ),
      ),
    ),
  );
}

const SOURCE_COLUMNS = ['source', 'method', 'state', 'position', 'lag', 'slot retains', 'envelopes', 'dead letters', 'progress', 'pause'];

const views = {
  sources: {
    title: 'Sources',
    /** Each source's mapped tables (GET /console/tables); fixed for the life of the process. */
    tables: null,
    async load() {
      const [sources, reconcile, tables] = await Promise.all([
        api('/api/sources'),
        api('/api/reconcile'),
        this.tables === null ? api('/console/tables') : Promise.resolve({ ok: true, body: this.tables }),
      ]);
      if (tables.ok && tables.body && typeof tables.body === 'object') this.tables = tables.body;
      return { sources: sources.ok ? sources.body : [], reconcile: reconcile.ok ? reconcile.body : null, tables: this.tables ?? {} };
    },
    render({ sources, reconcile, tables }) {
      const rows = sources.flatMap((s) => [
        el(
          'tr',
          { 'data-source': s.name, class: s.paused ? 'paused' : null },
          el('th', { scope: 'row' }, s.name, el('div', { class: 'muted' }, s.kind)),
          el('td', { class: 'method' }, s.method ?? '—', s.methodReason ? el('div', { class: 'muted small' }, s.methodReason) : null),
          el(
            'td',
            { class: 'state' },
            badge(s.state),
            s.paused ? [' ', badge('paused')] : null,
            el('div', { class: 'muted small' }, `since ${ago(s.since)}`),
            s.reason ? el('div', { class: 'reason' }, s.reason) : null,
            (s.pausedTables ?? []).length > 0 ? el('div', { class: 'paused-tables small' }, `tables paused: ${s.pausedTables.join(', ')}`) : null,
          ),
          el('td', { class: 'mono' }, s.position ?? '—', el('div', { class: 'muted small' }, s.commitTs ? `commit ${s.commitTs}` : '')),
          el('td', { class: 'num' }, seconds(s.lagSeconds)),
          el(
            'td',
            { class: 'num' },
            s.slot ? bytes(s.slot.retainedBytes) : '—',
            s.slot ? el('div', { class: 'muted small' }, `of ${bytes(s.slot.maxBytes)} max`) : null,
          ),
          el('td', { class: 'num' }, n(s.envelopes)),
          el('td', { class: 'num' }, n(s.deadLetters)),
          el('td', { class: 'progress-cell' }, progressCell(s.progress)),
          el('td', { class: 'pause' }, pauseButton(s.paused ? 'resume' : 'pause', s.name)),
        ),
        tablesRow(s, tables[s.name], SOURCE_COLUMNS.length),
      ]);
      const sourcesTable =
        sources.length === 0 ? el('p', { class: 'empty' }, 'no sources') : table(SOURCE_COLUMNS, rows, { id: 'sources-table' });

      const runs = reconcile?.runs ?? [];
      const runRows = runs.map((r) =>
        el(
          'tr',
          null,
          el('td', null, `#${r.id} ${r.trigger}`),
          el('td', null, badge(r.status), r.error ? el('div', { class: 'reason' }, r.error) : null),
          el('td', null, ago(r.startedAt)),
          el('td', { class: 'num' }, `${r.tables.done} / ${r.tables.total}`),
          el('td', { class: 'progress-cell' }, progressCell(r.progress)),
          el(
            'td',
            null,
            r.results.map((t) =>
              el('div', null, `${t.source} ${t.table}: `, t.report ? el('a', { href: `#review/${encodeURIComponent(t.report)}` }, `report ${t.report}`) : 'clean'),
            ),
          ),
        ),
      );
      return [
        sourcesTable,
        el('h2', null, 'Reconciliation'),
        el('p', { class: 'muted' }, reconcile ? `schedule "${reconcile.schedule}"${reconcile.running ? ', a run is going' : ''}` : 'not available'),
        runs.length === 0
          ? el('p', { class: 'empty' }, 'no reconciliation run in this process yet')
          : table(['run', 'status', 'started', 'tables', 'progress', 'results'], runRows),
      ];
    },
  },

  subscribers: {
    title: 'Subscribers',
    async load() {
      const [subs, deliveries] = await Promise.all([api('/api/subscribers'), api('/api/deliveries?limit=50')]);
      return {
        subscribers: subs.ok && Array.isArray(subs.body) ? subs.body : [],
        deliveries: deliveries.ok && Array.isArray(deliveries.body) ? deliveries.body : [],
      };
    },
    render({ subscribers, deliveries }) {
      if (subscribers.length === 0 && deliveries.length === 0) return el('p', { class: 'empty' }, 'no subscribers');
      const subRows = subscribers.map((s) =>
        el(
          'tr',
          null,
          el('th', { scope: 'row' }, s.id),
          el('td', null, s.type),
          el('td', { class: 'mono' }, s.endpoint),
          el('td', null, (s.topics ?? []).join(', ')),
          el('td', null, badge(s.state ?? 'unknown'), s.reason ? el('div', { class: 'reason' }, s.reason) : null),
          el('td', { class: 'num' }, n(s.delivered)),
          el('td', { class: 'num' }, n(s.dead)),
          el('td', { class: 'num' }, n(s.failedAttempts)),
        ),
      );
      const deliveryRows = deliveries.map((d) =>
        el(
          'tr',
          null,
          el('td', null, ago(d.at)),
          el('td', null, d.sub),
          el('td', null, badge(d.status)),
          el('td', { class: 'mono small' }, d.subject ?? d.id),
          el('td', { class: 'num' }, n(d.attempts)),
          el('td', { class: 'num' }, d.latencyMs === null || d.latencyMs === undefined ? '—' : `${n(d.latencyMs)} ms`),
          el('td', { class: 'reason' }, d.error ?? ''),
        ),
      );
      return [
        subscribers.length === 0 ? el('p', { class: 'empty' }, 'no subscribers') : table(['subscriber', 'type', 'endpoint', 'topics', 'state', 'delivered', 'dead', 'failed attempts'], subRows),
        el('h2', null, 'Recent deliveries'),
        deliveries.length === 0 ? el('p', { class: 'empty' }, 'no deliveries yet') : table(['when', 'subscriber', 'status', 'subject', 'attempts', 'latency', 'error'], deliveryRows),
      ];
    },
  },

  'dead-letters': {
    title: 'Dead letters',
    async load() {
      const r = await api('/api/dead-letters?limit=50');
      return r.ok ? r.body : { error: r.body?.error ?? `HTTP ${r.status}` };
    },
    render(data) {
      if (!Array.isArray(data)) return el('p', { class: 'error' }, `cannot read dead letters: ${data.error}`);
      if (data.length === 0) return el('p', { class: 'empty' }, 'no dead letters');
      return table(
        ['stored', 'source', 'entity', 'table', 'op', 'position', 'error', 'raw row'],
        data.map((d) =>
          el(
            'tr',
            null,
            el('td', { title: d.time }, ago(d.time)),
            el('td', null, d.source),
            el('td', null, d.entity),
            el('td', null, d.table ?? '—'),
            el('td', null, d.op ?? '—'),
            el('td', { class: 'mono small' }, d.position ?? '—'),
            el('td', { class: 'reason' }, d.error ?? '—'),
            el('td', null, d.raw ? el('details', null, el('summary', null, `${Object.keys(d.raw).length} columns`), el('pre', null, JSON.stringify(d.raw, null, 2))) : '—'),
          ),
        ),
      );
    },
  },

  review: {
    title: 'Review queue',
    filter: 'open',
    async load() {
      const r = await api(`/api/review${this.filter === 'all' ? '' : `?status=${this.filter}`}`);
      return r.ok ? r.body : { error: r.body?.error ?? `HTTP ${r.status}` };
    },
    controls() {
      const select = el(
        'select',
        { id: 'review-filter', onchange: (e) => {
          this.filter = e.target.value;
          refresh(true);
        } },
        ['open', 'resolved', 'all'].map((v) => el('option', { value: v, selected: v === this.filter }, v === 'all' ? 'all reports' : `${v} reports`)),
      );
      return el('div', { class: 'controls' }, el('label', { for: 'review-filter' }, 'Show '), select);
    },
    render(data) {
      if (!Array.isArray(data)) return el('p', { class: 'error' }, `cannot read the review queue: ${data.error}`);
      if (data.length === 0) return el('p', { class: 'empty' }, this.filter === 'open' ? 'no open reports' : 'no reports');
      return table(
        ['report', 'status', 'created', 'source', 'table', 'missing in target', 'missing in source', 'different'],
        data.map((r) =>
          el(
            'tr',
            { 'data-report': r.id },
            el('th', { scope: 'row' }, el('a', { href: `#review/${encodeURIComponent(r.id)}` }, r.id)),
            el('td', null, badge(r.status)),
            el('td', { title: r.createdAt }, ago(r.createdAt)),
            el('td', null, r.source),
            el('td', null, r.table),
            el('td', { class: 'num' }, n(r.counts.missingInTarget)),
            el('td', { class: 'num' }, n(r.counts.missingInSource)),
            el('td', { class: 'num' }, n(r.counts.different)),
          ),
        ),
        { id: 'review-table' },
      );
    },
  },

  report: {
    title: 'Report',
    id: '',
    async load() {
      const r = await api(`/api/review/${encodeURIComponent(this.id)}`);
      return r.ok ? r.body : { error: r.body?.error ?? `HTTP ${r.status}` };
    },
    controls() {
      const by = el('input', { id: 'review-by', name: 'by', placeholder: 'your name', maxlength: 200 });
      const note = el('input', { id: 'review-note', name: 'note', placeholder: 'note (why)', maxlength: 2000, class: 'wide' });
      const act = (action) => async (event) => {
        event.preventDefault();
        if (needToken('resolve and resync')) return;
        const body = {};
        if (by.value.trim() !== '') body.by = by.value.trim();
        if (note.value !== '') body.note = note.value;
        notice(action === 'resync' ? 'resyncing: reading the keys from the source…' : 'resolving…');
        const r = await api(`/api/review/${encodeURIComponent(this.id)}/${action}`, { method: 'POST', json: body });
        if (r.ok) notice(r.body?.message ?? `report ${this.id} resolved`, 'ok');
        else notice(`${action} failed (HTTP ${r.status}): ${r.body?.error ?? ''}`, 'error');
        refresh(true);
      };
      return el(
        'form',
        { class: 'controls actions', id: 'review-actions' },
        el('a', { href: '#review' }, '← all reports'),
        by,
        note,
        el('button', { type: 'button', id: 'resync-button', onclick: act('resync'), title: 're-emit these keys from the source, then mark the report resolved' }, 'Resync'),
        el('button', { type: 'button', id: 'resolve-button', onclick: act('resolve'), title: 'mark resolved without re-emitting anything' }, 'Resolve'),
      );
    },
    render(report) {
      if (report.error) return el('p', { class: 'error' }, report.error);
      const r = report.resolution;
      const head = el(
        'div',
        { class: 'report-head' },
        el('h2', null, `Report ${report.id} `, badge(report.status)),
        el(
          'p',
          null,
          `${report.source} ${report.table} → ${report.entity}, compared with ${report.target}, created ${report.createdAt}, start position `,
          el('span', { class: 'mono' }, report.runStartPosition),
        ),
        el(
          'p',
          null,
          `missing in target ${n(report.counts.missingInTarget)}, missing in source ${n(report.counts.missingInSource)}, different ${n(report.counts.different)}`,
          report.moreDiffs > 0 ? ` (${n(report.moreDiffs)} more not listed)` : '',
        ),
        report.targetCaughtUp ? null : el('p', { class: 'warning' }, 'The target had not caught up to the start position: some differences may be changes still in flight.'),
        r
          ? el(
              'p',
              { class: 'resolution' },
              r.action === 'resync' ? (r.queued ? `resync queued (${n(r.rows)} keys)` : `resynced: ${n(r.rows)} rows, ${n(r.tombstones)} tombstones at ${r.position}`) : 'resolved',
              ` by ${r.by} ${ago(r.at)}`,
              r.note ? ` — ${r.note}` : '',
            )
          : null,
      );
      const rows = [];
      for (const d of report.diffs) {
        const key = el('td', { class: 'mono' }, json(d.key));
        const kind = el('td', null, el('span', { class: `kind kind-${d.kind}` }, d.kind));
        if (d.kind !== 'different' || !d.fields || d.fields.length === 0) {
          const note = d.kind === 'missingInTarget' ? 'in the source, not in the target' : d.kind === 'missingInSource' ? 'in the target, not in the source' : '';
          rows.push(el('tr', { class: 'diff' }, key, kind, el('td', { colspan: 3, class: 'muted' }, note)));
          continue;
        }
        d.fields.forEach((f, i) => {
          rows.push(
            el(
              'tr',
              { class: i === 0 ? 'diff' : 'diff cont' },
              i === 0 ? key : el('td', null),
              i === 0 ? kind : el('td', null),
              el('td', { class: 'field' }, f.field),
              el('td', { class: 'value source-value mono' }, json(f.source)),
              el('td', { class: 'value target-value mono' }, json(f.target)),
            ),
          );
        });
      }
      return [head, table(['key', 'difference', 'field', 'source', 'target'], rows, { id: 'diff-table', class: 'diffs' })];
    },
  },
};

// ----------------------------------------------------------------------------- routing, refresh

let current = null; // { name, view }
let lastRendered = '';
let timer = null;

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, '')) || 'sources';
  if (hash.startsWith('review/')) {
    views.report.id = hash.slice('review/'.length);
    return 'report';
  }
  return views[hash] ? hash : 'sources';
}

function mount() {
  const name = route();
  const view = views[name];
  current = { name, view, key: name === 'report' ? `report:${view.id}` : name };
  lastRendered = '';
  notice('');
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('active', a.dataset.view === name || (name === 'report' && a.dataset.view === 'review'));
  }
  document.title = `${view.title} · hms-sync`;
  const section = document.getElementById('view');
  const content = el('div', { id: 'content' }, el('p', { class: 'muted' }, 'loading…'));
  section.replaceChildren(el('h2', { class: 'view-title' }, view.title), view.controls ? view.controls() : '', content);
  refresh(true);
}

async function refresh(force = false) {
  clearTimeout(timer);
  const mounted = current;
  try {
    const data = await mounted.view.load();
    if (current !== mounted) return; // the view changed while loading
    const text = JSON.stringify(data);
    // Unchanged data: leave the DOM alone (keeps selections and open <details>).
    if (force || text !== lastRendered) {
      lastRendered = text;
      document.getElementById('content')?.replaceChildren(...[mounted.view.render(data)].flat());
    }
    document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    document.getElementById('updated').textContent = `cannot reach the bridge: ${error.message}`;
  } finally {
    if (current === mounted) timer = setTimeout(() => refresh(), REFRESH_MS);
  }
}

function setupToken() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token');
  const state = document.getElementById('token-state');
  const show = () => (state.textContent = token() === '' ? 'no token: read only' : 'token set for this tab');
  input.value = token();
  show();
  input.addEventListener('change', () => form.requestSubmit());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, input.value);
    show();
    refresh(true);
  });
}

setupToken();
window.addEventListener('hashchange', mount);
mount();
