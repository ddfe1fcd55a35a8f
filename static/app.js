// Opsdesk's small script (no inline script: the CSP forbids it).
// - htmx requests carry the session's CSRF token in a header;
// - keyboard shortcuts: "g h" home, "g a" admin, "?" help.
(function () {
  "use strict";
  var csrf = document.body && document.body.getAttribute("data-csrf");
  document.addEventListener("htmx:configRequest", function (e) {
    if (csrf) { e.detail.headers["X-CSRF-Token"] = csrf; }
  });

  var pending = null;
  var routes = { h: "/", a: "/admin", t: "/tickets", n: "/tickets/new" };
  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    var help = document.getElementById("shortcuts");
    if (e.key === "?") {
      if (help && help.showModal && !help.open) { help.showModal(); }
      e.preventDefault();
      return;
    }
    if (e.key === "/" && document.getElementById("q")) {
      document.getElementById("q").focus();
      e.preventDefault();
      return;
    }
    if (e.key === "r" && pending !== "g" && document.getElementById("body")) {
      document.getElementById("body").focus();
      e.preventDefault();
      return;
    }
    if (pending === "g" && routes[e.key]) {
      window.location.assign(routes[e.key]);
      pending = null;
      return;
    }
    pending = e.key === "g" ? "g" : null;
  });
})();
