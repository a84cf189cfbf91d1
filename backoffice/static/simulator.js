// The simulator plays the client: it posts the form to /simulador/enviar (the same engine as a
// webhook) and polls /simulador/mensajes for the conversation as the client sees it. Every text is
// put in the page with textContent: what the client or the bot wrote is never parsed as HTML.
(function () {
  "use strict";
  function setup(section) {
    var form = section.querySelector("form");
    var list = section.querySelector("ol.chat");
    var channel = section.getAttribute("data-channel");
    var base = section.getAttribute("data-messages");
    var every = parseInt(section.getAttribute("data-poll-ms"), 10) || 2000;
    var shown = "";

    function address() { return form.querySelector("input.address").value.trim(); }

    function render(messages) {
      var key = messages.map(function (m) { return m.id; }).join(",");
      if (key === shown) { return; }
      shown = key;
      list.textContent = "";
      messages.forEach(function (m) {
        var li = document.createElement("li");
        li.className = "bubble " + (m.direction === "in" ? "mine" : "theirs");
        li.setAttribute("data-author", m.author);
        var body = document.createElement("div");
        body.className = "text";
        body.textContent = m.body;
        li.appendChild(body);
        m.files.forEach(function (name) {
          var file = document.createElement("div");
          file.className = "file";
          file.textContent = "📎 " + name;
          li.appendChild(file);
        });
        list.appendChild(li);
      });
      list.scrollTop = list.scrollHeight;
    }

    function poll() {
      var url = base + "?canal=" + encodeURIComponent(channel) + "&direccion=" + encodeURIComponent(address());
      return fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.messages) { render(data.messages); } })
        .catch(function () {});
    }

    function loop() { poll().finally(function () { window.setTimeout(loop, every); }); }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) {
          if (r.ok) {
            form.querySelectorAll("input[name=texto], textarea[name=texto], input[type=file]")
              .forEach(function (el) { el.value = ""; });
            section.setAttribute("data-sent", String(Date.now()));
          }
          return poll();
        });
    });
    form.querySelector("input.address").addEventListener("change", function () { shown = ""; poll(); });
    loop();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("section[data-channel]").forEach(setup);
  });
})();
