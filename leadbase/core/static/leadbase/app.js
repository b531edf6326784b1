// Leadbase: small enhancements on top of htmx. Loaded as a file: the CSP allows no inline
// scripts or event handlers.
"use strict";

// Scripts run: what is there only for browsers without them (e.g. "Apply filters", as the
// filters apply as you type) can go.
document.documentElement.classList.add("js");

// A filter form marked data-drop-empty sends only the filters that are set, so the URL that
// htmx pushes (and people bookmark) reads /?q=anna&temperature=hot, not a list of blanks.
document.addEventListener("htmx:configRequest", (event) => {
  const detail = event.detail;
  if (detail.verb !== "get" || !detail.elt.matches("form[data-drop-empty]")) {
    return;
  }
  for (const [name, value] of Array.from(detail.formData.entries())) {
    if (value === "") {
      detail.formData.delete(name);
    }
  }
});
