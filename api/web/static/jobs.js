// The job page asks the server for the job's progress every second and moves the bar; a finished job reloads the page
// (its result or its reason). Without JavaScript the page shows the state at its loading.
(function () {
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "yes") { return; }
  var bar = document.getElementById("job-bar"), count = document.getElementById("job-count"),
      state = document.getElementById("job-status");
  function poll() {
    fetch(box.dataset.progress, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        bar.max = p.total || 1; bar.value = p.done;
        count.textContent = "обработано " + p.done + " из " + p.total;
        state.textContent = p.status_text;
        if (p.finished) { location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
