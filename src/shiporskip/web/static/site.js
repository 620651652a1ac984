// Progressive enhancement only: every page works without this file.
(function () {
  // Forms marked data-live update a region of the page in place instead of reloading it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var target = form.getAttribute && form.getAttribute("data-live");
    if (!target) return;
    var region = document.getElementById(target);
    if (!region || !window.fetch) return;
    event.preventDefault();
    var url = form.action + "?" + new URLSearchParams(new FormData(form)).toString();
    fetch(url, { headers: { "X-Partial": target } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById(target);
        if (fresh) region.replaceWith(fresh);
        history.replaceState(null, "", url);
      })
      .catch(function () { form.submit(); });
  });
})();
