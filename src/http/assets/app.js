// Progressive enhancement only: every decision works without this file.
(function () {
  'use strict';

  function debounce(fn, ms) {
    let timer;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // The live parts of a campaign page as the server sent them, before enhance() changes their markup:
  // each poll swaps a part only when the server's rendering of it differs from what it last sent.
  const shown = {};
  document.querySelectorAll('[data-fragment]').forEach(function (part) {
    shown[part.getAttribute('data-fragment')] = part.innerHTML;
  });

  // What a page (or a part of it swapped in live) needs once its markup is in place.
  function enhance(root) {
    // Progress bars take their width from data-percent: the Content-Security-Policy refuses style attributes.
    root.querySelectorAll('[data-percent]').forEach(function (bar) {
      bar.style.width = bar.getAttribute('data-percent') + '%';
    });
    // Times shown in the reader's own zone, short enough for a table cell; the full form on hover.
    root.querySelectorAll('time[data-local]').forEach(function (el) {
      const date = new Date(el.getAttribute('datetime'));
      if (isNaN(date.getTime())) return;
      el.textContent = date.toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZoneName: 'short',
      });
      el.title = date.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'long' });
    });
    // Times of day (the chart's scale and bars) in the reader's zone, 24-hour.
    root.querySelectorAll('[data-clock]').forEach(function (el) {
      const date = new Date(el.getAttribute('data-clock'));
      if (isNaN(date.getTime())) return;
      const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
      if (el.getAttribute('data-seconds') === 'true') options.second = '2-digit';
      if (el.hasAttribute('data-zone')) options.timeZoneName = 'short';
      el.textContent = date.toLocaleTimeString(undefined, options) + (el.getAttribute('data-after') || '');
    });
    // A second thought before the irreversible buttons.
    root.querySelectorAll('form[data-confirm]').forEach(function (form) {
      form.addEventListener('submit', function (event) {
        if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
      });
    });
  }
  enhance(document);

  // A table wider than its box scrolls sideways inside it: the keyboard must be able to scroll it too.
  function focusableWhenScrolling() {
    document.querySelectorAll('.scroll, table.grid').forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) box.setAttribute('tabindex', '0');
      else box.removeAttribute('tabindex');
    });
  }
  focusableWhenScrolling();
  window.addEventListener('resize', debounce(focusableWhenScrolling, 100));

  // A message preview as tall as the message, so the whole of it shows without a scrollbar of its own.
  document.querySelectorAll('iframe[data-fit-content]').forEach(function (frame) {
    function fit() {
      const doc = frame.contentDocument;
      if (doc && doc.documentElement) frame.style.height = doc.documentElement.scrollHeight + 2 + 'px';
    }
    frame.addEventListener('load', fit);
    fit();
  });

  // The send time's zone defaults to the browser's. A time already there (a saved draft's, in
  // UTC) moves with it, so that saving the page unchanged keeps the same moment.
  const zone = document.querySelector('select[data-auto-zone="true"]');
  if (zone) {
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (
      [].some.call(zone.options, function (o) {
        return o.value === mine;
      })
    ) {
      zone.value = mine;
      const at = document.getElementById('sendAtLocal');
      const moment = at && at.value ? new Date(at.value + 'Z') : null;
      if (moment && !isNaN(moment.getTime())) {
        const two = function (n) {
          return String(n).padStart(2, '0');
        };
        at.value =
          moment.getFullYear() +
          '-' +
          two(moment.getMonth() + 1) +
          '-' +
          two(moment.getDate()) +
          'T' +
          two(moment.getHours()) +
          ':' +
          two(moment.getMinutes());
      }
    }
  }

  // Live preview and recipient count while composing. One request at a time: on a large
  // audience each takes a while, and a later answer must never be overwritten by an earlier one.
  const compose = document.getElementById('compose');
  if (compose) {
    let inFlight = false;
    let again = false;
    const refreshNow = function () {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      fetch(compose.dataset.previewUrl, {
        method: 'POST',
        body: new URLSearchParams(new FormData(compose)),
        headers: { accept: 'application/json' },
      })
        .then(function (r) {
          return r.json();
        })
        .then(function (data) {
          document.getElementById('audience-count').textContent = data.count.toLocaleString('en-US');
          if (data.html) document.getElementById('preview').srcdoc = data.html;
          // Rendered and escaped by the server, the same markup the page was first served with.
          document.getElementById('field-names').innerHTML = data.fieldsHtml;
          document.getElementById('merge-warnings').innerHTML = data.warningsHtml;
        })
        .catch(function () {})
        .finally(function () {
          inFlight = false;
          if (again) {
            again = false;
            refreshNow();
          }
        });
    };
    const refresh = debounce(refreshNow, 400);
    compose.addEventListener('input', refresh);
    compose.addEventListener('change', refresh);
    refresh();
  }

  // Countdown to the scheduled send, for whichever countdowns the page shows now.
  function tickCountdowns() {
    document.querySelectorAll('[data-countdown]').forEach(function (el) {
      const s = Math.max(0, Math.round((new Date(el.getAttribute('data-countdown')).getTime() - Date.now()) / 1000));
      el.textContent = s > 0 ? '(in ' + Math.floor(s / 60) + ' min ' + (s % 60) + ' s)' : '(due now)';
    });
  }
  tickCountdowns();
  setInterval(tickCountdowns, 1000);

  // A campaign page follows its campaign: approvals, schedule, delivery and audit trail are swapped in
  // as the server renders them, until nothing more can change by itself.
  const live = document.querySelector('[data-live]');
  if (live) {
    const poll = function () {
      fetch(live.getAttribute('data-live'), { headers: { accept: 'application/json' }, cache: 'no-store' })
        .then(function (r) {
          if (!r.ok) throw new Error('status ' + r.status);
          return r.json();
        })
        .then(function (data) {
          Object.keys(data.fragments).forEach(function (name) {
            const part = live.querySelector('[data-fragment="' + name + '"]');
            if (part && shown[name] !== data.fragments[name]) {
              part.innerHTML = data.fragments[name];
              enhance(part);
            }
            shown[name] = data.fragments[name];
          });
          live.setAttribute('data-status', data.status);
          if (data.pollMs) setTimeout(poll, data.pollMs);
        })
        .catch(function () {
          setTimeout(poll, 5000);
        });
    };
    setTimeout(poll, Number(live.getAttribute('data-poll-ms')));
  }

  // A retraction's counts, live while its dry run or its run is under way.
  const retraction = document.querySelector('[data-live-retraction]');
  if (retraction) {
    const status = retraction.getAttribute('data-status');
    const poll = function () {
      fetch(retraction.getAttribute('data-live-retraction'), { headers: { accept: 'application/json' } })
        .then(function (r) {
          return r.json();
        })
        .then(function (data) {
          ['dryRun', 'outcomes'].forEach(function (group) {
            Object.keys(data[group]).forEach(function (key) {
              const cell = retraction.querySelector('[data-retraction-count="' + group + '.' + key + '"]');
              if (cell) cell.textContent = data[group][key].toLocaleString('en-US');
            });
          });
          if (data.status !== status) window.location.reload();
          else setTimeout(poll, 1000);
        })
        .catch(function () {
          setTimeout(poll, 3000);
        });
    };
    setTimeout(poll, 1000);
  }

  // A CSV file chosen for import is read into the text area.
  document.querySelectorAll('input[type=file][data-fills]').forEach(function (input) {
    input.addEventListener('change', function () {
      const file = input.files && input.files[0];
      if (file)
        file.text().then(function (text) {
          document.getElementById(input.dataset.fills).value = text;
        });
    });
  });
})();
