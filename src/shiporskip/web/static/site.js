// Progressive enhancement only: every page works without this file.
(function () {
  window.__shiporskip = true; // lets browser tests tell an in-place update from a reload

  // Vote boxes. Pages are the same bytes for everyone (any cache may keep them), so this
  // visitor's own vote and CSRF token come from /api/v1/me, and a vote goes to the JSON
  // API. Without this file the form posts and the page comes back saying the vote counted.
  var RECORDED = {
    ship: "Your vote (Ship) is recorded.",
    skip: "Your vote (Skip) is recorded.",
    withdraw: "Your vote is withdrawn."
  };
  var csrf = null;

  function json(response) {
    return response.ok ? response.json() : Promise.reject(response.status);
  }

  // The buttons as the server draws them for a vote (_partials/vote_choice.html).
  function mark(box, vote) {
    var fieldset = box.querySelector("fieldset");
    if (!fieldset) return;
    fieldset.querySelector("legend").textContent =
      vote ? "Your vote: " + vote.charAt(0).toUpperCase() + vote.slice(1) : "Your vote";
    ["ship", "skip"].forEach(function (value) {
      var button = fieldset.querySelector('button[value="' + value + '"]');
      if (!button) return;
      if (value === vote) button.setAttribute("aria-pressed", "true");
      else button.removeAttribute("aria-pressed");
    });
    var withdraw = fieldset.querySelector('button[value="withdraw"]');
    if (vote && !withdraw) {
      withdraw = document.createElement("button");
      withdraw.type = "submit";
      withdraw.name = "vote";
      withdraw.value = "withdraw";
      withdraw.className = "vote-withdraw";
      withdraw.textContent = "Withdraw";
      fieldset.appendChild(withdraw);
    } else if (!vote && withdraw) {
      withdraw.remove();
    }
  }

  function token() {
    if (csrf) return Promise.resolve(csrf);
    // A first vote: this makes the visitor id and sets its cookie.
    return fetch("/api/v1/session", { credentials: "same-origin" }).then(json).then(function (s) {
      csrf = s.csrf_token;
      return csrf;
    });
  }

  var boxes = document.querySelectorAll(".vote-box[data-tool]");
  if (boxes.length && window.fetch) {
    var slugs = Array.prototype.map.call(boxes, function (box) {
      return box.getAttribute("data-tool");
    });
    fetch("/api/v1/me?tools=" + encodeURIComponent(slugs.join(",")), { credentials: "same-origin" })
      .then(json)
      .then(function (me) {
        csrf = csrf || me.csrf_token;
        Array.prototype.forEach.call(boxes, function (box) {
          mark(box, me.votes[box.getAttribute("data-tool")] || null);
        });
      })
      .catch(function () {});
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var box = form.closest && form.closest(".vote-box[data-tool]");
    var button = event.submitter;
    if (!box || !button || button.name !== "vote" || !window.fetch) return;
    event.preventDefault();
    var slug = box.getAttribute("data-tool");
    token()
      .then(function (t) {
        return fetch("/api/v1/tools/" + encodeURIComponent(slug) + "/vote", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": t },
          body: JSON.stringify({ vote: button.value === "withdraw" ? null : button.value })
        });
      })
      .then(json)
      .then(function (out) {
        box.querySelector(".community-pct").textContent = out.shown;
        box.querySelector(".community small").textContent = out.note;
        mark(box, out.your_vote);
        var notice = box.querySelector(".vote-recorded");
        if (!notice) {
          notice = document.createElement("p");
          notice.className = "vote-recorded";
          notice.setAttribute("role", "status");
          box.querySelector(".community").after(notice);
        }
        notice.textContent = RECORDED[out.your_vote || "withdraw"];
      })
      .catch(function () {
        // The form itself: the server's answer says what went wrong.
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = button.name; keep.value = button.value;
        form.appendChild(keep);
        form.submit();
      });
  });

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
