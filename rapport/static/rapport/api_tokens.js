// The API token screen: copy a new key to the clipboard and put the cursor on it.
// A file of its own, not an inline script: the content security policy forbids those.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const field = document.querySelector(button.dataset.copy);
    if (!field) return;
    copy(field).then(
      function () { flash(button, button.dataset.copied, "btn-success"); },
      function () { field.focus(); field.select(); flash(button, button.dataset.copyFailed, "btn-warning"); }
    );
  });

  function copy(field) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(field.value);
    // Plain http (a server on the office network): the clipboard API is missing, the old way still works.
    field.focus();
    field.select();
    try {
      return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function flash(button, text, css) {
    const label = button.querySelector("[data-copy-label]");
    if (!label || !text) return;
    if (!label.dataset.original) label.dataset.original = label.textContent;
    label.textContent = text;
    button.classList.add(css);
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(function () {
      label.textContent = label.dataset.original;
      button.classList.remove("btn-success", "btn-warning");
    }, 2500);
  }

  // A key that has just been made is selected, ready for Ctrl+C, after a full page load or an htmx swap;
  // once only, so later swaps elsewhere (the search box) keep their focus.
  function selectNewKey() {
    const key = document.getElementById("new-token-key");
    if (!key || key.dataset.selected) return;
    key.dataset.selected = "1";
    key.focus();
    key.select();
  }
  document.addEventListener("DOMContentLoaded", selectNewKey);
  document.addEventListener("htmx:afterSettle", selectNewKey);
})();
