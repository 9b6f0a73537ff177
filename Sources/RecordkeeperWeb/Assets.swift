extension StaticFiles {
    /// The site icon: a filed document on the accent colour.
    static let icon = #"""
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d4f91"/>
        <path d="M9 6h10l5 5v15H9z" fill="#fff"/><path d="M19 6v5h5" fill="#c9d7ec"/><path d="M12 16h9M12 20h9M12 24h6" stroke="#1d4f91" stroke-width="2"/></svg>
        """#

    /// Colours meet WCAG 2.1 AA contrast (text ≥ 4.5:1 on its background); focus is always
    /// visible; layout reflows at 320 px.
    static let css = #"""
    :root { --fg: #1b1b1b; --bg: #ffffff; --muted: #4a4a4a; --accent: #0b4f9c; --line: #c9c9c9; --mark: #fff3a3; --bad: #a10000; --good: #1a6b2a; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
    a { color: var(--accent); }
    a:focus, button:focus, input:focus, select:focus, summary:focus, main:focus, textarea:focus { outline: 3px solid #f0a000; outline-offset: 2px; }
    .skip { position: absolute; left: -999px; top: 0; background: #000; color: #fff; padding: .5em 1em; z-index: 10; }
    .skip:focus { left: 0; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    header.site { display: flex; flex-wrap: wrap; align-items: center; gap: 1em; padding: .5em 1.5em; background: #12294a; color: #fff; }
    header.site a { color: #fff; }
    header.site .brand { font-weight: 700; font-size: 1.2em; text-decoration: none; }
    header.site nav ul { display: flex; flex-wrap: wrap; gap: .25em 1em; list-style: none; margin: 0; padding: 0; }
    header.site nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
    header.site .signout { margin-left: auto; display: flex; gap: .5em; align-items: center; }
    main { max-width: 72em; margin: 0 auto; padding: 1em 1.5em 3em; }
    footer.site { border-top: 1px solid var(--line); color: var(--muted); padding: .5em 1.5em; font-size: .9em; }
    h1 { font-size: 1.6em; margin: .4em 0; }
    h2 { font-size: 1.25em; margin-top: 1.5em; }
    label { display: block; font-weight: 600; }
    .check label { display: inline; font-weight: 400; margin-left: .3em; }
    input, select, textarea, button { font: inherit; }
    input, select, textarea { padding: .35em .5em; border: 1px solid #6b6b6b; border-radius: 3px; max-width: 100%; }
    input[type="search"] { width: 28em; }
    button, .button { display: inline-block; padding: .4em 1em; border: 1px solid var(--accent); border-radius: 3px; background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
    button.danger { background: var(--bad); border-color: var(--bad); }
    header.site button { background: transparent; border-color: #fff; }
    .stack.narrow { max-width: 32em; }
    .stack p { margin: .6em 0; }
    .inline { display: inline; }
    .inline-form { display: flex; gap: .5em; align-items: end; flex-wrap: wrap; }
    .filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(14em, 1fr)); gap: 0 1em; }
    .query { display: flex; gap: .5em; align-items: end; flex-wrap: wrap; }
    .query label { width: 100%; }
    .hint, .meta { color: var(--muted); font-size: .92em; }
    .notice { background: #e8f1fb; border-left: 4px solid var(--accent); padding: .5em 1em; }
    .no-access { color: var(--muted); }
    .notice.warning { background: #fff4e0; border-left-color: #b86e00; }
    .pick { max-height: 14em; overflow: auto; border: 1px solid var(--line); padding: .3em .6em; }
    .pick p { margin: .2em 0; }
    .error { color: var(--bad); font-weight: 600; }
    .ok { color: var(--good); font-weight: 600; }
    mark { background: var(--mark); color: inherit; }
    ol.hits { padding-left: 1.5em; }
    .hit { margin-bottom: 1em; }
    .hit p { margin: .15em 0; }
    ol.transcript { list-style: none; padding: 0; }
    .msg { border-left: 3px solid var(--line); padding: .3em .8em; margin: .6em 0; }
    .msg.system { color: var(--muted); }
    .explain { color: var(--muted); font-style: italic; margin: .2em 0; }
    .msg.gap { border-left: 3px dashed #b86e00; background: #fff4e0; }
    .msg.anchor, .msg:target { border-left-color: #f0a000; background: #fff8e1; }
    .msg-meta { margin: 0; font-size: .92em; }
    .body { white-space: pre-wrap; overflow-wrap: anywhere; }
    .kind { font-size: .8em; text-transform: uppercase; border: 1px solid var(--line); padding: 0 .3em; }
    .attachments { list-style: none; padding: 0; }
    .attachments img { max-width: 320px; max-height: 320px; border: 1px solid var(--line); }
    .attachments .missing { color: var(--muted); font-style: italic; }
    table { border-collapse: collapse; width: 100%; margin: .8em 0; }
    .scan-form input { font-size: 2em; width: 100%; max-width: 16em; letter-spacing: .05em; }
    .scan-status { font-size: 1.2em; font-weight: 600; }
    .scan-status.offline { color: #fff; background: var(--bad); padding: .3em .6em; }
    ol.scan-results { list-style: none; padding: 0; font-size: 1.4em; }
    ol.scan-results li { padding: .3em .6em; margin: .2em 0; border-radius: 3px; }
    .sig-green { background: #1a6b2a; color: #fff; }
    .sig-blue { background: #0b4f9c; color: #fff; }
    .sig-amber { background: #ffd24d; color: #1b1b1b; }
    .sig-red { background: #a10000; color: #fff; }
    .sig-pending { background: #e6e6e6; color: #1b1b1b; }
    .alerts li { margin: .3em 0; padding: .3em .6em; border-left: 6px solid var(--line); }
    .alerts li.alert-critical { border-color: var(--bad); background: #fbeaea; }
    .alerts li.alert-high { border-color: #b35c00; background: #fff1e0; }
    dl.figures { display: flex; flex-wrap: wrap; gap: .5em 2em; }
    dl.figures dt { font-weight: 400; color: var(--muted); }
    dl.figures dd { margin: 0; font-size: 1.3em; font-weight: 700; }
    caption { text-align: left; font-weight: 600; padding: .3em 0; }
    th, td { border-bottom: 1px solid var(--line); padding: .35em .5em; text-align: left; vertical-align: top; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    td code, dd code { overflow-wrap: anywhere; font-size: .88em; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; }
    dl.facts dt { font-weight: 600; }
    dl.facts dd { margin: 0; }
    .pager { display: flex; gap: 1em; align-items: center; margin: 1em 0; }
    .progress progress { width: 20em; }
    code.secret { font-size: 1.1em; background: #f2f2f2; padding: .2em .4em; }
    pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .5em; }
    /* Phones: long addresses and hashes wrap; a table still too wide scrolls inside its own box. */
    @media (max-width: 40em) {
      th, td { overflow-wrap: anywhere; }
      table { display: block; overflow-x: auto; }
      dl.facts { grid-template-columns: 1fr; }
    }
    """#

    /// Progressive enhancement only: upload progress, and a confirmation before destructive
    /// buttons. Every page works without it.
    static let js = #"""
    "use strict";
    document.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest("[data-confirm]") : null;
      if (b && !window.confirm(b.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
    document.documentElement.classList.add("js");
    document.addEventListener("DOMContentLoaded", function () {
      var form = document.getElementById("upload-form");
      if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var box = document.getElementById(form.getAttribute("data-progress"));
        var bar = document.getElementById("upload-bar");
        var status = document.getElementById("upload-status");
        var button = form.querySelector("button[type=submit]");
        box.hidden = false; button.disabled = true;
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.getAttribute("action"));
        xhr.upload.addEventListener("progress", function (ev) {
          if (ev.lengthComputable) {
            var pct = Math.round(ev.loaded * 100 / ev.total);
            bar.value = pct; status.textContent = "Uploaded " + pct + "%";
          }
        });
        xhr.upload.addEventListener("load", function () { bar.removeAttribute("value"); status.textContent = "Uploaded. Ingesting: reading, hashing and indexing every message…"; });
        xhr.addEventListener("load", function () {
          if (xhr.status >= 200 && xhr.status < 400 && xhr.responseURL) { window.location.assign(xhr.responseURL); return; }
          document.open(); document.write(xhr.responseText); document.close();
        });
        xhr.addEventListener("error", function () { status.textContent = "The upload failed (network). Nothing was stored; try again."; button.disabled = false; });
        xhr.send(new FormData(form));
      });
    });
    """#
}
