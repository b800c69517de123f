// The deal card and the new-deal form: pickers that ask the server (Tom Select) for clients and products.
// Set up on page load and again for every region htmx swaps in.
(function () {
  "use strict";

  // Tom Select's own words are English: the page gives them in the user's language.
  function escapeText(text) {
    const element = document.createElement("span");
    element.textContent = text;
    return element.innerHTML;
  }

  function setUpPicker(select) {
    if (select.tomselect) return;
    const url = select.dataset.pickerUrl;
    const minLength = parseInt(select.dataset.minLength || "3", 10);
    new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: [],  // the server already matched; do not filter its answers again
      placeholder: select.dataset.placeholder || "",
      allowEmptyOption: true,
      loadThrottle: 250,
      shouldLoad: (query) => query.trim().length >= minLength,
      render: {
        no_results: () => '<div class="no-results">' + escapeText(select.dataset.noResults || "") + "</div>",
        loading: () => '<div class="spinner-border spinner-border-sm m-2"></div>',
      },
      load: function (query, callback) {
        fetch(url + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
          .then((response) => response.json())
          .then((data) => callback(data.results))
          .catch(() => callback());
      },
    });
  }

  function setUp(root) {
    if (!window.TomSelect) return;
    root.querySelectorAll("select[data-picker-url]").forEach(setUpPicker);
  }

  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.target));
})();
