/*
 * Leadbase form embed. Served as /f/<slug>/embed.js with the form's configuration in place
 * of the placeholder at the bottom; put on any page with
 *
 *   <script src="https://leadbase.example/f/<slug>/embed.js" async></script>
 *
 * It renders the form into the element with data-leadbase-form="<slug>" when the page has
 * one, else right after the script tag, and posts it with fetch (CORS, no cookies).
 * It builds the DOM with createElement/textContent only (no innerHTML, no eval, no inline
 * styles in markup), so it runs under a strict Content-Security-Policy that allows the
 * Leadbase origin in script-src and connect-src (and style-src for its stylesheet).
 * Its only global is window.leadbase (shared with the tracking script): leadbase.forms.
 */
(function (config) {
  "use strict";
  if (!config || typeof document === "undefined") {
    return;
  }
  var script = document.currentScript;
  if (!script) {
    var scripts = document.querySelectorAll("script[src]");
    for (var s = 0; s < scripts.length; s++) {
      if (scripts[s].src.indexOf(config.path + "/embed.js") !== -1) {
        script = scripts[s];
      }
    }
  }
  var origin = script ? new URL(script.src, location.href).origin : location.origin;
  var ns = (window.leadbase = window.leadbase || {});
  ns.forms = ns.forms || { instances: [] };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, name) && attrs[name] !== null) {
          node.setAttribute(name, attrs[name]);
        }
      }
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function hide(node) {
    // CSSOM writes are not inline styles in markup: allowed under a strict CSP.
    node.style.position = "absolute";
    node.style.left = "-10000px";
    node.style.width = "1px";
    node.style.height = "1px";
    node.style.overflow = "hidden";
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].trim().split("=");
      if (pair[0] === name) {
        try {
          return decodeURIComponent(pair.slice(1).join("="));
        } catch (e) {
          return "";
        }
      }
    }
    return "";
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function addStylesheet() {
    if (!config.stylesheet || document.querySelector("link[data-leadbase-css]")) {
      return;
    }
    var link = el("link", {
      rel: "stylesheet",
      href: new URL(config.stylesheet, origin).href,
      "data-leadbase-css": "",
    });
    (document.head || document.documentElement).appendChild(link);
  }

  function findTarget() {
    var nodes = document.querySelectorAll("[data-leadbase-form]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (node.getAttribute("data-leadbase-form") === config.slug && !node.leadbaseForm) {
        return node;
      }
    }
    return null;
  }

  function render(container) {
    var number = ns.forms.instances.length + 1;
    var prefix = "lb-" + config.slug + "-" + number + "-";
    var params = new URLSearchParams(location.search);
    var form = el("form", { class: "lb-form", action: origin + config.path, method: "post" });
    var alert = el("div", { class: "lb-alert", role: "alert" });
    alert.hidden = true;
    form.appendChild(alert);
    var inputs = {};
    var errorNodes = {};

    function field(spec) {
      var id = prefix + spec.name;
      var input;
      if (spec.kind === "hidden") {
        input = el("input", { type: "hidden", name: spec.name });
        input.value = params.get(spec.name) || spec.value || "";
        form.appendChild(input);
        inputs[spec.name] = input;
        return;
      }
      var wrap = el("div", { class: "lb-field" + (spec.kind === "checkbox" ? " lb-field-checkbox" : "") });
      var label = el("label", { for: id }, spec.label);
      if (spec.required) {
        label.appendChild(document.createTextNode(" "));
        label.appendChild(el("span", { class: "lb-required", "aria-hidden": "true" }, "*"));
      }
      if (spec.kind === "textarea") {
        input = el("textarea", { id: id, name: spec.name, rows: "5" });
        input.value = spec.value || "";
      } else if (spec.kind === "country" || spec.kind === "choice") {
        input = el("select", { id: id, name: spec.name });
        input.appendChild(el("option", { value: "" }, spec.placeholder || "Choose…"));
        for (var i = 0; i < spec.options.length; i++) {
          var option = el("option", { value: spec.options[i][0] }, spec.options[i][1]);
          option.selected = spec.options[i][0] === spec.value;
          input.appendChild(option);
        }
      } else {
        input = el("input", { id: id, name: spec.name, type: spec.input_type || "text" });
        if (spec.kind === "checkbox") {
          input.checked = !!spec.checked;
        } else {
          input.value = spec.value || "";
        }
      }
      if (spec.required) {
        input.required = true;
      }
      if (spec.max_length) {
        input.maxLength = spec.max_length;
      }
      if (spec.placeholder && spec.kind !== "country" && spec.kind !== "choice") {
        input.placeholder = spec.placeholder;
      }
      if (spec.autocomplete) {
        input.setAttribute("autocomplete", spec.autocomplete);
      }
      var help = null;
      if (spec.help_text) {
        help = el("p", { class: "lb-help", id: id + "-help" }, spec.help_text);
        input.setAttribute("aria-describedby", id + "-help");
      }
      var error = el("p", { class: "lb-error", id: id + "-error" });
      error.hidden = true;
      if (spec.kind === "checkbox") {
        wrap.appendChild(input);
        wrap.appendChild(label);
      } else {
        wrap.appendChild(label);
        if (help) {
          wrap.appendChild(help);
          help = null;
        }
        wrap.appendChild(input);
      }
      if (help) {
        wrap.appendChild(help);
      }
      wrap.appendChild(error);
      form.appendChild(wrap);
      inputs[spec.name] = input;
      errorNodes[spec.name] = error;
    }

    for (var f = 0; f < config.fields.length; f++) {
      field(config.fields[f]);
    }
    if (config.consent) {
      field({
        name: config.consent.name,
        kind: "checkbox",
        input_type: "checkbox",
        label: config.consent.text,
        required: config.consent.required,
        checked: false,
      });
    }
    var trap = el("div", { class: "lb-hp", "aria-hidden": "true" });
    hide(trap);
    trap.appendChild(el("label", { for: prefix + "hp" }, "Leave this field empty"));
    var honeypot = el("input", {
      type: "text",
      id: prefix + "hp",
      name: config.honeypot,
      tabindex: "-1",
      autocomplete: "off",
    });
    trap.appendChild(honeypot);
    form.appendChild(trap);
    var button = el("button", { type: "submit", class: "lb-submit" }, config.submitLabel);
    form.appendChild(button);

    var key = newKey();
    var sending = false;

    function showErrors(detail, errors) {
      var first = null;
      for (var name in errorNodes) {
        if (Object.prototype.hasOwnProperty.call(errorNodes, name)) {
          var message = errors && errors[name];
          var node = errorNodes[name];
          node.textContent = message || "";
          node.hidden = !message;
          node.parentNode.classList.toggle("lb-invalid", !!message);
          var input = inputs[name];
          var described = message ? [node.id] : [];
          if (document.getElementById(input.id + "-help")) {
            described.unshift(input.id + "-help");
          }
          if (message) {
            input.setAttribute("aria-invalid", "true");
            first = first || input;
          } else {
            input.removeAttribute("aria-invalid");
          }
          if (described.length) {
            input.setAttribute("aria-describedby", described.join(" "));
          } else {
            input.removeAttribute("aria-describedby");
          }
        }
      }
      alert.textContent = detail || "";
      alert.hidden = !detail;
      if (first) {
        first.focus();
      }
    }

    function values() {
      var data = {};
      for (var name in inputs) {
        if (Object.prototype.hasOwnProperty.call(inputs, name)) {
          var input = inputs[name];
          data[name] = input.type === "checkbox" ? input.checked : input.value;
        }
      }
      data[config.honeypot] = honeypot.value;
      data[config.token.name] = config.token.value;
      for (var u = 0; u < config.utm.length; u++) {
        var utm = params.get(config.utm[u]);
        if (utm) {
          data["lb." + config.utm[u]] = utm;
        }
      }
      data["lb.landing_page"] = ns.landingPage || location.href;
      if (document.referrer) {
        data["lb.referrer"] = document.referrer;
      }
      var visitor = ns.visitorId || cookie("lb_vid");
      if (visitor) {
        data["lb.visitor_id"] = String(visitor);
      }
      return data;
    }

    function done(body) {
      if (body && body.redirect) {
        location.assign(body.redirect);
        return;
      }
      var thanks = el("div", { class: "lb-thanks", role: "status" }, (body && body.message) || config.thankYou);
      thanks.style.whiteSpace = "pre-line";
      form.parentNode.replaceChild(thanks, form);
      container.dispatchEvent(new CustomEvent("leadbase:submitted", { bubbles: true, detail: { form: config.slug } }));
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) {
        return;
      }
      sending = true;
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      fetch(origin + config.path, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": key },
        body: JSON.stringify(values()),
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return {};
            })
            .then(function (body) {
              if (response.ok) {
                done(body);
              } else {
                showErrors(body.detail || "The form could not be sent (error " + response.status + ").", body.errors);
              }
            });
        })
        .catch(function () {
          showErrors("The form could not be sent (no answer from the server). Please try again later.", null);
        })
        .then(function () {
          sending = false;
          button.disabled = false;
          form.removeAttribute("aria-busy");
        });
    });

    container.leadbaseForm = form;
    container.appendChild(form);
    ns.forms.instances.push({ slug: config.slug, form: form });
  }

  function start() {
    var target = findTarget();
    if (!target) {
      target = el("div", { "data-leadbase-form": config.slug });
      if (script && script.parentNode && script.parentNode !== document.head) {
        script.parentNode.insertBefore(target, script.nextSibling);
      } else {
        (document.body || document.documentElement).appendChild(target);
      }
    }
    addStylesheet();
    render(target);
  }

  if (!findTarget() && document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})(/*LEADBASE_CONFIG*/null);
