/*
 * Leadbase tracking snippet. Served at /t/lb.js; put on every page of a site with
 *
 *   <script src="https://leadbase.example/t/lb.js" async></script>
 *
 * It keeps a first-party visitor id in the cookie lb_vid (two years, on the site's own domain),
 * sends a page_view with the URL, title and referrer (UTM values are read from the URL by
 * Leadbase), and gives the page window.leadbase.track(type, properties) for custom events.
 * Leadbase forms on the page (the embed, or plain HTML forms posting to /f/<slug>) send the
 * visitor id with the submission, which links the visitor's events to the lead.
 *
 * Options, as attributes of the script tag:
 *   data-require-consent="true"  send nothing until the page calls leadbase.consent(true);
 *   data-respect-dnt="true"      send nothing when the browser asks not to be tracked
 *                                (Do Not Track or Global Privacy Control);
 *   data-no-page-view="true"     no automatic page_view (call leadbase.page() yourself).
 *
 * Events go out with navigator.sendBeacon as text/plain (no preflight, no cookies sent to
 * Leadbase). No eval, no innerHTML, no inline styles: it runs under a strict CSP that allows
 * the Leadbase origin in script-src and connect-src.
 */
(function () {
  "use strict";
  if (typeof window === "undefined" || typeof document === "undefined") {
    return;
  }
  var ns = (window.leadbase = window.leadbase || {});
  if (ns.tracking) {
    return; // included twice
  }
  var script = document.currentScript;
  if (!script) {
    var scripts = document.querySelectorAll("script[src]");
    for (var s = 0; s < scripts.length; s++) {
      if (/\/t\/lb\.js(\?|$)/.test(scripts[s].src)) {
        script = scripts[s];
      }
    }
  }
  var origin = script ? new URL(script.src, location.href).origin : location.origin;
  var endpoint = origin + "/t/collect";
  var COOKIE = "lb_vid";
  var TWO_YEARS = 63072000;

  function option(name) {
    return !!script && script.getAttribute("data-" + name) === "true";
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        return decodeURIComponent(parts[i].slice(eq + 1));
      }
    }
    return "";
  }

  function randomId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += ("0" + bytes[i].toString(16)).slice(-2);
    }
    return out;
  }

  function visitorId() {
    var id = cookie(COOKIE);
    if (!/^[A-Za-z0-9._-]{8,64}$/.test(id)) {
      id = randomId();
    }
    // Written again on every page: the two years count from the last visit.
    document.cookie =
      COOKIE + "=" + encodeURIComponent(id) + "; Max-Age=" + TWO_YEARS + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
    return id;
  }

  var doNotTrack =
    option("respect-dnt") &&
    (navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true);
  var consented = !option("require-consent");
  var waiting = [];
  var tracking = (ns.tracking = { endpoint: endpoint, sent: 0 });

  function send(events) {
    var body = JSON.stringify({ visitor_id: ns.visitorId, events: events });
    var blob = new Blob([body], { type: "text/plain" });
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, blob)) {
      tracking.sent += events.length;
      return;
    }
    if (window.fetch) {
      fetch(endpoint, { method: "POST", body: body, keepalive: true, mode: "no-cors", credentials: "omit" });
      tracking.sent += events.length;
    }
  }

  function track(type, properties) {
    if (doNotTrack) {
      return false;
    }
    var event = {
      type: String(type),
      timestamp: new Date().toISOString(),
      properties: properties || {},
      event_id: randomId(),
    };
    if (!consented) {
      waiting.push(event);
      return false;
    }
    if (!ns.visitorId) {
      ns.visitorId = visitorId();
    }
    send([event]);
    return true;
  }

  function page() {
    return track("page_view", { url: location.href, title: document.title, referrer: document.referrer });
  }

  function consent(given) {
    consented = !!given;
    if (consented && waiting.length) {
      ns.visitorId = ns.visitorId || visitorId();
      while (waiting.length) {
        send(waiting.splice(0, 20));
      }
      markForms();
    } else if (!consented) {
      waiting = [];
    }
  }

  // Plain HTML forms that post to this Leadbase: add the visitor id as a hidden field.
  function markForms() {
    if (!ns.visitorId) {
      return;
    }
    var forms = document.querySelectorAll("form[action]");
    for (var f = 0; f < forms.length; f++) {
      var action = new URL(forms[f].getAttribute("action"), location.href);
      if (action.origin === origin && action.pathname.indexOf("/f/") === 0 &&
          !forms[f].querySelector('input[name="lb.visitor_id"]')) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "lb.visitor_id";
        input.value = ns.visitorId;
        forms[f].appendChild(input);
      }
    }
  }

  ns.track = track;
  ns.page = page;
  ns.consent = consent;
  ns.landingPage = ns.landingPage || location.href;
  if (!doNotTrack && consented) {
    ns.visitorId = visitorId();
  }
  if (!option("no-page-view")) {
    page();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markForms);
  } else {
    markForms();
  }
})();
