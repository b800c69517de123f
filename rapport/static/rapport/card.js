// The client card and the merge page: pickers that ask the server (Tom Select), tags typed as chips.
// Set up on page load and again for every region htmx swaps in.
(function () {
  "use strict";

  // Tom Select's own words are English: the page gives them in the user's language.
  function escapeText(text) {
    const element = document.createElement("span");
    element.textContent = text;
    return element.innerHTML;
  }

  function setUpCompanyPicker(select) {
    if (select.tomselect) return;
    const url = select.dataset.autocompleteUrl;
    new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: [],  // the server already matched; do not filter its answers again
      placeholder: select.dataset.placeholder || "",
      allowEmptyOption: true,
      loadThrottle: 250,
      shouldLoad: (query) => query.trim().length >= 3,
      render: {
        no_results: () => '<div class="no-results">' + escapeText(select.dataset.noResults || "") + "</div>",
        loading: () => '<div class="spinner-border spinner-border-sm m-2"></div>',
      },
      load: function (query, callback) {
        const exclude = select.dataset.exclude ? "&exclude=" + encodeURIComponent(select.dataset.exclude) : "";
        fetch(url + "?q=" + encodeURIComponent(query) + exclude, { headers: { Accept: "application/json" } })
          .then((response) => response.json())
          .then((data) => callback(data.results))
          .catch(() => callback());
      },
    });
  }

  function setUpTags(input) {
    if (input.tomselect) return;
    const list = document.getElementById(input.getAttribute("list"));
    const options = list ? Array.from(list.options).map((option) => ({ value: option.value, text: option.value })) : [];
    input.removeAttribute("list");
    new TomSelect(input, {
      options: options,
      create: true,
      persist: false,
      delimiter: ",",
      createOnBlur: true,
      maxOptions: 50,
      render: {
        option_create: (data, escape) =>
          '<div class="create">' + escapeText(input.dataset.addLabel || "+") + " <strong>" + escape(data.input) + "</strong></div>",
        no_results: () => null,
      },
    });
  }

  function setUp(root) {
    if (!window.TomSelect) return;
    root.querySelectorAll("select[data-autocomplete-url]").forEach(setUpCompanyPicker);
    root.querySelectorAll("input[data-tags]").forEach(setUpTags);
    // Buttons needed only without JavaScript (e.g. tags save on change).
    root.querySelectorAll(".js-hide").forEach((element) => element.classList.add("d-none"));
  }

  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.target));
})();
