// Ferry balancer stats page. Everything it shows comes from /api/status and /api/history, polled every few seconds;
// every value goes into the page as text (textContent), never as HTML, so nothing a client sends
// (a user name, say) can become markup. Elements carry stable ids and data attributes
// (data-backend, data-session, data-action) for people and for browser tests alike.
'use strict';

(function () {
  const REFRESH_MS = 3000;
  // seq: the latest refresh; an older one still in flight neither renders nor schedules.
  const state = { csrf: null, role: null, user: null, timer: null, seq: 0 };

  const byId = (id) => document.getElementById(id);

  // ---- talking to the API ------------------------------------------------------------------

  async function api(method, path, body) {
    // X-Requested-With: a 401 then carries no Basic challenge, so the browser shows our form, not its dialog.
    const headers = { 'X-Requested-With': 'fetch', 'Accept': 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    if (state.csrf && method !== 'GET') {
      headers['X-CSRF-Token'] = state.csrf;
    }
    const response = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store'
    });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    return { status: response.status, data: data };
  }

  function showError(message) {
    const banner = byId('error');
    banner.textContent = message || '';
    banner.hidden = !message;
  }

  // ---- logging in and out -------------------------------------------------------------------

  function loggedIn(who) {
    state.csrf = who.csrf_token;
    state.role = who.role;
    state.user = who.user;
    document.body.dataset.role = who.role;
    byId('who-user').textContent = who.user;
    byId('who-role').textContent = who.role;
    byId('who').hidden = false;
    byId('logout').hidden = who.auth !== 'cookie';
    byId('login').hidden = true;
    byId('dashboard').hidden = false;
    refresh();
  }

  function loggedOut(message) {
    clearTimeout(state.timer);
    state.seq++;
    state.csrf = null;
    state.role = null;
    delete document.body.dataset.role;
    byId('who').hidden = true;
    byId('dashboard').hidden = true;
    byId('login').hidden = false;
    const error = byId('login-error');
    error.textContent = message || '';
    error.hidden = !message;
    byId('login-user').focus();
  }

  async function start() {
    byId('login-form').addEventListener('submit', login);
    byId('logout').addEventListener('click', logout);
    byId('backends').addEventListener('click', backendAction);
    byId('sessions').addEventListener('click', sessionAction);
    byId('bans').addEventListener('click', banAction);
    byId('ban-form').addEventListener('submit', banAddress);
    byId('accounts').addEventListener('click', accountAction);
    byId('account-form').addEventListener('submit', addAccount);
    try {
      const r = await api('GET', '/api/whoami');
      if (r.status === 200) {
        loggedIn(r.data);
      } else {
        loggedOut('');
      }
    } catch (e) {
      loggedOut('');
      showError('Cannot reach the balancer.');
    }
  }

  async function login(event) {
    event.preventDefault();
    const submit = byId('login-submit');
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/login', {
        user: byId('login-user').value,
        password: byId('login-password').value
      });
      byId('login-password').value = '';
      if (r.status === 200) {
        showError('');
        loggedIn(r.data);
      } else {
        loggedOut(r.status === 401 ? 'Wrong user name or password.' : errorText(r));
      }
    } catch (e) {
      loggedOut('Cannot reach the balancer.');
    } finally {
      submit.disabled = false;
    }
  }

  async function logout() {
    try {
      await api('POST', '/api/logout');
    } finally {
      loggedOut('');
    }
  }

  // ---- refreshing ---------------------------------------------------------------------------

  async function refresh() {
    clearTimeout(state.timer);
    const seq = ++state.seq;
    try {
      const r = await api('GET', '/api/status');
      if (seq !== state.seq) {
        return;
      }
      if (r.status === 401) {
        loggedOut('Your login has expired; please log in again.');
        return;
      }
      if (r.status !== 200) {
        showError(errorText(r));
      } else {
        showError('');
        render(r.data);
        const h = await api('GET', '/api/history');
        if (seq !== state.seq) {
          return;
        }
        if (h.status === 200) {
          renderCharts(h.data);
        }
        const u = await api('GET', '/api/users');
        if (seq !== state.seq) {
          return;
        }
        renderAccounts(u);
      }
    } catch (e) {
      if (seq !== state.seq) {
        return;
      }
      showError('Cannot reach the balancer; retrying.');
    }
    state.timer = setTimeout(refresh, REFRESH_MS);
  }

  function render(status) {
    const b = status.balancer;
    // Which balancer and which Ferry, in the heading and the tab's title (several balancers look alike).
    setText('node', b.node);
    setText('version', b.version);
    document.title = 'Ferry balancer ' + b.node + ' · ' + b.version;
    setText('sum-uptime', duration(b.uptime_seconds));
    setText('sum-sessions', b.sessions_now + ' / ' + b.sessions_peak + ' / ' + b.sessions_max);
    setText('sum-total', String(b.sessions_total));
    setText('sum-rate', b.session_rate + ' /s');
    setText('sum-queued', String(b.queued));
    const r = b.refused;
    setText('sum-refused', String(r.max_sessions + r.queue_timeout + r.max_per_address));
    // The reasons apart, for a pointer resting on the tile.
    byId('sum-refused').title = 'max-sessions ' + r.max_sessions + ', queue timeout ' + r.queue_timeout
      + ', over ' + b.sessions_per_address_max + ' from one address ' + r.max_per_address;
    setText('sum-timeouts', b.timeouts.login + ' · ' + b.timeouts.client_idle);
    setText('sum-bytes', bytes(b.bytes_in) + ' / ' + bytes(b.bytes_out));
    setText('sum-ports', b.passive_ports_size > 0
      ? b.passive_ports_in_use + ' / ' + b.passive_ports_size + ' (' + b.passive_ports_range + ')'
      : b.passive_ports_in_use + ' (any free port)');
    setText('sum-mode', b.balance + ' · ' + b.relay_mode);
    renderBackends(status.backends);
    renderRetiring(status.retiring || []);
    renderSessions(status.sessions, status.sessions_omitted);
    renderUsers(status.user_sessions || []);
    renderBans(status.bans || [], status.bans_omitted || 0);
    setText('updated', new Date().toLocaleTimeString());
  }

  // Backends a configuration reload removed: they keep their sessions until these end.
  function renderRetiring(retiring) {
    const p = byId('retiring');
    p.hidden = retiring.length === 0;
    p.textContent = retiring.length === 0 ? '' : 'Leaving after a reload: ' + retiring.map(function (r) {
      return r.name + ' (' + r.address + ', ' + r.sessions_now + (r.sessions_now === 1 ? ' session' : ' sessions') + ')';
    }).join(', ');
  }

  function renderBackends(backends) {
    const tbody = byId('backends').tBodies[0];
    // The rows the server wrote for readers without a script: replaced by rows of ours, with their actions.
    tbody.querySelectorAll('tr[data-server]').forEach(function (row) {
      row.remove();
    });
    const seen = new Set();
    backends.forEach(function (be, index) {
      seen.add(be.name);
      let row = rowFor(tbody, 'backend', be.name);
      if (!row) {
        row = backendRow(be.name);
      }
      if (tbody.rows[index] !== row) {
        tbody.insertBefore(row, tbody.rows[index] || null);
      }
      row.dataset.status = be.status;
      row.dataset.state = be.state;
      row.dataset.adminState = be.admin_state;
      const badge = row.querySelector('.backend-state');
      badge.textContent = be.status;
      badge.className = 'badge backend-state state-' + be.status;
      row.querySelector('.backend-states').textContent = 'checks: ' + be.state + '\nadmin: ' + be.admin_state;
      const check = row.querySelector('.backend-check');
      const detail = row.querySelector('.backend-check-detail');
      if (be.check) {
        check.textContent = (be.check.ok ? 'ok' : 'failed') + ' · ' + be.check.latency_ms + ' ms';
        check.className = 'backend-check ' + (be.check.ok ? 'ok' : 'failed');
        detail.textContent = be.check.detail + '\n' + new Date(be.check.at).toLocaleTimeString();
      } else {
        check.textContent = 'not yet';
        check.className = 'backend-check';
        detail.textContent = '';
      }
      cell(row, 'in-state').textContent = duration(be.in_state_seconds);
      cell(row, 'weight').textContent = String(be.weight);
      cell(row, 'sessions').textContent = be.sessions_now + ' / ' + be.sessions_total;
      cell(row, 'peak').textContent = String(be.sessions_peak);
      cell(row, 'checks').textContent = be.checks_failed + ' · ' + be.check_downs;
      cell(row, 'downtime').textContent = duration(be.downtime_seconds);
      cell(row, 'transfers').textContent = String(be.transfers);
      cell(row, 'bytes').textContent = bytes(be.bytes_up) + ' / ' + bytes(be.bytes_down);
      cell(row, 'errors').textContent = String(be.errors);
      cell(row, 'retries').textContent = String(be.retries);
      const weightInput = row.querySelector('[data-weight-input]');
      if (document.activeElement !== weightInput) {
        weightInput.value = String(be.weight);
      }
      row.querySelectorAll('button[data-state]').forEach(function (button) {
        button.disabled = button.dataset.state === be.admin_state;
      });
    });
    Array.from(tbody.rows).forEach(function (row) {
      if (!seen.has(row.dataset.backend)) {
        row.remove();
      }
    });
  }

  // A cell holding a headline and a detail line under it (state badge, last check).
  function stacked(cell, headClass, detailClass) {
    const wrap = document.createElement('div');
    [headClass, detailClass].forEach(function (className) {
      const span = document.createElement('span');
      span.className = className;
      wrap.appendChild(span);
    });
    cell.appendChild(wrap);
  }

  function backendRow(name) {
    const row = document.createElement('tr');
    row.dataset.backend = name;
    const nameCell = td(row, 'name', 'Name');
    nameCell.textContent = name;
    stacked(td(row, 'state', 'State'), 'badge backend-state', 'detail backend-states');
    stacked(td(row, 'check', 'Last check'), 'backend-check', 'detail backend-check-detail');
    td(row, 'in-state', 'In state');
    td(row, 'weight', 'Weight');
    td(row, 'sessions', 'Sessions now / total');
    td(row, 'peak', 'Peak');
    td(row, 'checks', 'Checks failed · downs');
    td(row, 'downtime', 'Downtime');
    td(row, 'transfers', 'Transfers');
    td(row, 'bytes', 'Bytes up / down');
    td(row, 'errors', 'Errors');
    td(row, 'retries', 'Retries');
    const actions = td(row, 'actions', 'Actions');
    actions.classList.add('admin-only');
    const box = document.createElement('div');
    box.className = 'actions';
    ['ready', 'drain', 'maint'].forEach(function (s) {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.action = s;
      button.dataset.state = s;
      button.textContent = s;
      box.appendChild(button);
    });
    const weight = document.createElement('input');
    weight.type = 'number';
    weight.min = '0';
    weight.max = '256';
    weight.setAttribute('data-weight-input', '');
    weight.setAttribute('aria-label', 'Weight of ' + name);
    box.appendChild(weight);
    const setWeight = document.createElement('button');
    setWeight.type = 'button';
    setWeight.dataset.action = 'weight';
    setWeight.textContent = 'set weight';
    box.appendChild(setWeight);
    actions.appendChild(box);
    return row;
  }

  function renderSessions(sessions, omitted) {
    const tbody = byId('sessions').tBodies[0];
    const seen = new Set();
    sessions.forEach(function (s, index) {
      seen.add(s.id);
      let row = rowFor(tbody, 'session', s.id);
      if (!row) {
        row = sessionRow(s);
      }
      if (tbody.rows[index] !== row) {
        tbody.insertBefore(row, tbody.rows[index] || null);
      }
      cell(row, 'user').textContent = s.user === null ? '–' : s.user;
      cell(row, 'backend').textContent = s.backend === null ? '–' : s.backend;
      cell(row, 'since').textContent = duration(s.seconds);
      cell(row, 'command').textContent = (s.command === null ? '–' : s.command)
        + (s.transferring ? ' · transferring ' + bytes(s.transfer_bytes) : '');
      cell(row, 'bytes').textContent = bytes(s.bytes_up) + ' / ' + bytes(s.bytes_down);
    });
    Array.from(tbody.rows).forEach(function (row) {
      if (!seen.has(row.dataset.session)) {
        row.remove();
      }
    });
    setText('sessions-count', '(' + (sessions.length + omitted) + (omitted > 0 ? ', ' + omitted + ' not listed' : '') + ')');
    // No sessions: the sentence alone, not a table of headers over nothing.
    byId('sessions').closest('.scroll').hidden = sessions.length === 0;
    byId('sessions-empty').hidden = sessions.length > 0;
  }

  function renderUsers(users) {
    const tbody = byId('users').tBodies[0];
    tbody.replaceChildren();
    users.forEach(function (u) {
      const row = document.createElement('tr');
      row.dataset.user = u.user;
      td(row, 'user', 'User').textContent = u.user;
      td(row, 'sessions', 'Sessions').textContent = String(u.sessions);
      tbody.appendChild(row);
    });
    setText('users-count', '(' + users.length + ')');
    byId('users').closest('.scroll').hidden = users.length === 0;
    byId('users-empty').hidden = users.length > 0;
  }

  function renderBans(bans, omitted) {
    const tbody = byId('bans').tBodies[0];
    tbody.replaceChildren();
    bans.forEach(function (b) {
      const row = document.createElement('tr');
      row.dataset.ban = b.address;
      td(row, 'address', 'Address').textContent = b.address;
      td(row, 'until', 'Until').textContent = new Date(b.until).toLocaleString() + ' (' + duration(b.seconds_left) + ')';
      td(row, 'failures', 'Failures').textContent = String(b.failures);
      td(row, 'reason', 'Reason').textContent = b.reason;
      td(row, 'origin', 'By').textContent = b.origin;
      const actions = td(row, 'actions', 'Actions');
      actions.classList.add('admin-only');
      const lift = document.createElement('button');
      lift.type = 'button';
      lift.dataset.action = 'lift-ban';
      lift.textContent = 'lift';
      actions.appendChild(lift);
      tbody.appendChild(row);
    });
    setText('bans-count', '(' + (bans.length + omitted) + (omitted > 0 ? ', ' + omitted + ' not listed' : '') + ')');
    byId('bans').closest('.scroll').hidden = bans.length === 0;
    byId('bans-empty').hidden = bans.length > 0;
  }

  // The accounts of the shared database (GET /api/users); 409 when the balancer has none: the section says so.
  function renderAccounts(r) {
    const off = r.status !== 200;
    byId('accounts-off').hidden = !off;
    byId('accounts-off').textContent = off ? errorText(r) : '';
    byId('account-form').hidden = off;
    const users = off ? [] : r.data.users;
    const tbody = byId('accounts').tBodies[0];
    tbody.replaceChildren();
    users.forEach(function (u) {
      const row = document.createElement('tr');
      row.dataset.account = u.name;
      td(row, 'name', 'Name').textContent = u.name;
      td(row, 'enabled', 'Enabled').textContent = u.enabled ? 'yes' : 'no';
      td(row, 'access', 'Access').textContent = u.access;
      td(row, 'home', 'Home').textContent = u.home === null ? '/' : u.home;
      td(row, 'quota', 'Quota').textContent = limit(u.quota.bytes, bytes) + ' · '
        + (u.quota.files === 0 ? 'no file limit' : u.quota.files + ' files');
      td(row, 'bandwidth', 'Bandwidth').textContent = '↑ ' + limit(u.bandwidth.upload, perSecond)
        + ' ↓ ' + limit(u.bandwidth.download, perSecond);
      td(row, 'max-sessions', 'Sessions').textContent = limit(u.max_sessions, String);
      const actions = td(row, 'actions', 'Actions');
      actions.classList.add('admin-only');
      [[u.enabled ? 'disable' : 'enable', u.enabled ? 'disable' : 'enable'], ['password', 'reset password'],
        ['quota', 'quota'], ['remove', 'remove']].forEach(function (a) {
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.action = a[0];
        button.textContent = a[1];
        if (a[0] === 'remove' || a[0] === 'disable') {
          button.classList.add('danger');
        }
        actions.appendChild(button);
      });
      tbody.appendChild(row);
    });
    setText('accounts-count', off ? '' : '(' + users.length + ')');
    byId('accounts').closest('.scroll').hidden = users.length === 0;
    byId('accounts-empty').hidden = off || users.length > 0;
  }

  function limit(n, format) {
    return n === 0 ? 'no limit' : format(n);
  }

  function perSecond(n) {
    return bytes(n) + '/s';
  }

  function sessionRow(s) {
    const row = document.createElement('tr');
    row.dataset.session = s.id;
    td(row, 'id', 'Id').textContent = s.id;
    td(row, 'client', 'Client').textContent = s.client;
    td(row, 'user', 'User');
    td(row, 'backend', 'Backend');
    td(row, 'since', 'Since');
    td(row, 'command', 'Command / transfer');
    td(row, 'bytes', 'Bytes up / down');
    const actions = td(row, 'actions', 'Actions');
    actions.classList.add('admin-only');
    const end = document.createElement('button');
    end.type = 'button';
    end.className = 'danger';
    end.dataset.action = 'end-session';
    end.textContent = 'end';
    actions.appendChild(end);
    return row;
  }

  // ---- the last hour: small charts ------------------------------------------------------------
  // Inline SVG drawn here, no chart library (nothing is loaded from elsewhere). The x axis spans the whole ring
  // (capacity × interval) and ends at the newest sample, so a balancer that just started shows its few samples
  // at the right and empty space before them; samples missing (a gap over 2.5 intervals: more than one tick)
  // break the line.

  const SVG = 'http://www.w3.org/2000/svg';
  const CHART_W = 240;
  const CHART_H = 48;

  function renderCharts(history) {
    const box = byId('charts');
    const intervalMs = history.interval_seconds * 1000;
    const spanMs = intervalMs * history.capacity;
    setText('history-span', '(one sample every ' + every(history.interval_seconds) + ')');
    const seen = new Set();
    history.backends.forEach(function (h) {
      seen.add(h.name);
      let card = null;
      for (const c of box.children) {
        if (c.dataset.chart === h.name) {
          card = c;
        }
      }
      if (!card) {
        card = document.createElement('div');
        card.className = 'chart-card';
        card.dataset.chart = h.name;
        box.appendChild(card);
      }
      const end = h.at.length > 0 ? h.at[h.at.length - 1] : 0;
      const maxSessions = Math.max(1, Math.max.apply(null, [0].concat(h.sessions)));
      const maxBytes = Math.max(1, Math.max.apply(null, [0].concat(h.bytes_in, h.bytes_out)));
      const peakSessions = Math.max.apply(null, [0].concat(h.sessions));
      const title = document.createElement('h3');
      title.textContent = h.name;
      const sessions = chart('sessions', h.name + ': sessions, last hour', [
        { cls: 'series-sessions', values: h.sessions, area: true }
      ], h.at, end, spanMs, intervalMs, maxSessions);
      const traffic = chart('bytes', h.name + ': bytes in and out per interval, last hour', [
        { cls: 'series-in', values: h.bytes_in, area: true },
        { cls: 'series-out', values: h.bytes_out, area: false }
      ], h.at, end, spanMs, intervalMs, maxBytes);
      const now = h.sessions.length > 0 ? h.sessions[h.sessions.length - 1] : 0;
      card.replaceChildren(title,
        caption('Sessions', 'now ' + now + ', peak ' + peakSessions), sessions,
        caption('Bytes per ' + every(history.interval_seconds),
          'in ' + bytes(sum(h.bytes_in)) + ' · out ' + bytes(sum(h.bytes_out)) + ' · max ' + bytes(maxBytes === 1 ? 0 : maxBytes)),
        traffic, legend());
    });
    Array.from(box.children).forEach(function (c) {
      if (!seen.has(c.dataset.chart)) {
        c.remove();
      }
    });
    byId('charts-empty').hidden = history.backends.some(function (h) {
      return h.at.length > 1;
    });
  }

  function caption(label, figures) {
    const p = document.createElement('p');
    p.className = 'chart-caption';
    const l = document.createElement('span');
    l.textContent = label;
    const f = document.createElement('span');
    f.className = 'chart-figures';
    f.textContent = figures;
    p.append(l, f);
    return p;
  }

  function legend() {
    const p = document.createElement('p');
    p.className = 'chart-legend';
    [['series-in', 'in (client to backend)'], ['series-out', 'out']].forEach(function (pair) {
      const swatch = document.createElement('span');
      swatch.className = 'swatch ' + pair[0];
      const text = document.createElement('span');
      text.textContent = pair[1];
      p.append(swatch, text);
    });
    return p;
  }

  // One small chart: each series a line (and an area under it if asked), broken where samples are missing.
  function chart(kind, label, series, at, end, spanMs, intervalMs, max) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + CHART_W + ' ' + CHART_H);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('class', 'chart chart-' + kind);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    svg.dataset.samples = String(at.length);
    const x = function (t) {
      return CHART_W - (end - t) / spanMs * CHART_W;
    };
    const y = function (v) {
      return CHART_H - 1 - v / max * (CHART_H - 2);
    };
    series.forEach(function (s) {
      runs(at, intervalMs).forEach(function (run) {
        const points = run.map(function (i) {
          return x(at[i]).toFixed(1) + ',' + y(s.values[i]).toFixed(1);
        });
        if (s.area) {
          const area = document.createElementNS(SVG, 'polygon');
          area.setAttribute('class', 'area ' + s.cls);
          area.setAttribute('points', x(at[run[0]]).toFixed(1) + ',' + CHART_H + ' ' + points.join(' ') + ' '
            + x(at[run[run.length - 1]]).toFixed(1) + ',' + CHART_H);
          svg.appendChild(area);
        }
        const line = document.createElementNS(SVG, 'polyline');
        line.setAttribute('class', 'line ' + s.cls);
        line.setAttribute('points', points.join(' '));
        line.setAttribute('vector-effect', 'non-scaling-stroke');
        svg.appendChild(line);
      });
    });
    return svg;
  }

  // Indexes of the samples in runs without gaps: a new run where two samples lie more than 2.5 intervals apart
  // (one late or skipped tick is bridged).
  function runs(at, intervalMs) {
    const all = [];
    let current = [];
    at.forEach(function (t, i) {
      if (i > 0 && t - at[i - 1] > intervalMs * 2.5) {
        all.push(current);
        current = [];
      }
      current.push(i);
    });
    if (current.length > 0) {
      all.push(current);
    }
    return all;
  }

  // An interval as people say it: 30s, 1m 0s; under a second (tests sample fast) in milliseconds.
  function every(seconds) {
    return seconds < 1 ? Math.round(seconds * 1000) + ' ms' : duration(Math.round(seconds));
  }

  function sum(values) {
    return values.reduce(function (a, b) {
      return a + b;
    }, 0);
  }

  // ---- actions ------------------------------------------------------------------------------

  async function backendAction(event) {
    const button = event.target.closest('button[data-action]');
    if (!button) {
      return;
    }
    const name = button.closest('tr').dataset.backend;
    const path = '/api/backends/' + encodeURIComponent(name);
    if (button.dataset.action === 'weight') {
      const input = button.closest('tr').querySelector('[data-weight-input]');
      const weight = Number(input.value);
      if (!Number.isInteger(weight) || weight < 0 || weight > 256) {
        showError('Weight must be a whole number from 0 to 256.');
        return;
      }
      await act(button, 'POST', path + '/weight', { weight: weight });
      input.blur();
    } else {
      await act(button, 'POST', path + '/state', { state: button.dataset.action });
    }
  }

  async function sessionAction(event) {
    const button = event.target.closest('button[data-action="end-session"]');
    if (!button) {
      return;
    }
    const id = button.closest('tr').dataset.session;
    await act(button, 'DELETE', '/api/sessions/' + encodeURIComponent(id));
  }

  async function banAction(event) {
    const button = event.target.closest('button[data-action="lift-ban"]');
    if (!button) {
      return;
    }
    const address = button.closest('tr').dataset.ban;
    await act(button, 'DELETE', '/api/bans/' + encodeURIComponent(address));
  }

  async function banAddress(event) {
    event.preventDefault();
    const body = { address: byId('ban-address').value.trim(), duration: byId('ban-duration').value.trim() };
    const reason = byId('ban-reason').value.trim();
    if (reason !== '') {
      body.reason = reason;
    }
    await act(event.target.querySelector('button'), 'POST', '/api/bans', body);
  }

  async function accountAction(event) {
    const button = event.target.closest('button[data-action]');
    if (!button) {
      return;
    }
    const name = button.closest('tr').dataset.account;
    const path = '/api/users/' + encodeURIComponent(name);
    const action = button.dataset.action;
    if (action === 'remove') {
      if (window.confirm('Remove the account ' + name + '? Its files stay.')) {
        await act(button, 'DELETE', path);
      }
    } else if (action === 'quota') {
      const bytesText = window.prompt('Quota of ' + name + ' in bytes (such as 10GiB; 0: no limit)', '0');
      if (bytesText !== null) {
        await act(button, 'PUT', path + '/quota', { bytes: bytesText.trim() });
      }
    } else if (action === 'password') {
      if (window.confirm('Make a new password for ' + name + '? The old one stops working at once.')) {
        await withPassword(button, 'POST', path + '/password', {});
      }
    } else {
      await act(button, 'POST', path + '/' + action, {});
    }
  }

  async function addAccount(event) {
    event.preventDefault();
    const body = { name: byId('account-name').value.trim(), access: byId('account-access').value };
    const home = byId('account-home').value.trim();
    if (home !== '') {
      body.home = home;
    }
    const quota = byId('account-quota').value.trim();
    if (quota !== '') {
      body.quota_bytes = quota;
    }
    if (await withPassword(event.target.querySelector('button'), 'POST', '/api/users', body)) {
      event.target.reset();
    }
  }

  // A change whose answer may carry a password made by the balancer: shown here once, never stored by the page.
  async function withPassword(button, method, path, body) {
    button.disabled = true;
    let ok = false;
    try {
      const r = await api(method, path, body);
      if (r.status === 401) {
        loggedOut('Your login has expired; please log in again.');
        return false;
      }
      ok = r.status >= 200 && r.status < 300;
      showError(ok ? '' : errorText(r));
      const shown = byId('account-password');
      shown.hidden = !(ok && r.data.password_generated);
      shown.textContent = shown.hidden ? '' : 'Password of ' + r.data.name + ': ' + r.data.password
        + ' (shown once; give it to the user now)';
    } catch (e) {
      showError('Cannot reach the balancer.');
    } finally {
      button.disabled = false;
    }
    refresh();
    return ok;
  }

  async function act(button, method, path, body) {
    button.disabled = true;
    try {
      const r = await api(method, path, body);
      if (r.status === 401) {
        loggedOut('Your login has expired; please log in again.');
        return;
      }
      showError(r.status >= 200 && r.status < 300 ? '' : errorText(r));
    } catch (e) {
      showError('Cannot reach the balancer.');
    } finally {
      button.disabled = false;
    }
    refresh();
  }

  // ---- helpers ------------------------------------------------------------------------------

  function errorText(r) {
    return r.data && typeof r.data.error === 'string' ? r.data.error : 'The balancer answered ' + r.status + '.';
  }

  function setText(id, text) {
    byId(id).textContent = text;
  }

  function td(row, key, label) {
    const c = document.createElement('td');
    c.dataset.cell = key;
    c.dataset.label = label;
    row.appendChild(c);
    return c;
  }

  function cell(row, key) {
    return row.querySelector('td[data-cell="' + key + '"]');
  }

  function rowFor(tbody, kind, key) {
    for (const row of tbody.rows) {
      if (row.dataset[kind] === key) {
        return row;
      }
    }
    return null;
  }

  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return (unit === 0 ? String(value) : value.toFixed(value < 10 ? 1 : 0)) + ' ' + units[unit];
  }

  function duration(seconds) {
    if (seconds < 60) {
      return seconds + 's';
    }
    const m = Math.floor(seconds / 60);
    if (m < 60) {
      return m + 'm ' + (seconds % 60) + 's';
    }
    const h = Math.floor(m / 60);
    if (h < 24) {
      return h + 'h ' + (m % 60) + 'm';
    }
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  document.addEventListener('DOMContentLoaded', start);
}());
