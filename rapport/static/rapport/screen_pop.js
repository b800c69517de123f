// The screen-pop: the call ringing at my extension, pushed by the server (server-sent events), polled where a
// stream cannot be held. Any web process answers both from the database, so it works behind several processes.
(() => {
  const box = document.getElementById("screen-pop");
  if (!box) return;
  const POLL_MS = 750; // with the answer's own time, a ring shows within a second
  let closedCall = null; // the call whose panel the person closed: not shown again
  let polling = false;

  const show = (html) => {
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const card = holder.querySelector("#screen-pop-card");
    if (card && card.dataset.call === closedCall) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(...holder.childNodes);
    if (window.htmx) window.htmx.process(box);
  };

  box.addEventListener("click", (event) => {
    if (!event.target.closest("[data-screen-pop-close]")) return;
    const card = box.querySelector("#screen-pop-card");
    closedCall = card ? card.dataset.call : null;
    box.replaceChildren();
  });

  // A person without an extension is not asked again on every page for a while (an admin may give them one).
  const NO_EXTENSION = "rapport.screenPop.noExtensionSince";
  const REMEMBER_MS = 10 * 60 * 1000;
  const noExtensionSince = Number(sessionStorage.getItem(NO_EXTENSION) || 0);
  const takesNoCalls = Date.now() - noExtensionSince < REMEMBER_MS;

  // 286 (htmx's "stop polling"): this person has no extension; anything else but 200 is tried again later.
  const poll = () => {
    polling = true;
    fetch(box.dataset.pollUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then((response) => {
        if (response.status === 286) {
          sessionStorage.setItem(NO_EXTENSION, String(Date.now()));
          return null;
        }
        return response.ok ? response.text() : "";
      })
      .then((html) => {
        if (html === null) return;
        if (html) show(html);
        setTimeout(poll, POLL_MS);
      })
      .catch(() => setTimeout(poll, POLL_MS * 4));
  };

  // Click-to-call: a tel: link asks the PBX to ring my phone, then the client. Where my PBX cannot (204), or
  // Rapport cannot be reached, the link does what it always does: the device's own dialler.
  const notice = (text, kind) => {
    const card = document.createElement("div");
    card.className = `alert alert-${kind} shadow-lg mb-0`;
    card.id = "click-to-call-notice";
    card.setAttribute("role", "status");
    card.textContent = text;
    box.replaceChildren(card);
    setTimeout(() => card.remove(), 10000);
  };
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest('a[href^="tel:"]');
    if (!link || !box.dataset.callUrl || event.defaultPrevented) return;
    event.preventDefault();
    fetch(box.dataset.callUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ number: link.getAttribute("href").slice(4) }),
    })
      .then((response) => {
        if (response.status === 204) {
          window.location.href = link.href;
          return null;
        }
        return response.json().then((answer) => notice(answer.detail, response.ok ? "info" : "danger"));
      })
      .catch(() => {
        window.location.href = link.href;
      });
  });

  if (takesNoCalls) return;
  if (!("EventSource" in window) || box.dataset.mode === "poll") {
    poll();
    return;
  }
  const stream = new EventSource(box.dataset.streamUrl);
  stream.addEventListener("pop", (event) => show(event.data));
  stream.addEventListener("error", () => {
    // Closed for good (a 204 for no extension, an error answer, a proxy that will not stream): poll instead;
    // the first poll stops at once for a person without an extension.
    if (stream.readyState === EventSource.CLOSED && !polling) poll();
  });
})();
