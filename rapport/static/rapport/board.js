// The board: drag a card to another column to move the deal (SortableJS); the server answers with
// both columns redrawn, or with the reason it refused, and then the card goes back where it was.
// Dropping on a lost column first asks why. Without JavaScript the board is still a readable page.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function showMessage(board, text) {
    const box = document.getElementById("board-message");
    if (!box) return;
    box.querySelector("[data-board-message-text]").textContent = text;
    box.hidden = false;
  }

  function hideMessage() {
    const box = document.getElementById("board-message");
    if (box) box.hidden = true;
  }

  // Where a card was before the drag, to put it back if the move is refused.
  function putBack(origin) {
    const next = origin.next && origin.next.parentNode === origin.list ? origin.next : null;
    origin.list.insertBefore(origin.card, next);
  }

  // Ask for the reason a deal was lost; resolves with the form's fields, or null when cancelled.
  function askLostReason() {
    const dialog = document.getElementById("lost-dialog");
    if (!dialog) return Promise.resolve(null);
    const form = dialog.querySelector("form");
    form.reset();
    return new Promise(function (resolve) {
      let answer = null;
      function onSubmit(event) {
        event.preventDefault();
        if (!form.reportValidity()) return;
        answer = { lost_reason: form.elements.lost_reason.value, lost_note: form.elements.lost_note.value };
        dialog.close();
      }
      function onCancel() { dialog.close(); }
      function onClose() {
        form.removeEventListener("submit", onSubmit);
        cancel.removeEventListener("click", onCancel);
        dialog.removeEventListener("close", onClose);
        resolve(answer);
      }
      const cancel = form.querySelector("[data-lost-cancel]");
      form.addEventListener("submit", onSubmit);
      cancel.addEventListener("click", onCancel);
      dialog.addEventListener("close", onClose);
      dialog.showModal();
      form.elements.lost_reason.focus();
    });
  }

  // The answer holds both columns' headers and "more" links, and the card: each replaces the element with its id.
  function replaceParts(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    Array.from(template.content.children).forEach(function (part) {
      const old = part.id && document.getElementById(part.id);
      if (old) old.replaceWith(part);
    });
  }

  function cardsIn(list) {
    return String(list.querySelectorAll("[data-deal]").length);
  }

  function move(board, origin, stage, extra) {
    const card = origin.card;
    const fields = {
      stage: stage,
      version: card.dataset.version,
      cards_from: cardsIn(origin.list),
      cards_to: cardsIn(card.parentNode),
    };
    const body = new URLSearchParams(Object.assign(fields, extra || {}));
    const query = board.dataset.query ? "?" + board.dataset.query : "";
    card.classList.add("board-card-saving");
    hideMessage();
    return fetch(card.dataset.moveUrl + query, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
    })
      .then(function (response) {
        return response.text().then(function (text) {
          card.classList.remove("board-card-saving");
          if (response.ok) {
            replaceParts(text);
            return;
          }
          putBack(origin);
          const readable = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0 && text.trim();
          showMessage(board, readable ? text.trim() : board.dataset.errorGeneric);
        });
      })
      .catch(function () {
        card.classList.remove("board-card-saving");
        putBack(origin);
        showMessage(board, board.dataset.errorNetwork);
      });
  }

  function setUpList(board, list) {
    if (!window.Sortable || Sortable.get(list)) return;
    let origin = null;
    Sortable.create(list, {
      group: "deals",
      draggable: "[data-movable]",
      sort: false, // the server orders a column: latest in the stage first
      animation: 120,
      // Mouse and touch events instead of the browser's drag and drop: the same on every device
      // (and in tests); a short hold on touch screens, so a swipe still scrolls the board.
      forceFallback: true,
      fallbackTolerance: 4,
      delay: 150,
      delayOnTouchOnly: true,
      onStart: function (event) {
        origin = { card: event.item, list: event.from, next: event.item.nextElementSibling };
      },
      onEnd: function (event) {
        const from = origin;
        origin = null;
        if (!from || event.to === event.from) {
          if (from) putBack(from);
          return;
        }
        const target = event.to;
        if (target.dataset.kind === "lost") {
          askLostReason().then(function (answer) {
            if (answer) move(board, from, target.dataset.stage, answer);
            else putBack(from);
          });
          return;
        }
        move(board, from, target.dataset.stage);
      },
    });
  }

  function setUp() {
    const board = document.querySelector("[data-board]");
    if (board) board.querySelectorAll("[data-board-cards]").forEach(function (list) { setUpList(board, list); });
    const close = document.querySelector("[data-board-message-close]");
    if (close) close.addEventListener("click", hideMessage);
    // The filters apply as soon as one changes; the button is there for browsers without JavaScript.
    const filters = document.querySelector("[data-board-filters]");
    if (filters) {
      filters.addEventListener("change", function () { filters.requestSubmit(); });
    }
  }

  document.addEventListener("DOMContentLoaded", setUp);
  // The won and lost columns arrive just after the page (htmx swaps them in): their lists become drop targets too.
  document.addEventListener("htmx:load", function (event) {
    const board = document.querySelector("[data-board]");
    const root = event.target;
    if (!board || !root.querySelectorAll) return;
    const lists = root.matches("[data-board-cards]") ? [root] : Array.from(root.querySelectorAll("[data-board-cards]"));
    lists.forEach(function (list) { setUpList(board, list); });
  });
})();
