// The calendar: drag a planned activity's card to another day or hour to move it (HTML5 drag and
// drop). The server answers with the card redrawn, or with the reason it refused, and then the
// card goes back where it was. A click on an empty slot is a plain link (plan an activity then).
(function () {
  "use strict";

  let dragging = null; // { card, list, next } while a card is in the air

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function showMessage(text) {
    const box = document.getElementById("calendar-message");
    if (!box) return;
    box.querySelector("[data-calendar-message-text]").textContent = text;
    box.hidden = false;
  }

  function hideMessage() {
    const box = document.getElementById("calendar-message");
    if (box) box.hidden = true;
  }

  function putBack(origin) {
    const next = origin.next && origin.next.parentNode === origin.list ? origin.next : null;
    origin.list.insertBefore(origin.card, next);
  }

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  // The new due time, as a datetime-local input writes it: the cell's day, the cell's hour (a
  // week or a day) or the card's own (a month), and the card's minutes.
  function dueAt(cell, card) {
    const time = (card.dataset.time || "09:00").split(":");
    const hour = cell.dataset.hour !== undefined ? pad(cell.dataset.hour) : time[0];
    return cell.dataset.date + "T" + hour + ":" + time[1];
  }

  function cellOf(target) {
    return target && target.closest ? target.closest(".calendar-cell") : null;
  }

  function move(calendar, origin, cell) {
    const card = origin.card;
    const body = new URLSearchParams({ due_at: dueAt(cell, card), version: card.dataset.version || "" });
    card.classList.add("calendar-card-saving");
    hideMessage();
    fetch(card.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
    })
      .then(function (response) {
        return response.text().then(function (text) {
          card.classList.remove("calendar-card-saving");
          if (response.ok) {
            const template = document.createElement("template");
            template.innerHTML = text.trim();
            const redrawn = template.content.firstElementChild;
            if (redrawn) card.replaceWith(redrawn);
            return;
          }
          putBack(origin);
          const readable = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0 && text.trim();
          showMessage(readable ? text.trim() : calendar.dataset.errorGeneric);
        });
      })
      .catch(function () {
        card.classList.remove("calendar-card-saving");
        putBack(origin);
        showMessage(calendar.dataset.errorNetwork);
      });
  }

  function clearTargets(calendar) {
    calendar.querySelectorAll(".calendar-drop-target").forEach(function (cell) {
      cell.classList.remove("calendar-drop-target");
    });
  }

  function setUp(calendar) {
    calendar.addEventListener("dragstart", function (event) {
      const card = event.target.closest && event.target.closest("[data-move-url]");
      if (!card) return;
      dragging = { card: card, list: card.parentNode, next: card.nextElementSibling };
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.activity);
      card.classList.add("calendar-card-dragging");
    });
    calendar.addEventListener("dragend", function () {
      if (dragging) dragging.card.classList.remove("calendar-card-dragging");
      dragging = null;
      clearTargets(calendar);
    });
    calendar.addEventListener("dragover", function (event) {
      const cell = cellOf(event.target);
      if (!dragging || !cell) return;
      event.preventDefault(); // allows the drop
      event.dataTransfer.dropEffect = "move";
      if (!cell.classList.contains("calendar-drop-target")) {
        clearTargets(calendar);
        cell.classList.add("calendar-drop-target");
      }
    });
    calendar.addEventListener("drop", function (event) {
      const cell = cellOf(event.target);
      const origin = dragging;
      if (!origin || !cell) return;
      event.preventDefault();
      clearTargets(calendar);
      origin.card.classList.remove("calendar-card-dragging");
      dragging = null;
      const list = cell.querySelector("[data-cards]");
      if (!list || list === origin.list) return;
      list.appendChild(origin.card);
      move(calendar, origin, cell);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const calendar = document.querySelector("[data-calendar]");
    if (calendar) setUp(calendar);
    const close = document.querySelector("[data-calendar-message-close]");
    if (close) close.addEventListener("click", hideMessage);
    // Whose calendar: shown as soon as it is chosen (the button is there for browsers without JavaScript).
    const person = document.querySelector("[data-calendar-person]");
    if (person) person.addEventListener("change", function () { person.requestSubmit(); });
  });
})();
