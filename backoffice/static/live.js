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
