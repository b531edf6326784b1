// Form builder: shows the slug a new form will get as its name is typed, and copies the
// share snippets. Loaded as a file: the CSP allows no inline scripts or event handlers.
"use strict";

(() => {
  // Close to django.utils.text.slugify, which makes the slug when the field is left empty.
  const slugify = (text) =>
    text
      .normalize("NFKD")
      .replace(/[^\x00-\x7f]/g, "")
      .toLowerCase()
      .replace(/[^\w\s-]/g, "")
      .replace(/[\s_-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 70)
      .replace(/-+$/, "");

  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.name !== "name" || !input.form) {
      return;
    }
    const slug = input.form.elements.namedItem("slug");
    if (slug instanceof HTMLInputElement && slug.dataset.suggest !== undefined) {
      slug.placeholder = slugify(input.value) || "made from the name";
    }
  });

  const say = (button, text) => {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = text;
    window.setTimeout(() => {
      button.textContent = label;
    }, 2000);
  };

  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    const source = button ? document.getElementById(button.dataset.copy) : null;
    if (!button || !source) {
      return;
    }
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      say(button, "Copied");
    } catch {
      // No clipboard access (e.g. plain http): select the text for Ctrl+C instead.
      window.getSelection().selectAllChildren(source);
      say(button, "Selected: press Ctrl+C");
    }
  });
})();
