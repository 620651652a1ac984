// Progressive enhancement only: every page works without this file.
(function () {
  window.__shiporskip = true; // lets browser tests tell an in-place update from a reload
  // Forms marked data-live update a region of the page in place instead of reloading it:
  // the same request is made with fetch, and the element with that id is swapped.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var target = form.getAttribute && form.getAttribute("data-live");
    if (!target) return;
    var region = document.getElementById(target);
    if (!region || !window.fetch || !window.URLSearchParams) return;
    event.preventDefault();
    var data;
    try { data = new FormData(form, event.submitter); } catch (e) { data = new FormData(form); }
    if (event.submitter && event.submitter.name && !data.has(event.submitter.name)) {
      data.append(event.submitter.name, event.submitter.value);
    }
    var params = new URLSearchParams(data);
    var post = (form.getAttribute("data-method") || form.method).toLowerCase() === "post";
    var url = post ? form.action : form.action + "?" + params.toString();
    var options = post
      ? { method: "POST", body: params, credentials: "same-origin", headers: { "X-Partial": target } }
      : { headers: { "X-Partial": target } };
    fetch(url, options)
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById(target);
        if (!fresh) return Promise.reject("missing region");
        region.replaceWith(fresh);
        if (!post) history.replaceState(null, "", url);
      })
      .catch(function () {
        if (event.submitter && event.submitter.name) {
          var keep = document.createElement("input");
          keep.type = "hidden"; keep.name = event.submitter.name; keep.value = event.submitter.value;
          form.appendChild(keep);
        }
        form.submit();
      });
  });
})();
