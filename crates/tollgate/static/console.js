// Small progressive enhancements for the console; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: data-copy="<id of the element whose text to copy>".
  document.querySelectorAll("[data-copy]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const el = document.getElementById(btn.dataset.copy);
      if (!el) return;
      try {
        await navigator.clipboard.writeText(el.textContent.trim());
        const old = btn.textContent;
        btn.textContent = "Copied";
        setTimeout(() => { btn.textContent = old; }, 1500);
      } catch (_) {
        const r = document.createRange();
        r.selectNodeContents(el);
        const s = window.getSelection();
        s.removeAllRanges();
        s.addRange(r);
      }
    });
  });
  // Redirection URL rows: add and remove.
  const box = document.querySelector("#redirect-uris [data-rows]");
  const add = document.querySelector("#redirect-uris [data-add-row]");
  if (box && add) {
    const wire = (row) => {
      const rm = row.querySelector("[data-remove-row]");
      if (rm) rm.addEventListener("click", () => {
        if (box.children.length > 1) row.remove(); else row.querySelector("input").value = "";
      });
    };
    Array.from(box.children).forEach(wire);
    add.addEventListener("click", () => {
      const first = box.children[0];
      const row = first.cloneNode(true);
      const input = row.querySelector("input");
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      input.setAttribute("aria-label", "Redirection URL " + (box.children.length + 1));
      row.querySelectorAll(".field-error").forEach((e) => e.remove());
      box.appendChild(row);
      wire(row);
      input.focus();
    });
  }
  // A box that does not apply (Never expires, Unlimited) is disabled while its choice is
  // made; without JavaScript the server ignores it instead.
  document.querySelectorAll("[data-disables], [data-enables]").forEach((radio) => {
    const sync = () => {
      const off = document.querySelector("[data-disables='" + (radio.dataset.disables || radio.dataset.enables) + "']");
      const box = document.getElementById(radio.dataset.disables || radio.dataset.enables);
      if (box && off) box.disabled = off.checked;
    };
    radio.addEventListener("change", sync);
    sync();
  });
  // After a secret was shown, a reload must not show it again (or resubmit the form).
  const secret = document.getElementById("secret-box");
  if (secret && secret.dataset.clientPath) {
    history.replaceState(null, "", secret.dataset.clientPath);
  }
});
