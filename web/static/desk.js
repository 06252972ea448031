// Progressive enhancement only: the pages work without this file (the run page also refreshes itself).
(function () {
  "use strict";
  var run = document.getElementById("run");
  if (!run || run.getAttribute("data-state") !== "running") { return; }
  var meta = document.querySelector('meta[http-equiv="refresh"]');
  if (meta) { meta.parentNode.removeChild(meta); }
  var id = run.getAttribute("data-run");
  function poll() {
    fetch("/runs/" + id + ".json", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.state !== "running") { window.location.reload(); return; }
        document.getElementById("step").textContent = data.step;
        document.getElementById("progress").value = data.fraction;
        setTimeout(poll, 700);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
