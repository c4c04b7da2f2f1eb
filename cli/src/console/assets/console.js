// The console's script: refreshes what the server rendered, follows the
// event stream, and sends operations with the token. Plain JavaScript,
// shipped inside the `tenure` binary; the pages work without it, only
// without live updates and operations.
(function () {
  'use strict';
  var page = document.body.dataset.page;
  var banner = document.getElementById('banner');
  var conn = document.getElementById('conn');
  var message = document.getElementById('message');
  var tokenInput = document.getElementById('token');
  var MAX_ROWS = 500;

  function clock(ms) {
    return new Date(ms).toISOString().substring(11, 19);
  }

  function setConnection(ok, text) {
    conn.textContent = ok ? 'connected' : 'disconnected';
    conn.className = 'badge ' + (ok ? 'ok' : 'bad');
    banner.hidden = ok;
    if (!ok) banner.textContent = text;
  }

  // The connection state, as the server sees it.
  function checkConsole() {
    fetch('/api/console').then(function (r) { return r.json(); }).then(function (c) {
      if (c.connected) {
        setConnection(true, '');
      } else {
        var shown = c.read_ms ? 'showing the state as of ' + clock(c.read_ms) + ' UTC'
          : 'nothing read yet';
        setConnection(false, 'disconnected since ' + clock(c.problem_since_ms || Date.now()) +
          ' UTC: ' + c.problem + '; ' + shown + '; reconnecting by itself');
      }
    }).catch(function () {
      setConnection(false, 'the console does not answer; retrying');
    });
  }

  function say(text, bad) {
    message.textContent = text;
    message.className = bad ? 'bad' : 'ok';
  }

  // Fetches a region's data-src again and puts it in place.
  function refresh(el) {
    if (!el) return;
    fetch(el.dataset.src).then(function (r) {
      return r.text().then(function (text) {
        if (r.ok || r.status === 503) {
          if (r.ok || el.id === 'rows') el.innerHTML = text;
          var state = el.querySelector('#state');
          if (state) {
            setConnection(state.dataset.connected === 'true', state.dataset.problem);
          }
        }
      });
    }).catch(function () {
      setConnection(false, 'the console does not answer; retrying');
    });
  }

  var rows = document.getElementById('rows');
  var chart = document.getElementById('timeline');
  var pending = null;
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      refresh(rows);
    }, 150);
  }

  if (tokenInput) {
    tokenInput.value = sessionStorage.getItem('tenure-token') || '';
    tokenInput.addEventListener('input', function () {
      sessionStorage.setItem('tenure-token', tokenInput.value);
    });
  }

  // Sends an operation; the answer (or the refusal) is shown on the page.
  function operate(method, url, body) {
    var headers = { 'Authorization': 'Bearer ' + (tokenInput ? tokenInput.value.trim() : '') };
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return { error: r.statusText }; }).then(function (doc) {
        if (r.ok) say(doc.message + ' (as ' + doc.by + ')', false);
        else say(doc.error || r.statusText, true);
        refresh(rows);
        return r.ok;
      });
    }).catch(function (e) {
      say('the console does not answer: ' + e, true);
      return false;
    });
  }

  function taskUrl(task) {
    return '/api/tasks/' + encodeURIComponent(task);
  }

  var form = document.getElementById('task-form');
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-op]');
    if (!b) return;
    var task = b.dataset.task;
    switch (b.dataset.op) {
      case 'pause': operate('POST', taskUrl(task) + '/pause'); break;
      case 'resume': operate('POST', taskUrl(task) + '/resume'); break;
      case 'remove':
        if (window.confirm('Remove task ' + task + '? Its runner stops.')) operate('DELETE', taskUrl(task));
        break;
      case 'edit':
        if (!form) break;
        form.elements.name.value = task;
        form.elements.weight.value = b.dataset.weight;
        form.elements.tags.value = b.dataset.tags;
        form.elements.pin.value = b.dataset.pin;
        form.elements.payload.value = '';
        form.elements.name.focus();
        break;
    }
  });

  if (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var which = ev.submitter ? ev.submitter.dataset.formOp : 'add';
      var f = form.elements;
      var tags = f.tags.value.split(',').map(function (t) { return t.trim(); })
        .filter(function (t) { return t !== ''; });
      var body = { tags: tags };
      if (f.payload.value !== '') body.payload = f.payload.value;
      if (f.weight.value.trim() !== '') body.weight = f.weight.value.trim();
      if (which === 'update') {
        body.pin = f.pin.value.trim() === '' ? null : f.pin.value.trim();
        operate('PATCH', taskUrl(f.name.value.trim()), body);
      } else {
        body.name = f.name.value.trim();
        if (f.pin.value.trim() !== '') body.pin = f.pin.value.trim();
        operate('POST', '/api/tasks', body);
      }
    });
  }

  // Live events: table rows built with text only.
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function addRow(tbody, entry) {
    var tr = document.createElement('tr');
    tr.dataset.seq = entry.seq;
    if (entry.type === 'gap' || entry.type === 'lagged') {
      tr.className = 'gap';
      cell(tr, clock(entry.to_ms || Date.now()));
      cell(tr, 'gap', 'change');
      var detail = entry.detail || (entry.missed + ' events were skipped: this page fell behind; reload it to see them');
      cell(tr, detail).colSpan = 5;
    } else {
      tr.className = 'event ' + entry.change;
      tr.dataset.task = entry.task;
      cell(tr, clock(entry.at_ms));
      cell(tr, entry.change, 'change');
      cell(tr, entry.task);
      cell(tr, entry.worker);
      cell(tr, String(entry.token));
      cell(tr, entry.from || '');
      cell(tr, entry.reason);
    }
    tbody.insertBefore(tr, tbody.firstChild);
    while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(tbody.rows.length - 1);
  }

  var events = document.getElementById('events');
  if (window.EventSource && (events || rows)) {
    var after = events ? events.dataset.after : '';
    var source = new EventSource('/api/events/stream' + (after ? '?after=' + after : ''));
    source.addEventListener('ownership', function (m) {
      if (events) addRow(events.tBodies[0], JSON.parse(m.data));
      refreshSoon();
    });
    source.addEventListener('gap', function (m) {
      if (events) addRow(events.tBodies[0], JSON.parse(m.data));
      refreshSoon();
    });
    source.addEventListener('lagged', function (m) {
      if (events) addRow(events.tBodies[0], JSON.parse(m.data));
      refreshSoon();
    });
    source.addEventListener('session', function (m) {
      var s = JSON.parse(m.data);
      if (s.connected) checkConsole();
      else setConnection(false, s.detail + '; reconnecting by itself');
    });
    source.onerror = function () {
      setConnection(false, 'the console does not answer; retrying');
    };
    source.onopen = checkConsole;
  }

  if (rows) setInterval(function () { refresh(rows); }, 2000);
  if (chart) setInterval(function () { refresh(chart); }, 5000);
  setInterval(checkConsole, 2000);
  if (page) checkConsole();
})();
