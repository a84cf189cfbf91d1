// Live regions: a [data-live] element names a URL returning {"regions": {id: html}}; every
// data-poll-ms the page asks again and replaces a region whose HTML changed. The HTML is rendered
// by the server's autoescaping templates, exactly as on a full page load. Polling reads the
// database, so it works whichever web process answers.
(function () {
  "use strict";
  // A conversation reads from the bottom: keep the newest message in view.
  function toLatest(el) {
    el.querySelectorAll("ol.timeline").forEach(function (list) { list.scrollTop = list.scrollHeight; });
  }
  function start(root) {
    var url = root.getAttribute("data-live");
    var every = parseInt(root.getAttribute("data-poll-ms"), 10) || 2000;
    var last = {};
    root.querySelectorAll("[data-region]").forEach(function (el) { last[el.id] = null; });
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data || !data.regions) { return; }
          Object.keys(data.regions).forEach(function (id) {
            var el = document.getElementById(id);
            var html = data.regions[id];
            if (!el || last[id] === html) { return; }
            // Never replace a region the person is typing in; the next tick tries again.
            if (el.contains(document.activeElement) && document.activeElement !== document.body) { return; }
            el.innerHTML = html;
            el.setAttribute("data-updated", String(Date.now()));
            toLatest(el);
            last[id] = html;
          });
        })
        .catch(function () { /* offline for a moment: try again on the next tick */ })
        .finally(function () { window.setTimeout(tick, every); });
    }
    window.setTimeout(tick, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(start);
    toLatest(document);
  });
})();

// The reply box: drafts survive any other action on the page (every action is a form post that
// reloads it), Ctrl+Enter sends, and a canned response is inserted where the cursor is.
(function () {
  "use strict";
  var PREFIX = "postventa-draft:";
  function restore(box) {
    var saved = window.sessionStorage.getItem(PREFIX + box.getAttribute("data-draft"));
    if (saved && !box.value) { box.value = saved; }
  }
  function save(box) {
    var key = PREFIX + box.getAttribute("data-draft");
    if (box.value) { window.sessionStorage.setItem(key, box.value); } else { window.sessionStorage.removeItem(key); }
  }
  function insert(box, text) {
    var start = box.selectionStart, end = box.selectionEnd, value = box.value;
    var before = value.slice(0, start), after = value.slice(end);
    var gap = before && !/\s$/.test(before) ? " " : "";
    box.value = before + gap + text + after;
    box.selectionStart = box.selectionEnd = (before + gap + text).length;
    box.focus();
    save(box);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-draft]").forEach(restore);
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-draft]")) { save(event.target); }
  });
  document.addEventListener("submit", function (event) {
    // The draft is sent: forget it (the form's own box only; other boxes keep theirs).
    event.target.querySelectorAll("textarea[data-draft]").forEach(function (box) {
      window.sessionStorage.removeItem(PREFIX + box.getAttribute("data-draft"));
    });
  });
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && box.matches &&
        box.matches("textarea[data-submit-on-ctrl-enter]") && box.form && box.value.trim()) {
      event.preventDefault();
      box.form.requestSubmit();
    }
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-insert-into]") || !select.value) { return; }
    var box = document.getElementById(select.getAttribute("data-insert-into"));
    if (box) { insert(box, select.value); }
    select.value = "";
  });
})();

// The tab title counts what waits for this person (unanswered messages, open tasks), so a
// background tab says so; [data-attention] is rendered by the server in a live region.
(function () {
  "use strict";
  var base = document.title;
  function update() {
    var marker = document.querySelector("[data-attention]");
    if (!marker) { return; }
    var n = parseInt(marker.getAttribute("data-attention"), 10) || 0;
    document.title = n > 0 ? "(" + n + ") " + base : base;
  }
  document.addEventListener("DOMContentLoaded", function () {
    update();
    new MutationObserver(update).observe(document.body, { childList: true, subtree: true });
  });
})();
