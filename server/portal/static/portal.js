// printdock portal: progressive enhancement only. Every page works without this script.
(function () {
  "use strict";

  function copyText(input, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2000);
    };
    var fallback = function () {
      input.focus();
      input.select();
      try {
        if (document.execCommand("copy")) { done(); return; }
      } catch (e) { /* fall through: the text stays selected for Ctrl+C */ }
      button.textContent = "Press Ctrl+C";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  function setupCopy() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) { return; }
      button.hidden = false;
      button.addEventListener("click", function () { copyText(input, button); });
    });
    document.querySelectorAll("input.secret").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  // Refresh the "connected" dots of the print client list while the page is open.
  function setupLiveDots() {
    var dots = document.querySelectorAll("[data-connected]");
    if (!dots.length || !window.fetch) { return; }
    var refresh = function () {
      if (document.hidden) { return; }
      fetch("/keys/status", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !data.connected) { return; }
          dots.forEach(function (dot) {
            var on = !!data.connected[dot.getAttribute("data-connected")];
            dot.classList.toggle("dot-on", on);
            dot.title = on ? "Connected now" : "Not connected";
          });
          // "Check this key": has an agent connected since the key was created or activated?
          document.querySelectorAll("[data-checked]").forEach(function (el) {
            var ok = data.checked && data.checked[el.getAttribute("data-checked")];
            el.textContent = ok ? "agent connected since activation" : "waiting for an agent";
            el.classList.toggle("ok", !!ok);
          });
        })
        .catch(function () { /* offline or signed out: keep the last state */ });
    };
    setInterval(refresh, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupCopy();
    setupLiveDots();
  });
})();
