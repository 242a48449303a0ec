/* Shipway dashboard: small enhancements. Every page works without this file. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    // Parts of the page that only make sense with (or without) a script.
    document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-no-js-only]").forEach(function (el) { el.hidden = true; });

    // Selects that submit their form when picked with a pointer (the team switcher).
    // Arrow keys change a closed select one option at a time, so a keyboard change
    // waits for Enter, or shows the form's button again.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var byKeyboard = false;
      var submit = function () {
        if (select.form.requestSubmit) select.form.requestSubmit();
        else select.form.submit();
      };
      select.addEventListener("keydown", function (event) {
        byKeyboard = true;
        if (event.key === "Enter") { event.preventDefault(); submit(); }
      });
      select.addEventListener("pointerdown", function () { byKeyboard = false; });
      select.addEventListener("change", function () {
        if (!byKeyboard) { submit(); return; }
        select.form.querySelectorAll("[data-no-js-only]").forEach(function (el) { el.hidden = false; });
      });
    });

    // Destructive forms ask first.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });

    // Copy buttons and read-only fields that select themselves.
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        if (!source) return;
        var done = function () {
          var label = button.textContent;
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(done);
        } else {
          source.select();
          document.execCommand("copy");
          done();
        }
      });
    });
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });

    document.querySelectorAll("form[data-framework-form]").forEach(frameworkDefaults);
  });

  /* Framework choice fills in the commands from the catalog embedded in the page. */
  function frameworkDefaults(form) {
    var source = document.getElementById("framework-catalog");
    if (!source) return;
    var catalog = {};
    JSON.parse(source.textContent).forEach(function (f) { catalog[f.key] = f; });
    var field = function (name) { return form.elements.namedItem(name); };
    var framework = field("framework");
    var adapter = field("adapter");
    var filled = field("commands_filled");
    var commands = {
      install_command: "installCommand",
      build_command: "buildCommand",
      output_directory: "outputDirectory",
      fallback_file: "fallbackFile"
    };

    function adapters(entry) {
      var byKey = {};
      entry.adapters.forEach(function (a) { byKey[a.key] = a; });
      return byKey;
    }

    function limitAdapters(entry, keepChoice) {
      var supported = adapters(entry);
      Array.prototype.forEach.call(adapter.options, function (option) {
        option.disabled = !supported[option.value];
      });
      if (!keepChoice || !supported[adapter.value]) adapter.value = entry.defaultAdapter;
    }

    function fill(entry) {
      var chosen = adapters(entry)[adapter.value] || adapters(entry)[entry.defaultAdapter];
      Object.keys(commands).forEach(function (name) {
        var input = field(name);
        if (input) input.value = chosen[commands[name]] || "";
      });
      var runtime = field("build_runtime");
      if (runtime && entry.buildRuntime) runtime.value = entry.buildRuntime;
      if (filled) filled.value = "True";
    }

    function current() { return catalog[framework.value]; }

    if (!framework || !adapter || !current()) return;
    limitAdapters(current(), true);
    // A first visit fills the fields; a form shown again after an error keeps them.
    if (filled && !filled.value) fill(current());

    framework.addEventListener("change", function () {
      limitAdapters(current(), false);
      fill(current());
    });
    adapter.addEventListener("change", function () { fill(current()); });
  }
})();
