// overclaim page: keyboard submit and a size check before sending. The page works without it
// (the service checks the size itself and gives the text back with its error); this only saves
// a round trip and lets Ctrl+Enter (Cmd+Enter on a Mac) submit from any field.
"use strict";

(function () {
  const form = document.querySelector("form.oc-form");
  if (!form) return;
  const maxBytes = Number(form.dataset.maxBytes) || 0;
  const names = { headline: "The headline", body: "The article", html_file: "The HTML file", url: "The address" };

  function size(bytes, limit) {
    // As the service writes it (overclaim.web.page.human_size): MB and KB of 1,000, one decimal,
    // more when one decimal would read the same as the limit.
    for (const [unit, scale] of [["MB", 1e6], ["KB", 1e3]]) {
      if (bytes >= scale) {
        let text = (bytes / scale).toFixed(1).replace(/\.0$/, "");
        if (limit !== undefined && bytes !== limit && text + " " + unit === size(limit)) {
          text = (bytes / scale).toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
        }
        return text + " " + unit;
      }
    }
    return bytes + " bytes";
  }

  function showError(name, message) {
    const note = document.getElementById(name + "-error");
    const field = document.getElementById(name);
    if (!note || !field) return;
    note.textContent = message;
    note.hidden = false;
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }

  function clearErrors() {
    for (const note of form.querySelectorAll(".oc-field-error")) {
      note.hidden = true;
      note.textContent = "";
    }
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  }

  form.addEventListener("submit", function (event) {
    if (!maxBytes) return;
    const encoder = new TextEncoder();
    const sizes = {};
    for (const name of ["headline", "body", "url"]) {
      const field = form.elements.namedItem(name);
      sizes[name] = field ? encoder.encode(field.value).length : 0;
    }
    const file = form.elements.namedItem("html_file");
    sizes.html_file = file && file.files && file.files[0] ? file.files[0].size : 0;
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    if (total <= maxBytes) return;
    event.preventDefault();
    clearErrors();
    const biggest = Object.keys(sizes).reduce((a, b) => (sizes[b] > sizes[a] ? b : a));
    const what = biggest === "html_file" ? names[biggest] + " is too large" : names[biggest] + " is too long";
    showError(biggest, what + ": " + size(sizes[biggest], maxBytes) + ", the limit is " + size(maxBytes) + ".");
  });

  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
      event.preventDefault();
      // requestSubmit runs the form's checks and its submit handlers, as the button does.
      if (form.requestSubmit) form.requestSubmit(document.getElementById("check"));
      else form.submit();
    }
  });
})();
