// The client lists: the column chooser and the selection for bulk actions.
// No inline scripts (the content security policy forbids them); htmx does the requests.
(function () {
  "use strict";

  // Column checkboxes sit outside the filter form (in the table's header) but belong to it
  // through their form= attribute; a change there does not bubble to the form, so submit it.
  document.addEventListener("change", function (event) {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.matches("[data-list-column]") && target.form) {
      target.form.requestSubmit();
      return;
    }
    const form = target.closest("[data-bulk-form]");
    if (!form) return;
    if (target.matches("[data-bulk-page]")) {
      form.querySelectorAll("[data-bulk-row]").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-bulk-row]") && !target.checked) {
      const all = form.querySelector("[data-bulk-all]");
      if (all) all.checked = false;
    }
    updateSelection(form);
  });

  function updateSelection(form) {
    const rows = Array.from(form.querySelectorAll("[data-bulk-row]"));
    const chosen = rows.filter(function (box) { return box.checked; }).length;
    const bar = form.querySelector("[data-bulk-bar]");
    const count = form.querySelector("[data-bulk-count]");
    const page = form.querySelector("[data-bulk-page]");
    const allLabel = form.querySelector("[data-bulk-all-label]");
    if (bar) bar.hidden = chosen === 0;
    if (count) count.textContent = String(chosen);
    if (page) {
      page.checked = rows.length > 0 && chosen === rows.length;
      page.indeterminate = chosen > 0 && chosen < rows.length;
    }
    // "All matching the filters" is offered once the whole page is selected.
    if (allLabel) allLabel.hidden = !(rows.length > 0 && chosen === rows.length);
  }

  // A bulk action on nothing selected would only come back with an error: say it here.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-bulk-form]")) return;
    const all = form.querySelector("[data-bulk-all]");
    const any = form.querySelector("[data-bulk-row]:checked");
    if (!any && !(all && all.checked)) event.preventDefault();
  });
})();
