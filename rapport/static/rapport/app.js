// Rapport's small behaviours. No inline scripts: the content security policy forbids them.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      // Validation errors come back as 422 with the form re-rendered: swap them in like a 200.
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "422", swap: true, error: false },
        { code: "[45]..", swap: false, error: true },
      ];
    }
    setUpGlobalSearch();
  });

  // The shell's search box: results drop down as you type; arrows move, Enter opens, Escape closes.
  function setUpGlobalSearch() {
    const form = document.querySelector("[data-search-box]");
    if (!form) return;
    const input = form.querySelector("input[name=q]");
    const panel = form.querySelector(".search-results");

    const hits = () => Array.from(panel.querySelectorAll("a.search-hit"));
    const open = () => panel.classList.toggle("show", input.value.trim().length > 0 && panel.children.length > 0);
    const close = () => panel.classList.remove("show");
    const move = (step) => {
      const list = hits();
      if (!list.length) return;
      const index = list.indexOf(document.activeElement);
      const next = index + step;
      if (next < 0) { input.focus(); return; }
      list[Math.min(next, list.length - 1)].focus();
    };

    panel.addEventListener("htmx:afterSwap", open);
    input.addEventListener("focus", open);
    form.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Escape") {
        // The first Escape closes the results and keeps what was typed; the next one clears it (as search inputs do).
        if (panel.classList.contains("show")) { event.preventDefault(); input.focus(); close(); }
      }
    });
    document.addEventListener("click", function (event) {
      if (!form.contains(event.target)) close();
    });
    // "/" focuses the search box from anywhere, as in most web apps.
    document.addEventListener("keydown", function (event) {
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
      if (event.key === "/" && !typing) { event.preventDefault(); input.focus(); input.select(); }
    });
  }
})();
